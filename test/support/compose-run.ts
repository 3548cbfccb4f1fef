import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExperimentResult } from '../../load/experiment/result.ts';
import { type CommandResult, type ComposeProject, docker } from './compose.ts';
import { call, eventually } from './http.ts';
import { repoRoot } from './processes.ts';

/**
 * The services `docker compose up` starts (no profile), split into those that can run
 * here — built by compose, or an image present or pullable — and those whose image
 * cannot be had (Grafana where no registry answers), with that image.
 */
export async function composeServices(project: ComposeProject) {
  const { stdout } = await project.compose(['config', '--format', 'json']);
  const config = JSON.parse(stdout) as {
    services: Record<string, { image?: string; build?: unknown }>;
  };
  const runnable: string[] = [];
  const unavailable: Array<[string, string]> = [];
  for (const [name, service] of Object.entries(config.services)) {
    const image = service.image ?? '';
    const present = async () => (await docker(['image', 'inspect', image])).code === 0;
    if (service.build !== undefined || (await present())) runnable.push(name);
    else if ((await project.compose(['pull', name], { timeoutMs: 120_000 })).code === 0)
      runnable.push(name);
    else unavailable.push([name, image]);
  }
  return { runnable, unavailable };
}

/** The summary an experiment or merge wrote, by the `report:` line it printed. */
export function summaryOf(stdout: string): { dir: string; summary: ExperimentResult } {
  const dir = /^report: (\S+)\/summary\.json/m.exec(stdout)?.[1];
  if (!dir) throw new Error(`no report line in:\n${stdout.slice(-2000)}`);
  const summary = JSON.parse(
    readFileSync(path.join(repoRoot, dir, 'summary.json'), 'utf8'),
  ) as ExperimentResult;
  return { dir, summary };
}

/** Calls `poll` every second until `running` settles. */
export async function untilDone(running: Promise<CommandResult>, poll: () => Promise<void>) {
  let done = false;
  void running.finally(() => (done = true));
  while (!done) {
    await poll();
    await sleep(1000);
  }
}

/**
 * Publishes events one after another while Redis is killed and started again; answers the
 * ids that got a 202 and the statuses answered while it was down. Waits on state: answers
 * while up, answers while down, then 202s again after the start.
 */
export async function publishThroughCrash(
  producerUrl: string,
  redis: { kill(): Promise<CommandResult>; start(): Promise<CommandResult> },
): Promise<{ accepted: string[]; downAnswers: number[] }> {
  const answers: Array<{ id: string; status: number; phase: string }> = [];
  let phase = 'up';
  let publishing = true;
  const publisher = (async () => {
    for (let i = 0; publishing; i += 1) {
      const id = `crash-${i}`;
      const postedIn = phase;
      const status = await call(`${producerUrl}/events`, { body: { id } }).then(
        (response) => response.status,
        () => 0,
      );
      answers.push({ id, status, phase: postedIn === phase ? postedIn : 'transition' });
      await sleep(5);
    }
  })();
  const inPhase = (name: string) => answers.filter((answer) => answer.phase === name);
  try {
    await eventually(() => check(inPhase('up').length > 30, 'answers while up'), 30_000);
    phase = 'transition';
    if ((await redis.kill()).code !== 0) throw new Error('docker kill failed');
    phase = 'down';
    await eventually(() => check(inPhase('down').length > 2, 'answers while down'), 60_000);
    phase = 'transition';
    if ((await redis.start()).code !== 0) throw new Error('docker start failed');
    phase = 'back';
    await eventually(
      () => check(inPhase('back').filter((a) => a.status === 202).length > 10, '202s again'),
      120_000,
    );
  } finally {
    publishing = false;
    await publisher;
  }
  if (!inPhase('up').every((answer) => answer.status === 202))
    throw new Error(
      `not every answer while Redis was up was 202: ${JSON.stringify(
        inPhase('up')
          .filter((a) => a.status !== 202)
          .slice(0, 5),
      )}`,
    );
  return {
    accepted: answers.filter((answer) => answer.status === 202).map((answer) => answer.id),
    downAnswers: inPhase('down').map((answer) => answer.status),
  };
}

/** A plain assertion for `eventually`, outside a test's `expect`. */
function check(condition: boolean, what: string) {
  if (!condition) throw new Error(`still waiting for ${what}`);
}
