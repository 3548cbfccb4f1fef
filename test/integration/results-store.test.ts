import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../../load/experiment/result.ts';
import { runLoadCommand } from '../../load/cli/load.ts';
import { runMergeCommand } from '../../load/cli/merge.ts';
import { type RedisServer, startRedisServer } from '../../load/stack/redis-server.ts';

let redis: RedisServer;
let target: { url: string; ids: string[]; close(): Promise<unknown> };
const dir = mkdtempSync(path.join(tmpdir(), 'cascade-results-'));

beforeAll(async () => {
  redis = await startRedisServer();
  const ids: string[] = [];
  const server = Fastify();
  server.post<{ Body: { id: string } }>('/rpc', async (request) => {
    ids.push(request.body.id);
    return { ok: true };
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  target = { url, ids, close: () => server.close() };
});
afterAll(async () => {
  await target.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const quiet = () => undefined;

describe('generators that share no filesystem: results and start in Redis', () => {
  it('agree on one start, write their parts under the run id, and merge from there', async () => {
    const generator = (index: number) =>
      runLoadCommand(
        {
          target: 'rpc',
          url: target.url,
          schedule: 'bursts:total=300,burst=50,gapMs=100',
          maxOutstanding: 1000,
          segment: `${index}/2`,
          resultsRedis: redis.url,
          runId: 'run-a',
          startDelay: '500',
        },
        { out: quiet, err: quiet, interactive: false },
      );
    expect(await Promise.all([generator(0), generator(1)])).toEqual([0, 0]);
    expect(new Set(target.ids).size).toBe(300);
    let text = '';
    const out = path.join(dir, 'merged');
    const code = await runMergeCommand(
      {
        files: [],
        resultsRedis: redis.url,
        runId: 'run-a',
        thresholds: ['load.ok == 300'],
        outDir: out,
      },
      { out: (line) => (text += line), err: quiet, interactive: false },
    );
    expect(code).toBe(0);
    expect(text).toMatch(/^load\s+rpc\s+300\s+300\s/m);
    expect(text).toContain('✓ load.ok == 300');
    const result = JSON.parse(
      readFileSync(path.join(out, 'summary.json'), 'utf8'),
    ) as ExperimentResult;
    expect(result.runs[0]!.generators?.map((g) => g.sent)).toEqual([150, 150]);
    // One burst every 100 ms on the shared clock: six, each begun within its gap.
    expect(result.runs[0]!.burstSpreadP50Ms).toBeLessThan(100);
  });

  it('waits for the segments, then names the ones that never came (exit 2)', async () => {
    expect(
      await runLoadCommand(
        {
          target: 'rpc',
          url: target.url,
          schedule: 'constant:ratePerSecond=100,durationMs=300',
          maxOutstanding: 100,
          segment: '1/3',
          resultsRedis: redis.url,
          runId: 'run-b',
          startDelay: '0',
        },
        { out: quiet, err: quiet, interactive: false },
      ),
    ).toBe(0);
    let errors = '';
    const code = await runMergeCommand(
      { files: [], resultsRedis: redis.url, runId: 'run-b', wait: '1' },
      { out: quiet, err: (line) => (errors += line), interactive: false },
    );
    expect(code).toBe(2);
    expect(errors).toContain("waiting for the generators' results: 1 of 3");
    expect(errors).toContain('segment 0/3 is missing');
    expect(errors).toContain('segment 2/3 is missing');
  });
});
