import { describe, expect, it } from 'vitest';
import { conflictHeader } from '../../services/shared/downstream-work.ts';
import { call, scrape } from '../support/http.ts';
import { outcomes } from '../support/downstream-probes.ts';
import { closeAfterEach, startDownstream, startGateway } from '../support/rpc-path.ts';

const { keep } = closeAfterEach();

/** A downstream whose every write takes 300 ms and never fails but for conflicts. */
const contended = (conflictKeys: number) =>
  startDownstream({ conflictKeys, baseLatencyMs: 300, jitterMs: 0, failProbability: 0 });

describe('a contended resource (conflictKeys): optimistic writes over real HTTP', () => {
  it('lets one of the writes that overlap on a key commit; the others get 409 conflict', async () => {
    const downstream = keep(await contended(1));
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call(`${downstream.url}/work`, { body: { id: `w${i}` } }),
      ),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409]);
    for (const lost of answers.filter((answer) => answer.status === 409)) {
      expect(lost.body).toMatchObject({ error: 'conflict' });
      expect(lost.headers[conflictHeader]).toBe('conflict');
    }
    expect(await outcomes(downstream.url, 'conflict')).toBe(4);
    // One after another, nothing overlaps: every write commits.
    for (const id of ['s1', 's2'])
      expect((await call(`${downstream.url}/work`, { body: { id } })).status).toBe(200);
  });

  it("writes to different keys (the body's key) do not conflict; 0 keys is no contention at all", async () => {
    const downstream = keep(await contended(1));
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((key) => call(`${downstream.url}/work`, { body: { id: key, key } })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const off = keep(await contended(0));
    const free = await Promise.all(
      ['a', 'b'].map((id) => call(`${off.url}/work`, { body: { id } })),
    );
    expect(free.map((answer) => answer.status)).toEqual([200, 200]);
    expect(
      (await call(`${off.url}/work`, { body: { id: 'x', key: '' } })).status,
      'an empty key is bad input',
    ).toBe(400);
  });

  it('the gateway retries conflicts until every request has committed once, with maxRetries up to 1000', async () => {
    const downstream = keep(
      await startDownstream({
        conflictKeys: 1,
        baseLatencyMs: 20,
        jitterMs: 0,
        failProbability: 0,
      }),
    );
    const gateway = keep(
      await startGateway(downstream.url, {
        maxRetries: 1000,
        perAttemptTimeoutMs: 5000,
        backoff: { kind: 'exponential', baseMs: 5, capMs: 200, jitter: 'full' },
        breaker: { enabled: false },
      }),
    );
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => call(`${gateway.url}/rpc`, { body: { id: `r${i}` } })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    // One commit per request; every other write lost and was retried.
    expect(await outcomes(downstream.url, 'ok')).toBe(8);
    const conflicts = await outcomes(downstream.url, 'conflict');
    expect(conflicts).toBeGreaterThan(0);
    expect(await scrape(gateway.url, 'gateway_retries_total')).toBe(conflicts);
    expect(
      await scrape(gateway.url, 'gateway_downstream_attempts_total', { result: 'conflict' }),
    ).toBe(conflicts);
  });
});
