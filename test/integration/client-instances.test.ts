import { describe, expect, it } from 'vitest';
import { call, scrape } from '../support/http.ts';
import { closeAfterEach, startDownstream, startGateway } from '../support/rpc-path.ts';

const { keep } = closeAfterEach();

/** Each instance's bucket holds two retries and never refills; the downstream always fails. */
const policy = (clients: number) => ({
  clients,
  maxRetries: 5,
  backoff: { kind: 'none' as const, jitter: 'none' as const },
  breaker: { enabled: false },
  retryTokens: {
    enabled: true,
    maxTokens: 2,
    retryCost: 1,
    timeoutRetryCost: 1,
    overloadRetryCost: 1,
    successTokens: 0,
  },
});

describe('client instances (clients: N) over real HTTP', () => {
  it.each([1, 4])(
    'with %i instance(s), each spends its own token bucket: 2 retries each, then none',
    async (clients) => {
      const downstream = keep(await startDownstream({ failProbability: 1, maxFailProbability: 1 }));
      const gateway = keep(await startGateway(downstream.url, policy(clients)));
      for (let i = 0; i < 12; i += 1)
        expect((await call(`${gateway.url}/rpc`, { body: { id: `r${i}` } })).status).toBe(502);
      expect(await scrape(gateway.url, 'gateway_retries_total')).toBe(2 * clients);
      // Every request ends on a denial: its instance's bucket ran dry before its 5 retries.
      expect(await scrape(gateway.url, 'gateway_retries_denied_total', { reason: 'tokens' })).toBe(
        12,
      );
      expect(await scrape(gateway.url, 'gateway_retry_tokens')).toBe(0);
      expect(await scrape(downstream.url, 'downstream_requests_total')).toBe(12 + 2 * clients);
    },
  );
});
