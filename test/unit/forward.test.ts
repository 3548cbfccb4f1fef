import { describe, expect, it } from 'vitest';
import { forwardedHeaders, routeLabels, upstreamPath } from '../../services/shared/forward.ts';
import { failureStatuses } from '../../services/gateway/forward-transport.ts';

describe('forwarding a request as a proxy does', () => {
  it('drops hop-by-hop headers, and those the Connection header names, and sets the host', () => {
    expect(
      forwardedHeaders(
        {
          host: 'proxy:8081',
          connection: 'keep-alive, X-Hop',
          'keep-alive': 'timeout=5',
          'transfer-encoding': 'chunked',
          'x-hop': 'gone',
          'content-type': 'application/json',
          'set-cookie': ['a=1', 'b=2'],
        },
        'upstream:3000',
      ),
    ).toEqual({
      host: 'upstream:3000',
      'content-type': 'application/json',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it("puts the request's path after the upstream's own", () => {
    expect(upstreamPath(new URL('http://api:8080/v2/'), '/orders?x=1')).toBe('/v2/orders?x=1');
    expect(upstreamPath(new URL('http://api:8080'), '/')).toBe('/');
  });

  it('labels routes by their first segment, at most 16 of them, then other', () => {
    const route = routeLabels(16);
    expect(route('/orders/42?x=1')).toBe('/orders');
    expect(route('/')).toBe('/');
    expect(route('/%00weird/x')).toBe('other');
    for (let i = 0; i < 20; i += 1) route(`/r${i}`);
    expect(new Set(Array.from({ length: 20 }, (_, i) => route(`/r${i}`))).size).toBe(15);
    expect(route('/r19')).toBe('other');
    expect(route('/orders')).toBe('/orders');
  });

  it('counts the statuses FAILURE_STATUSES names, by class or by code', () => {
    const failed = failureStatuses('5xx,429');
    expect([500, 503, 599, 429, 404, 200].map(failed)).toEqual([
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});
