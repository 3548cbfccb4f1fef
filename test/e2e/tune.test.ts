import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCliEnv } from '../../load/cli/env.ts';
import { runOptionsOf } from '../../load/cli/run-options.ts';
import { runTuneCommand } from '../../load/cli/tune.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import type { TuneResult } from '../../load/tune/run-tune.ts';
import { runTune } from '../../load/tune/run-tune.ts';
import { startHttpServer } from '../support/third-party.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cascade-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No load effect: a downstream with room for far more than the load, so only the model's
// independent failures decide, and no breaker or bulkhead between.
const noLoadEffect = 'capacityRps: 100000, overloadFailProbability: 0, jitterMs: 0';

describe('cascade-lab tune on spaces whose answer is known', () => {
  it(
    'against a downstream that fails every call, recommends no retries when amplification is the objective',
    { timeout: 240_000 },
    async () => {
      const file = path.join(dir, 'always-fails.yaml');
      writeFileSync(
        file,
        `name: always-fails
seed: 2
downstream: { failProbability: 1, ${noLoadEffect} }
load: { kind: constant, ratePerSecond: 100, durationMs: 600 }
runs:
  - { name: rpc, target: rpc, policy: { preset: unsafe, maxRetries: 3 } }
tune:
  fields: [{ path: policy.maxRetries, values: [0, 1, 3] }]
  objectives: [amplification]
  constraints: { maxErrorRate: 1 }
  rungs: [1, 2]
`,
      );
      const outDir = path.join(dir, 'always-fails');
      const output: string[] = [];
      const status = await runTuneCommand(file, runOptionsOf({ out: outDir }, loadCliEnv({})), {
        out: (text) => output.push(text),
        err: () => undefined,
        interactive: false,
      });
      expect(status).toBe(0);
      const result = JSON.parse(readFileSync(path.join(outDir, 'tune.json'), 'utf8')) as TuneResult;
      // Four candidates (the policy as given and the three values), the best two promoted.
      expect(result.rungs.map((rung) => rung.evaluations.length)).toEqual([4, 2]);
      const recommended = result.candidates.find((c) => c.id === result.answer!.recommended.id)!;
      expect(recommended.values).toEqual({ 'policy.maxRetries': 0 });
      expect(result.answer!.recommended.objectives.amplification).toBe(1);
      expect(result.answer!.given.onFront).toBe(false);
      const [put] = result.answer!.apply.puts;
      expect(put!.service).toBe('gateway');
      expect((put!.body as { maxRetries: number }).maxRetries).toBe(0);
      const text = output.join('');
      expect(text).toMatch(/recommended: c\d+ \(policy\.maxRetries=0\)/);
      expect(text).toContain('curl -X PUT "$GATEWAY/admin/policy"');
      expect(existsSync(path.join(outDir, 'report.html'))).toBe(true);
      expect(readFileSync(path.join(outDir, 'report.html'), 'utf8')).toContain(
        'class="tune-front"',
      );

      // The same command with the same folder reuses both rungs: nothing runs again.
      const again: string[] = [];
      const started = performance.now();
      await runTuneCommand(file, runOptionsOf({ out: outDir }, loadCliEnv({})), {
        out: (text) => again.push(text),
        err: () => undefined,
        interactive: false,
      });
      expect(performance.now() - started).toBeLessThan(5000);
      expect(again.join('')).toMatch(/recommended: c\d+ \(policy\.maxRetries=0\)/);
    },
  );

  it(
    'against independent 50 % failures, finds a front: more retries buy goodput with amplification',
    { timeout: 240_000 },
    async () => {
      const scenario = parseScenario(`
name: coin
seed: 3
downstream: { failProbability: 0.5, ${noLoadEffect} }
load: { kind: constant, ratePerSecond: 200, durationMs: 1000 }
runs:
  - { name: rpc, target: rpc, policy: { preset: unsafe, maxRetries: 1 } }
tune:
  fields: [{ path: policy.maxRetries, values: [0, 2, 4] }]
  objectives: [goodput, amplification]
  constraints: { maxErrorRate: 1 }
  rungs: [2]
`);
      const result = await runTune(scenario, { outDir: path.join(dir, 'coin') });
      const answer = result.answer!;
      const retriesOf = (id: string) =>
        id === 'given'
          ? 1
          : (result.candidates.find((c) => c.id === id)!.values['policy.maxRetries'] as number);
      // Every policy is on the front: none is better on both.
      expect(answer.front.map((e) => retriesOf(e.id)).sort()).toEqual([0, 1, 2, 4]);
      const alongFront = [...answer.front].sort(
        (a, b) => a.objectives.amplification - b.objectives.amplification,
      );
      for (const [i, e] of alongFront.entries())
        if (i > 0)
          expect(e.objectives.goodput).toBeGreaterThan(alongFront[i - 1]!.objectives.goodput);
      // 1 − 0.5^(r+1) of requests ok: 50 % with none, 97 % with four.
      const none = alongFront[0]!;
      expect(none.summary.ok / none.summary.sent).toBeGreaterThan(0.4);
      expect(none.summary.ok / none.summary.sent).toBeLessThan(0.6);
      expect(alongFront.at(-1)!.summary.ok / alongFront.at(-1)!.summary.sent).toBeGreaterThan(0.9);
    },
  );

  it(
    'through the gateway and the fault proxy to a service nobody here wrote: retries win on goodput',
    { timeout: 240_000 },
    async () => {
      const service = await startHttpServer();
      try {
        writeFileSync(path.join(service.dir, 'page.txt'), 'hello');
        const scenario = parseScenario(`
name: own
seed: 4
service:
  url: ${service.url}
  request: { method: GET, path: /page.txt, okStatuses: [200] }
  failureStatuses: 5xx
# 30 % of the calls fail with a 500 before they reach the service.
faults: [{ at: 100, kind: error, durationMs: 60000, fraction: 0.3, status: 500 }]
load: { kind: constant, ratePerSecond: 100, durationMs: 1200 }
runs:
  - { name: rpc, target: rpc, policy: { preset: unsafe, maxRetries: 0 } }
tune:
  fields: [{ path: policy.maxRetries, values: [2] }]
  objectives: [goodput]
  constraints: { maxErrorRate: 1 }
  rungs: [1]
`);
        const result = await runTune(scenario, { outDir: path.join(dir, 'own') });
        const best = result.answer!.recommended;
        expect(best.candidate.values).toEqual({ 'policy.maxRetries': 2 });
        // Its retries reached the service: more calls than requests.
        expect(best.summary.amplification!).toBeGreaterThan(1.1);
        expect(best.summary.ok / best.summary.sent).toBeGreaterThan(0.9);
        const given = result.rungs[0]!.evaluations.find((e) => e.id === 'given')!;
        expect(given.objectives.goodput).toBeLessThan(best.objectives.goodput);
      } finally {
        await service.stop();
      }
    },
  );
});
