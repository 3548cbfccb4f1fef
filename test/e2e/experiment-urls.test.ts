import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EventsRunSummary,
  ExperimentResult,
  RpcRunSummary,
} from '../../load/experiment/result.ts';
import { type Stack, startStack } from '../../load/stack/stack.ts';
import { call } from '../support/http.ts';
import { repoRoot } from '../support/processes.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'cascade-urls-'));
const adminToken = 'urls-mode-admin-token';
let stack: Stack;

// A fault that outlives the load, and policies unlike the stack's own: the runner must undo both.
const scenario = `name: running-stack
downstream:
  failProbability: 0.2
faults:
  - at: 200
    kind: latency
    durationMs: 600000
    latencyMs: 5
load:
  kind: constant
  ratePerSecond: 150
  durationMs: 800
runs:
  - name: rpc
    target: rpc
    policy:
      preset: unsafe
  - name: events
    target: events
    worker:
      concurrency: 4
`;

beforeAll(async () => {
  stack = await startStack({ adminToken, seed: 11 });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const admin = (url: string) => call(url, { headers: { authorization: `Bearer ${adminToken}` } });

describe('cascade-lab experiment --urls (a running stack, nothing restarted)', () => {
  it(
    'runs twice on the same stack, accounts for every event each time, and leaves faults and policies as it found them',
    { timeout: 120_000 },
    async () => {
      const { downstream, gateway, producer, worker } = stack.services;
      const before = {
        gateway: (await admin(`${gateway.url}/admin/policy`)).body,
        worker: (await admin(`${worker.url}/admin/policy`)).body,
        faults: (await admin(`${downstream.url}/admin/faults`)).body,
      };
      const file = path.join(dir, 'running.yaml');
      writeFileSync(file, scenario);
      // `localhost` may also resolve to ::1, where nothing listens: the runner keeps the address that answers.
      const urls = `downstream=${downstream.url},gateway=${gateway.url},producer=${producer.url},worker=${worker.url.replace('127.0.0.1', 'localhost')}`;
      for (const attempt of [1, 2]) {
        const out = path.join(dir, `report-${attempt}`);
        const env: Record<string, string | undefined> = { ...process.env, ADMIN_TOKEN: adminToken };
        const { stderr } = await run(
          process.execPath,
          [builtCli(), 'experiment', file, '--out', out, '--urls', urls],
          { cwd: repoRoot, env },
        );
        expect(stderr).toContain('rpc (rpc), time scale 1: resetting the running stack');
        const result = JSON.parse(
          readFileSync(path.join(out, 'summary.json'), 'utf8'),
        ) as ExperimentResult;
        const [rpc, events] = result.runs as [RpcRunSummary, EventsRunSummary];
        expect([rpc.target, events.target]).toEqual(['rpc', 'events']);
        expect(rpc.ok + rpc.failed + rpc.dropped).toBe(120);
        expect(rpc.retries).toBeGreaterThan(0);
        expect(rpc.attempts).toBe(rpc.downstreamCalls);
        expect(events.sent).toBe(120);
        expect(events.ok + events.dlq).toBe(events.accepted);
        expect(events.lost).toBe(0);
        expect(events.attempts).toBe(events.downstreamCalls);
        // The runner may rightly warn about CPU contention; what must not appear is an accounting problem.
        expect(events.warnings.filter((w) => /disagree with Redis|did not drain/.test(w))).toEqual(
          [],
        );
      }
      // The stack is as the runner found it: no fault left running, the first policies back.
      expect((await admin(`${downstream.url}/admin/faults`)).body).toEqual(before.faults);
      expect((await admin(`${gateway.url}/admin/policy`)).body).toEqual(before.gateway);
      expect((await admin(`${worker.url}/admin/policy`)).body).toEqual(before.worker);
    },
  );
});
