import type { IncomingHttpHeaders } from 'node:http';

/** A header's single value; a repeated or empty one counts as absent. */
export const headerValue = (value: string | string[] | undefined) =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded. */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The headers of a message as a proxy passes them on: without hop-by-hop headers (and
 * those the `Connection` header names), and with `host` set to the upstream's.
 */
export function forwardedHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  host?: string,
): Record<string, string | string[]> {
  // Usually absent, `keep-alive` or `close`: then it names no other header to drop.
  const connection = headers.connection;
  const named =
    connection === undefined || /^\s*(keep-alive|close)\s*$/i.test(String(connection))
      ? undefined
      : new Set(
          String(connection)
            .split(',')
            .map((name) => name.trim().toLowerCase())
            .filter(Boolean),
        );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || hopByHop.has(lower) || named?.has(lower)) continue;
    out[lower] = value;
  }
  if (host !== undefined) out.host = host;
  return out;
}

/** The path a proxy asks its upstream for: the upstream URL's own path, then the request's. */
export function upstreamPath(upstream: URL, requestUrl: string): string {
  const base = upstream.pathname.replace(/\/+$/, '');
  return `${base}${requestUrl.startsWith('/') ? requestUrl : `/${requestUrl}`}`;
}

/**
 * A route label of bounded cardinality: the first segment of the path (`/users/42` →
 * `/users`), for the first `max` such segments that look like names; `other` after.
 */
export function routeLabels(max = 16) {
  const seen = new Set<string>();
  return (url: string): string => {
    const segment = `/${url.split('?')[0]!.split('/')[1] ?? ''}`;
    if (seen.has(segment)) return segment;
    if (!/^\/[A-Za-z0-9._~-]{0,64}$/.test(segment) || seen.size >= max) return 'other';
    seen.add(segment);
    return segment;
  };
}
