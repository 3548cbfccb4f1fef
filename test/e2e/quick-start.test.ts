import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { call, eventually, scrape } from '../support/http.ts';
import { repoRoot, type ServiceProcess, startServiceProcess } from '../support/processes.ts';

const run = promisify(execFile);
const started: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((service) => service.stop()));
});

describe('the README quick start, as real processes from the build', () => {
  it(
    'serves POST /rpc from the build, and the counters move and add up',
    {
      timeout: 90_000,
    },
    async () => {
      // `npm test` builds before it runs the tests; a test does not run the compiler itself.
      expect(
        existsSync(path.join(repoRoot, 'dist/load/cli.js')),
        'dist/ is missing: run `npm run build` first (`npm test` does)',
      ).toBe(true);
      const cli = await run(process.execPath, ['dist/load/cli.js', '--help'], { cwd: repoRoot });
      expect(cli.stdout).toContain('cascade-lab serve downstream|gateway|producer|worker');

      const downstream = await startServiceProcess('dist/load/cli.js', { SEED: '7' }, [
        'serve',
        'downstream',
      ]);
      started.push(downstream);
      const gateway = await startServiceProcess('dist/services/gateway/main.js', {
        DOWNSTREAM_URL: downstream.url,
        SEED: '7',
      });
      started.push(gateway);

      const sent = 50;
      const answers = await Promise.all(
        Array.from({ length: sent }, (_, i) =>
          call(`${gateway.url}/rpc`, { body: { id: `e2e-${i}` } }),
        ),
      );
      for (const answer of answers) {
        expect([200, 502, 503, 504]).toContain(answer.status);
        expect(Number(answer.headers['x-attempts'])).toBeGreaterThanOrEqual(1);
      }
      // A cold burst of 50 may open the breaker (that is the testbed's point), so only ask for some successes.
      const ok = answers.filter((answer) => answer.status === 200).length;
      expect(ok).toBeGreaterThan(0);

      // Sent = ok + failed. Every try is either a call that reached the downstream or a local
      // rejection (open breaker, full bulkhead, throttling), and the downstream saw every call.
      expect(await scrape(gateway.url, 'gateway_requests_total')).toBe(sent);
      expect(await scrape(gateway.url, 'gateway_requests_total', { outcome: 'ok' })).toBe(ok);
      const attempts = await scrape(gateway.url, 'gateway_downstream_attempts_total');
      const rejectedLocally =
        (await scrape(gateway.url, 'gateway_breaker_fast_fails_total')) +
        (await scrape(gateway.url, 'gateway_bulkhead_rejected_total')) +
        (await scrape(gateway.url, 'gateway_throttled_total'));
      const tries = answers.reduce((sum, answer) => sum + Number(answer.headers['x-attempts']), 0);
      expect(attempts + rejectedLocally).toBe(tries);
      // An attempt the gateway timed out on is still worked on downstream: count it once done.
      await eventually(async () =>
        expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(0),
      );
      expect(await scrape(downstream.url, 'downstream_requests_total')).toBe(attempts);
    },
  );
});
