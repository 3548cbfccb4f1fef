import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../load/experiment/result.ts';
import { warmupLoad } from '../../load/experiment/time-scale.ts';
import { repoRoot } from '../support/processes.ts';
import { startHttpServer, type ThirdPartyServer } from '../support/third-party.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);

describe('an experiment on a service nobody here wrote (scenarios/own-service.yaml)', () => {
  let service: ThirdPartyServer;
  const dir = mkdtempSync(path.join(tmpdir(), 'cascade-own-'));
  beforeAll(async () => {
    service = await startHttpServer();
    copyFileSync(
      path.join(repoRoot, 'scenarios/own-service.yaml'),
      path.join(service.dir, 'own-service.yaml'),
    );
  });
  afterAll(async () => {
    await service?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'goes through the gateway and the fault proxy to http-server, accounts for every request, and writes the report',
    { timeout: 180_000 },
    async () => {
      // The shipped scenario, pointed at this http-server instead of port 3000.
      const scenario = readFileSync(
        path.join(repoRoot, 'scenarios/own-service.yaml'),
        'utf8',
      ).replace('url: http://127.0.0.1:3000', `url: ${service.url}`);
      expect(scenario).toContain(service.url);
      const file = path.join(dir, 'own.yaml');
      writeFileSync(file, scenario);
      const out = path.join(dir, 'report');
      const env = { ...process.env };
      delete env.REDIS_URL;
      const { stdout } = await run(
        process.execPath,
        [builtCli(), 'experiment', file, '--out', out],
        { cwd: repoRoot, env, maxBuffer: 1 << 24 },
      );
      expect(stdout).toContain('✓ safe.ok >= 490');
      const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as {
        runs: RunSummary[];
      };
      expect(summary.runs.map((row) => `${row.name} ${row.target}`)).toEqual([
        'direct http',
        'safe rpc',
        'unsafe rpc',
      ]);
      const hits = service.requests().filter((line) => line === 'GET /own-service.yaml');
      let requests = 0;
      let timeouts = 0;
      for (const row of summary.runs) {
        expect(row.sent).toBe(500);
        expect(row.ok + row.failed + row.dropped).toBe(row.sent);
        // No Server-Timing from someone else's service: not available, not zero.
        expect(row.hostOverheadP99Ms).toBeNull();
        requests += row.ok;
        timeouts += row.timeouts ?? 0;
        if (row.target === 'http') {
          // Straight at the service: nothing of ours counted anything, and says so.
          expect(row).toMatchObject({
            retries: null,
            attempts: null,
            downstreamCalls: null,
            amplification: null,
            maxLoadFactor: null,
          });
          continue;
        }
        // Every attempt reached the proxy, counted on both sides.
        expect(row.downstreamCalls).toBe(row.attempts);
        expect(row.attempts).toBe(row.sent + row.retries);
        // 30 % of 2 s of 100 req/s failed at the proxy: some were retried.
        expect(row.retries).toBeGreaterThan(20);
      }
      // Injected failures never reached http-server; every request that ended ok did (the
      // direct run's too), and so did each run's warm-up requests (no faults then; a steady
      // load's warm-up: 4 users, 40 requests). An attempt the gateway timed out may have
      // reached it too (on a busy machine), no more.
      const steady = warmupLoad([0, 10, 20]);
      expect(steady.offsetsMs).toHaveLength(4);
      const reached = requests + steady.closed.requests * summary.runs.length;
      expect(hits.length).toBeGreaterThanOrEqual(reached);
      expect(hits.length).toBeLessThanOrEqual(reached + timeouts);
      expect(existsSync(path.join(out, 'report.html'))).toBe(true);
      const summaryText = readFileSync(path.join(out, 'summary.md'), 'utf8');
      // The direct run's counts our services would have made: `-`, not 0.
      expect(summaryText).toMatch(
        /\| direct +\| http +\| 500 +\| 500 +\| 0 +\| 0 +\| - +\| - +\| - /,
      );
      expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('own-service');
    },
  );
});
