import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { call, eventually } from '../support/http.ts';
import type { EventsRunSummary, ExperimentResult } from '../../load/experiment/result.ts';
import { repoRoot } from '../support/processes.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('cascade-lab up', () => {
  it(
    'starts Redis, the services and a worker per subscriber of a three-subscriber topic, serves both paths, takes an experiment with a row per subscriber, and Ctrl-C leaves nothing behind',
    { timeout: 180_000 },
    async () => {
      const env = { ...process.env };
      delete env.REDIS_URL;
      const up = spawn(process.execPath, [builtCli(), 'up'], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      up.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      up.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        await eventually(() => expect(stdout).toContain('Ctrl-C stops everything.'), 60_000);
        const services: Record<string, { url: string; pid: number; log: string }> = {};
        for (const m of stdout.matchAll(/^ {2}(\S+)\s+(\S+)\s+pid (\d+)\s+log (\S+)$/gm)) {
          services[m[1]!] = { url: m[2]!, pid: Number(m[3]), log: m[4]! };
        }
        expect(Object.keys(services).sort()).toEqual([
          'downstream',
          'gateway',
          'producer',
          'worker/analytics',
          'worker/audit',
          'worker/billing',
        ]);
        expect(stdout).toMatch(/redis\s+redis:\/\/127\.0\.0\.1:\d+\s+\((binary|env|container)\)/);

        const rpc = await call(`${services.gateway!.url}/rpc`, { body: { id: 'up-1' } });
        expect(rpc.status).toBe(200);
        expect(
          (await call(`${services.producer!.url}/events`, { body: { id: 'up-1' } })).status,
        ).toBe(202);
        // One event, one job per subscriber, each done by its own worker.
        await eventually(async () => {
          const queue = (await call(`${services.producer!.url}/admin/queue`)).body as {
            completed: number;
            subscribers: Array<{ name: string; completed: number }>;
          };
          expect(queue.completed).toBe(3);
          expect(queue.subscribers.map(({ name, completed }) => [name, completed])).toEqual([
            ['billing', 1],
            ['audit', 1],
            ['analytics', 1],
          ]);
        });

        // The line `up` prints runs an experiment on it; the topic gives a row per subscriber.
        const urls = /--urls (\S+)/.exec(stdout)?.[1];
        expect(urls?.match(/worker=/g)).toHaveLength(3);
        const dir = mkdtempSync(path.join(tmpdir(), 'cascade-up-'));
        const scenario = path.join(dir, 'topic.yaml');
        writeFileSync(
          scenario,
          [
            'name: on-up',
            'load: { kind: constant, ratePerSecond: 100, durationMs: 600 }',
            'runs: [{ name: events, target: events }]',
            'thresholds: [events.lost == 0]',
          ].join('\n'),
        );
        const experiment = await run(
          process.execPath,
          [builtCli(), 'experiment', scenario, '--out', dir, '--urls', urls!],
          { cwd: repoRoot, env },
        );
        expect(experiment.stderr).toContain(
          'publishes to a topic with subscribers billing, audit, analytics',
        );
        const result = JSON.parse(
          readFileSync(path.join(dir, 'summary.json'), 'utf8'),
        ) as ExperimentResult;
        expect(result.thresholds.map(({ expression, passed }) => [expression, passed])).toEqual([
          ['events-billing.lost == 0', true],
          ['events-audit.lost == 0', true],
          ['events-analytics.lost == 0', true],
        ]);
        for (const row of result.runs as EventsRunSummary[]) {
          expect(row.accepted).toBe(60);
          expect(row.ok + row.dlq).toBe(60);
          // Each row counts its own subscriber's jobs and its own workers' calls.
          expect(row.attempts).toBe(row.downstreamCalls);
          expect(row.warnings.filter((w) => /disagree with Redis|did not drain/.test(w))).toEqual(
            [],
          );
        }
        rmSync(dir, { recursive: true, force: true });

        const logDir = path.dirname(services.gateway!.log);
        expect(existsSync(logDir)).toBe(true);
        up.kill('SIGINT');
        const [code] = (await once(up, 'exit')) as [number | null];
        expect(code).toBe(0);
        expect(stderr).toContain('cascade-lab up: stopped');
        for (const service of Object.values(services)) expect(isAlive(service.pid)).toBe(false);
        expect(existsSync(logDir)).toBe(false);
      } finally {
        if (up.exitCode === null) up.kill('SIGKILL');
      }
    },
  );
});
