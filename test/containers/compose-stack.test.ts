import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '../../load/distributed/results-store.ts';
import type { RunSummary } from '../../load/experiment/result.ts';
import { subscriberQueue } from '../../services/shared/topic.ts';
import {
  activeTargets,
  type CommandResult,
  type ComposeProject,
  composeProject,
  docker,
  prometheusApi,
} from '../support/compose.ts';
import { requireEngine } from '../support/containers.ts';
import {
  asGrafanaSends,
  committedDashboards,
  dashboardQueries,
  recordingRules,
} from '../support/dashboards.ts';
import { inspectQueues } from '../support/event-path.ts';
import { call, eventually } from '../support/http.ts';
import { repoRoot } from '../support/processes.ts';
import {
  composeServices,
  publishThroughCrash,
  summaryOf,
  untilDone,
} from '../support/compose-run.ts';

/**
 * The stack as its users run it: the project's image built from its Dockerfile, `docker
 * compose up`, the documented experiment, Prometheus read over its API, Redis killed under
 * load, the split run's generator containers, and `down -v`. One stack for the whole file.
 */
let project: ComposeProject;
let started: string[] = [];
const timings: Record<string, number> = {};
const before = { containers: '', networks: '', volumes: '' };
/** When the documented experiment ran (Prometheus seconds), for range queries. */
const window = { start: 0, end: 0 };
const reports: string[] = [];
const subscribers = ['billing', 'audit', 'analytics'];

const succeeded = (result: CommandResult, what: string) =>
  expect(result.code, `${what} failed:\n${result.stderr.slice(-3000)}`).toBe(0);
const listing = async (kind: 'ps' | 'network' | 'volume') =>
  (await docker(kind === 'ps' ? ['ps', '-aq'] : [kind, 'ls', '-q'])).stdout
    .split('\n')
    .sort()
    .join(' ');

beforeAll(async () => {
  await requireEngine();
  project = await composeProject('cascade-lab-test');
  await project.compose(['--profile', '*', 'down', '-v', '--remove-orphans']);
  before.containers = await listing('ps');
  before.networks = await listing('network');
  before.volumes = await listing('volume');
  const build = await project.compose(['build'], { timeoutMs: 900_000 });
  succeeded(build, 'docker compose build');
  timings.build = build.seconds;
  const { runnable, unavailable } = await composeServices(project);
  started = runnable;
  for (const [service, image] of unavailable)
    console.warn(
      `compose: ${service} not started: its image ${image} cannot be had here (no registry answers, and it cannot be built from Debian's packages or npm); its provisioning and dashboards are checked without it (deploy-config and observability tests, and the panel queries below)`,
    );
  const up = await project.compose(['up', '-d', '--wait', ...started], { timeoutMs: 600_000 });
  succeeded(up, 'docker compose up -d --wait');
  timings.up = up.seconds;
}, 1_800_000);

afterAll(async () => {
  await project?.compose(['--profile', '*', 'down', '-v', '--remove-orphans']);
  project?.removeTempFiles();
  for (const dir of reports) rmSync(path.join(repoRoot, dir), { recursive: true, force: true });
  console.log(`compose timings (s): ${JSON.stringify(timings)}`);
});

describe('docker compose: the stack as its users run it', () => {
  it('builds the image and brings every service that can run up healthy', async () => {
    expect(started).toEqual(expect.arrayContaining(['redis', 'gateway', 'prometheus']));
    const { stdout } = await project.compose(['ps', '--format', 'json']);
    const rows = stdout
      .trim()
      .split('\n')
      .flatMap((line) => JSON.parse(line) as object | object[]) as Array<{
      Service: string;
      State: string;
      Health: string;
    }>;
    // Three worker groups of WORKER_REPLICAS (2) each, and one container of everything else.
    expect(rows.length).toBe(started.length + subscribers.length);
    for (const row of rows) {
      expect(row.State, row.Service).toBe('running');
      expect(row.Health, row.Service).toBe('healthy');
    }
  });

  it('answers POST /rpc and POST /events through the published ports; every subscriber completes the event', async () => {
    const rpc = await call(`${project.gatewayUrl}/rpc`, { body: { id: 'compose-rpc-1' } });
    expect(rpc.status).toBe(200);
    expect(rpc.body.id).toBe('compose-rpc-1');
    expect(rpc.body.attempts).toBeGreaterThanOrEqual(1);
    const event = await call(`${project.producerUrl}/events`, { body: { id: 'compose-ev-1' } });
    expect(event.status).toBe(202);
    expect(event.body).toEqual({ jobId: 'compose-ev-1' });
    await eventually(async () => {
      const counts = await call(`${project.producerUrl}/admin/queue`);
      const each = counts.body.subscribers as Array<{ name: string; completed: number }>;
      expect(each.map((s) => [s.name, s.completed])).toEqual(subscribers.map((n) => [n, 1]));
    }, 30_000);
  });

  it('is scraped by Prometheus: every service and every worker replica a target that is up', async () => {
    await eventually(async () => {
      const targets = await activeTargets(project.prometheusUrl);
      const up = targets.filter((t) => t.health === 'up').map((t) => t.labels.job);
      expect(up.sort()).toEqual(
        [
          'downstream',
          'gateway',
          'producer',
          ...Array<string>(2 * subscribers.length).fill('worker'),
        ].sort(),
      );
    }, 60_000);
  });

  it(
    'runs the documented experiment (outage.yaml): exit 0, exact accounting, a report; Prometheus scrapes the generator while it runs',
    { timeout: 900_000 },
    async () => {
      window.start = Date.now() / 1000;
      const running = project.compose(
        ['run', '--rm', '--use-aliases', 'load', 'experiment', 'scenarios/outage.yaml'],
        { timeoutMs: 900_000 },
      );
      let generatorScraped = false;
      const watch = untilDone(running, async () => {
        const targets = await activeTargets(project.prometheusUrl).catch(() => []);
        generatorScraped ||= targets.some((t) => t.labels.job === 'loadgen' && t.health === 'up');
      });
      const result = await running;
      await watch;
      window.end = Date.now() / 1000;
      timings.experiment = result.seconds;
      succeeded(result, 'docker compose run load experiment scenarios/outage.yaml');
      expect(generatorScraped, 'the loadgen target was up while the experiment ran').toBe(true);
      expect(result.stdout).toContain('✓ events-billing.lost == 0');
      const { dir, summary } = summaryOf(result.stdout);
      reports.push(dir);
      expect(summary.runs.map((run) => run.name)).toEqual([
        'rpc-safe',
        'rpc-unsafe',
        ...subscribers.map((name) => `events-${name}`),
      ]);
      for (const run of summary.runs) {
        // 200/s for 6 s of model time; every request accounted for.
        expect(run.sent, run.name).toBe(1200);
        if (run.target === 'events') {
          expect(run.lost, run.name).toBe(0);
          expect(run.accepted, run.name).toBe(run.ok + run.dlq);
          expect(run.ok + run.failed + run.dropped, run.name).toBe(run.sent);
        } else expect(run.ok + run.failed + run.dropped, run.name).toBe(run.sent);
      }
      const html = readFileSync(path.join(repoRoot, dir, 'report.html'), 'utf8');
      for (const run of summary.runs) expect(html).toContain(run.name);
    },
  );

  it('evaluates every recording and alerting rule without error', async () => {
    const { groups } = await prometheusApi<{
      groups: Array<{
        rules: Array<{ name: string; type: string; health: string; lastError?: string }>;
      }>;
    }>(project.prometheusUrl, 'rules');
    const rules = groups.flatMap((group) => group.rules);
    expect(rules.filter((rule) => rule.type === 'recording').length).toBe(recordingRules().length);
    expect(rules.filter((rule) => rule.type === 'alerting').length).toBe(4);
    for (const rule of rules) {
      expect(rule.health, `${rule.name}: ${rule.lastError ?? ''}`).toBe('ok');
      expect(rule.lastError ?? '', rule.name).toBe('');
    }
  });

  const panels = Object.entries(committedDashboards()).flatMap(([file, board]) =>
    dashboardQueries(file, board),
  );
  it.each(panels.map((query) => [query.where, query.expr]))(
    'panel %s returns data during the experiment: %s',
    async (_where, expr) => {
      const params = new URLSearchParams({
        query: asGrafanaSends(expr),
        start: String(window.start),
        end: String(window.end),
        step: '2',
      });
      const data = await prometheusApi<{ result: unknown[] }>(
        project.prometheusUrl,
        `query_range?${params.toString()}`,
      );
      expect(data.result.length, `no series for ${expr}`).toBeGreaterThan(0);
    },
  );

  it(
    'splits one run across two generator containers: totals equal the schedule, percentiles exact',
    { timeout: 600_000 },
    async () => {
      const runId = `compose-test-${Date.now()}`;
      const result = await project.compose(['--profile', 'split', 'run', '--rm', 'merge'], {
        env: { SPLIT_RUN_ID: runId },
        timeoutMs: 600_000,
      });
      timings.split = result.seconds;
      succeeded(result, 'docker compose --profile split run --rm merge');
      expect(result.stdout).toContain('load from 2 generators');
      const { dir, summary } = summaryOf(result.stdout);
      reports.push(dir);
      const [merged] = summary.runs as [RunSummary];
      const store = new ResultsStore(project.witnessRedisUrl, runId);
      const parts = (await store.read()).map(({ part }) => part);
      await store.close();
      expect(parts.map((part) => part.segment.index).sort()).toEqual([0, 1]);
      const arrivals = parts[0]!.schedule.arrivals;
      expect(arrivals).toBe(1200);
      expect(merged.sent).toBe(arrivals);
      expect(parts.map((part) => part.result.sent)).toEqual([600, 600]);
      // Percentiles of every latency in one histogram, recomputed here from the parts.
      const all = hdr.build({
        numberOfSignificantValueDigits: 3,
        highestTrackableValue: 3_600_000_000,
      });
      for (const part of parts)
        all.add(hdr.decodeFromCompressedBase64(part.result.recorded.latency.split('~')[1]!));
      const k = summary.timeScale;
      const model = (us: number) => us / 1000 / k;
      expect(merged.p50Ms).toBeCloseTo(model(all.getValueAtPercentile(50)), 1);
      expect(merged.p99Ms).toBeCloseTo(model(all.getValueAtPercentile(99)), 1);
      expect(all.totalCount).toBe(merged.ok + merged.failed);
    },
  );

  it(
    'loses nothing that got a 202 when the Redis container is SIGKILLed while events are published',
    { timeout: 300_000 },
    async () => {
      const redis = await project.containerOf('redis');
      const { accepted, downAnswers } = await publishThroughCrash(project.producerUrl, {
        kill: () => docker(['kill', '--signal', 'KILL', redis]),
        start: () => docker(['start', redis]),
      });
      expect(downAnswers.length).toBeGreaterThan(0);
      expect(downAnswers.every((status) => status === 503)).toBe(true);
      for (const name of subscribers) {
        const queues = inspectQueues(
          project.witnessRedisUrl,
          subscriberQueue('events', name),
          'cascade',
        );
        try {
          await eventually(async () => {
            const finished = new Set([
              ...(await queues.completedIds()),
              ...(await queues.deadLetteredIds()),
            ]);
            expect(
              accepted.filter((id) => !finished.has(id)),
              name,
            ).toEqual([]);
          }, 120_000);
        } finally {
          await queues.close();
        }
      }
      console.log(
        `compose Redis SIGKILL: ${accepted.length} accepted, ${downAnswers.length} answered 503 while it was down, every one completed or dead-lettered in each of ${subscribers.length} subscribers`,
      );
    },
  );

  it('leaves no container, network or volume behind after docker compose down -v', async () => {
    const down = await project.compose(['--profile', '*', 'down', '-v', '--remove-orphans']);
    succeeded(down, 'docker compose down -v');
    timings.down = down.seconds;
    expect(await listing('ps')).toBe(before.containers);
    expect(await listing('network')).toBe(before.networks);
    expect(await listing('volume')).toBe(before.volumes);
    expect(existsSync(path.join(repoRoot, 'reports'))).toBe(true);
  });
});
