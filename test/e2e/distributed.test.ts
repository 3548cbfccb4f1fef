import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../load/stack/stack.ts';
import type {
  EventsRunSummary,
  ExperimentResult,
  RpcRunSummary,
} from '../../load/experiment/result.ts';
import { renderInChromium } from '../support/chromium.ts';
import { repoRoot } from '../support/processes.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'cascade-distributed-'));
const adminToken = 'split-run-admin-token';
let stack: Stack | undefined;
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('cascade-lab experiment --generators', () => {
  it(
    'sends each run from 2 generator processes on one clock: exact accounting summed over them, equal to the scenario’s arrivals',
    { timeout: 180_000 },
    async () => {
      const file = path.join(dir, 'two.yaml');
      // Bursts of 75: each generator sends 37 or 38 of every one.
      writeFileSync(
        file,
        `name: two-generators
seed: 5
downstream: { failProbability: 0.1 }
load: { kind: bursts, total: 450, burst: 75, gapMs: 150 }
runs:
  - { name: rpc, target: rpc, policy: { preset: safe } }
  - { name: events, target: events, worker: { concurrency: 16 } }
thresholds: [events.lost == 0]
`,
      );
      const out = path.join(dir, 'report');
      const env = { ...process.env };
      delete env.REDIS_URL;
      const { stdout } = await run(
        process.execPath,
        [builtCli(), 'experiment', file, '--generators', '2', '--out', out],
        { cwd: repoRoot, env },
      );
      expect(stdout).toMatch(/rpc: load from 2 generators/);
      const result = JSON.parse(
        readFileSync(path.join(out, 'summary.json'), 'utf8'),
      ) as ExperimentResult;
      const [rpc, events] = result.runs as [RpcRunSummary, EventsRunSummary];
      for (const row of [rpc, events]) {
        // Summed over the generators, and equal to the schedule's arrivals.
        expect(row.sent, row.name).toBe(450);
        expect(row.ok + row.failed + row.dropped, row.name).toBe(450);
        const shares = row.generators!;
        expect(shares.map((g) => g.segment)).toEqual(['0/2', '1/2']);
        expect(shares.map((g) => g.sent)).toEqual([225, 225]);
        expect(shares.reduce((sum, g) => sum + g.ok + g.failed + g.dropped, 0)).toBe(450);
        // The series add up to the same arrivals, on the one clock.
        expect(row.series.reduce((sum, bucket) => sum + bucket.sent, 0)).toBe(450);
      }
      // Service-side figures are the coordinator's, as with one generator.
      expect(rpc.attempts).toBe(rpc.downstreamCalls);
      expect(rpc.attempts).toBeGreaterThanOrEqual(450);
      expect(events.accepted).toBe(events.ok + events.dlq);
      expect(events.lost).toBe(0);
      expect(result.thresholds.every((t) => t.passed)).toBe(true);
      const rendered = await renderInChromium(
        path.join(out, 'report.html'),
        path.join(dir, 'report.png'),
      );
      expect(rendered.errors).toEqual([]);
    },
  );
});

describe('cascade-lab experiment --segment i/n (one run split across generators on a running stack)', () => {
  beforeAll(async () => {
    stack = await startStack({ adminToken, seed: 13 });
  }, 60_000);

  it(
    'segment 0 sets the stack up, injects the faults and reads the services; merged, the run counts everyone’s load exactly',
    { timeout: 180_000 },
    async () => {
      const { downstream, gateway, producer, worker } = stack!.services;
      const urls = `downstream=${downstream.url},gateway=${gateway.url},producer=${producer.url},worker=${worker.url}`;
      const file = path.join(dir, 'split.yaml');
      writeFileSync(
        file,
        `name: split
seed: 2
faults:
  - { at: 300, kind: error, durationMs: 300, fraction: 0.5 }
load: { kind: bursts, total: 300, burst: 60, gapMs: 200 }
runs:
  - { name: safe, target: rpc, policy: { preset: safe } }
  - { name: events, target: events }
thresholds: [safe.ok > 0, events.lost == 0]
`,
      );
      const env = { ...process.env, ADMIN_TOKEN: adminToken };
      for (const runName of ['safe', 'events']) {
        const parts = path.join(dir, `parts-${runName}`);
        // Far enough ahead for three CLIs to start under a busy suite (a start in the past
        // is refused), and for segment 0 to reset the stack and warm up: the built CLIs
        // passed with 2.5 s here (twice); 8 s leaves three times that.
        const startAt = String(Date.now() + 8_000);
        await Promise.all(
          [0, 1, 2].map((index) =>
            run(
              process.execPath,
              [
                builtCli(),
                'experiment',
                file,
                '--run',
                runName,
                '--segment',
                `${index}/3`,
                '--start-at',
                startAt,
                '--urls',
                urls,
                '--out',
                parts,
              ],
              { cwd: repoRoot, env },
            ),
          ),
        );
        const out = path.join(dir, `merged-${runName}`);
        const { stdout } = await run(
          process.execPath,
          [
            builtCli(),
            'merge',
            ...[0, 1, 2].map((i) => path.join(parts, `${runName}-part-${i}-of-3.json`)),
            '--out',
            out,
          ],
          { cwd: repoRoot },
        );
        expect(stdout).toContain(`${runName}: load from 3 generators`);
        const result = JSON.parse(
          readFileSync(path.join(out, 'summary.json'), 'utf8'),
        ) as ExperimentResult;
        expect(result.runs).toHaveLength(1);
        const [row] = result.runs;
        expect(row!.sent).toBe(300);
        expect(row!.ok + row!.failed + row!.dropped).toBe(300);
        expect(row!.generators!.map((g) => g.sent)).toEqual([100, 100, 100]);
        // The coordinator's scrapes counted every generator's requests, not only its own.
        expect(row!.attempts).toBe(row!.downstreamCalls);
        expect(row!.attempts!).toBeGreaterThanOrEqual(300);
        // Its fault timeline ran from the shared start.
        expect(row!.faultWindows).toContainEqual({ startMs: 300, endMs: 600, kind: 'error' });
        // Only the scenario's thresholds on this run are judged.
        expect(result.thresholds.map((t) => t.expression)).toEqual([
          runName === 'safe' ? 'safe.ok > 0' : 'events.lost == 0',
        ]);
        expect(result.thresholds[0]!.passed).toBe(true);
        if (runName === 'events') {
          const events = row as EventsRunSummary;
          expect(events.accepted).toBe(events.ok + events.dlq);
          expect(events.lost).toBe(0);
        } else expect((row as RpcRunSummary).retries).toBeGreaterThan(0);
      }
    },
  );
});
