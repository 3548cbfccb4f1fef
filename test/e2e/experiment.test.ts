import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  EventsRunSummary,
  ExperimentResult,
  RpcRunSummary,
} from '../../load/experiment/result.ts';
import { runExperiment } from '../../load/experiment/run-experiment.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import { renderInChromium } from '../support/chromium.ts';
import { repoRoot } from '../support/processes.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'cascade-experiment-'));
/** Kept after the run (git-ignored) so a person can look at the rendered report. */
const artifacts = path.join(repoRoot, 'test-artifacts');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenario = `# A small scenario for the test: both paths, a short error burst mid-run.
name: tiny
seed: 3
downstream:
  failProbability: 0.1
faults:
  - at: 300
    kind: error
    durationMs: 300
    fraction: 0.5
load:
  kind: constant
  ratePerSecond: 200
  durationMs: 2000
runs:
  - name: rpc-safe
    target: rpc
    policy:
      preset: safe
  - name: events
    target: events
    worker:
      concurrency: 8
thresholds:
  - events.lost == 0
  - rpc-safe.amplification < 0.5
`;

describe('cascade-lab experiment', () => {
  it(
    'kills a worker mid-run and starts another: nothing lost, its redelivered calls duplicated unless the receiver is idempotent',
    { timeout: 120_000 },
    async () => {
      // ~9 calls in flight when the worker dies (75 calls/s wall, 120 ms each).
      const scenario = parseScenario(`
name: crash
seed: 4
timeScale: 2
downstream: { baseLatencyMs: 60, failProbability: 0 }
load: { kind: constant, ratePerSecond: 150, durationMs: 1600 }
runs:
  - name: crash
    target: events
    worker: { concurrency: 32, perAttemptTimeoutMs: 1000 }
    killWorker: { at: 800 }
  - name: crash-idem
    target: events
    worker: { concurrency: 32, perAttemptTimeoutMs: 1000 }
    downstream: { idempotentReceiver: true }
    killWorker: { at: 800 }
`);
      const result = await runExperiment(scenario);
      const [crash, idempotent] = result.runs as [EventsRunSummary, EventsRunSummary];
      for (const row of [crash, idempotent]) {
        expect(row.lost, row.name).toBe(0);
        expect(row.ok + row.dlq, row.name).toBe(row.accepted);
        expect(row.faultWindows, row.name).toContainEqual({
          startMs: 800,
          endMs: 800 + 1000,
          kind: 'worker killed',
        });
        // The calls the dead worker had in flight reached the downstream; their attempts never ended.
        expect(row.downstreamCalls, row.name).toBeGreaterThan(row.attempts);
      }
      expect(crash.duplicateEffects).toBeGreaterThan(0);
      expect(idempotent.duplicateEffects).toBe(0);
    },
  );

  it(
    'reads the downstream after the work callers gave up on is done: every abandoned call counted, and wasted unless cancelled',
    { timeout: 90_000 },
    async () => {
      // Every call takes 400 ms more; the gateway gives up after 40 ms and does not retry.
      // Its last answer comes 40 ms after the last request, while the downstream still
      // works on the last 400 ms of them.
      const scenario = parseScenario(`
name: abandoned
# In the model, not a fault: a fault at 0 races the first request.
downstream: { baseLatencyMs: 400, jitterMs: 0 }
load: { kind: constant, ratePerSecond: 50, durationMs: 600 }
runs:
  - { name: rpc, target: rpc, policy: { preset: unsafe, maxRetries: 0, perAttemptTimeoutMs: 40 } }
  - name: cancelled
    target: rpc
    policy: { preset: unsafe, maxRetries: 0, perAttemptTimeoutMs: 40 }
    downstream: { cancelOnDisconnect: true }
`);
      const result = await runExperiment(scenario, { redisUrl: undefined });
      const [rpc, cancelled] = result.runs as [RpcRunSummary, RpcRunSummary];
      for (const row of [rpc, cancelled]) {
        expect(row.sent).toBe(30);
        expect(row.timeouts).toBe(30);
        expect(row.attempts).toBe(30);
        expect(row.downstreamCalls).toBe(30);
        expect(row.warnings.filter((w) => /still in flight/.test(w))).toEqual([]);
      }
      // All 30 finished for nobody; stopped when their caller left, none.
      expect(rpc.wastedWork).toBe(30);
      expect(cancelled.wastedWork).toBe(0);
    },
  );

  it(
    'runs a scenario on fresh stacks, accounts for every request, and writes a report that agrees with the metrics',
    { timeout: 180_000 },
    async () => {
      const file = path.join(dir, 'tiny.yaml');
      writeFileSync(file, scenario);
      const out = path.join(dir, 'report');
      const env = { ...process.env };
      delete env.REDIS_URL;
      // With an admin token the runner must authenticate its own admin calls.
      env.ADMIN_TOKEN = 'experiment-admin-token';
      // The amplification threshold is meant to fail: the exit code says so.
      const failed = await run(
        process.execPath,
        [builtCli(), 'experiment', file, '--out', out, '--time-scale', '2', '--repeat', '2'],
        { cwd: repoRoot, env },
      ).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => error,
      );
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/^run\s+target\s+sent\s+ok\s+fail\s+dropped/);
      expect(failed.stdout).toContain('✓ events.lost == 0 (got 0)');
      expect(failed.stdout).toContain('time scale 2: every time constant ran ×2');
      expect(failed.stdout).toContain('2 repeats per run, interleaved');
      expect(failed.stdout).toMatch(/^ {2}min–max /m);
      expect(failed.stdout).toMatch(/✗ rpc-safe\.amplification < 0\.5 \(got [\d.]+\)/);

      const result = JSON.parse(
        readFileSync(path.join(out, 'summary.json'), 'utf8'),
      ) as ExperimentResult;
      expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain(
        '| run | target | sent | ok |',
      );
      // Ran at scale 2, twice each; what it reports is in model time, medians of the two.
      expect(result.timeScale).toBe(2);
      expect(result.repeat).toBe(2);
      for (const summary of result.runs) {
        expect(summary.repeats).toHaveLength(2);
        expect(summary.intervalMethod).toBe('min–max');
        expect(summary.intervals!.ok![0]).toBeLessThanOrEqual(summary.ok);
        expect(summary.hostOverheadP50Ms).toBeGreaterThan(0);
      }
      const [rpc, events] = result.runs as [RpcRunSummary, EventsRunSummary];
      expect([rpc.target, events.target]).toEqual(['rpc', 'events']);
      expect(rpc.sent).toBe(400);
      expect(rpc.ok + rpc.failed + rpc.dropped).toBe(rpc.sent);
      expect(events.sent).toBe(400);
      expect(events.accepted + (events.failed - events.dlq) + events.dropped).toBe(events.sent);
      expect(events.ok + events.dlq).toBe(events.accepted);
      expect(events.lost).toBe(0);
      for (const summary of [rpc, events]) {
        // Two services' own counters agree: what the caller sent is what the downstream served.
        expect(summary.attempts).toBe(summary.downstreamCalls);
        expect(summary.attempts).toBeGreaterThanOrEqual(summary.ok);
        expect(summary.series.reduce((sum, bucket) => sum + bucket.sent, 0)).toBe(400);
        expect(summary.samples.length).toBeGreaterThan(3);
        // The sampled counters over time end where the before/after difference does.
        const lastAttempts = summary.samples.at(-1)!.attempts!;
        expect(lastAttempts).toBeGreaterThan(0);
        expect(lastAttempts).toBeLessThanOrEqual(
          Math.max(...summary.repeats!.map((repeat) => repeat.attempts ?? 0)),
        );
        // The services' event-loop stalls are sampled (prom-client's max since the last scrape).
        expect(summary.samples.every((sample) => typeof sample.loopLagMs === 'number')).toBe(true);
        expect(summary.maxLoopLagMs).toBeGreaterThan(0);
        // The fault ran at 600–1200 ms of wall time; in model time it is where the scenario put it.
        expect(summary.faultWindows).toEqual([{ startMs: 300, endMs: 600, kind: 'error' }]);
        expect(summary.durationMs).toBeLessThan(3000);
        // A 300 ms half-failure with 1.4 s of healthy load after it: both paths come back (or,
        // with retries hiding it, never fall below 90 % ok in a half-second window).
        expect(['recovered', 'stable']).toContain(summary.recovery.verdict);
      }
      expect(result.thresholds.map((t) => t.passed)).toEqual([true, false]);

      // The HTML report works offline and renders every chart with no console error.
      const html = readFileSync(path.join(out, 'report.html'), 'utf8');
      expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:/);
      expect(html.match(/<svg[^>]*class="repeats"/g)).toHaveLength(5);
      mkdirSync(artifacts, { recursive: true });
      const rendered = await renderInChromium(
        path.join(out, 'report.html'),
        path.join(artifacts, 'report.png'),
      );
      expect(rendered.errors).toEqual([]);
      expect(rendered.requests).toEqual([]);
      // The wasted-work chart only when some run wasted work.
      const charts = result.runs.some((run) => (run.wastedWork ?? 0) > 0) ? 11 : 10;
      expect(rendered.chartTitles).toHaveLength(charts);
      expect(rendered.canvases).toBe(charts);
    },
  );

  it(
    'runs a topic: a row per subscriber, each from its own queue, workers and downstream calls',
    { timeout: 180_000 },
    async () => {
      const file = path.join(dir, 'topic.yaml');
      writeFileSync(
        file,
        `name: topic
seed: 4
timeScale: 2
faults: [{ at: 300, kind: error, durationMs: 600, caller: worker/billing }]
load: { kind: constant, ratePerSecond: 100, durationMs: 1500 }
runs:
  - name: t
    target: events
    producer: { backoff: { kind: fixed, baseMs: 10, capMs: 10, jitter: none } }
    subscribers: [{ name: billing, maxRetries: 1 }, { name: audit }]
thresholds: [t-billing.dlq > 0, t-audit.dlq == 0, t-audit.lost == 0]
`,
      );
      const out = path.join(dir, 'topic-report');
      const env = { ...process.env };
      delete env.REDIS_URL;
      const { stdout } = await run(
        process.execPath,
        [builtCli(), 'experiment', file, '--out', out],
        { cwd: repoRoot, env },
      );
      expect(stdout).toMatch(/^t-billing\s+events\s+150\s/m);
      expect(stdout).toMatch(/^t-audit\s+events\s+150\s/m);
      const result = JSON.parse(
        readFileSync(path.join(out, 'summary.json'), 'utf8'),
      ) as ExperimentResult;
      const [billing, audit] = result.runs as [EventsRunSummary, EventsRunSummary];
      expect([billing.name, audit.name]).toEqual(['t-billing', 't-audit']);
      expect(result.thresholds.map((t) => t.passed)).toEqual([true, true, true]);
      for (const row of [billing, audit]) {
        expect(row.accepted).toBe(150);
        expect(row.ok + row.dlq).toBe(row.accepted);
        expect(row.lost).toBe(0);
        // The downstream counted each subscriber's calls under its caller name.
        expect(row.attempts).toBe(row.downstreamCalls);
        expect(row.samples.every((sample) => sample.retries !== null)).toBe(true);
      }
      expect(billing.dlq).toBeGreaterThan(0);
      expect(audit.dlq).toBe(0);
      expect(billing.retries).toBeGreaterThan(audit.retries);
      // One publish: the generator's view is the same for both rows, the workers' is not.
      expect(billing.series).toEqual(audit.series);
      expect(billing.samples.map((sample) => sample.attempts)).not.toEqual(
        audit.samples.map((sample) => sample.attempts),
      );
      mkdirSync(artifacts, { recursive: true });
      const rendered = await renderInChromium(
        path.join(out, 'report.html'),
        path.join(artifacts, 'topic-report.png'),
      );
      expect(rendered.errors).toEqual([]);
      expect(rendered.canvases).toBe(9);
    },
  );
});
