import { peakArrivals } from './bursts.ts';
import { defaultMaxOutstanding } from './recording.ts';
import { WirePool } from './wire-pool.ts';

/** The generator's pool: one request per connection at a time (no pipelining). */
export const loadPool = (baseUrl: string, connections: number) =>
  new WirePool(baseUrl, connections);

/**
 * A pool with a connection open for every request the schedule can have in flight if
 * each stays `holdMs` (the arrivals within any `holdMs`; by default the largest burst),
 * as a population of clients with warm connections would have: then no arrival waits
 * for a TCP handshake the earlier ones skipped, and a burst is not spread by hundreds of
 * new connections. Each is opened by a `GET /healthz`, whatever it answers. The caller
 * closes the pool.
 */
export async function connectFor(
  baseUrl: string,
  offsetsMs: number[],
  { maxOutstanding = defaultMaxOutstanding, holdMs = 0 } = {},
): Promise<WirePool> {
  const pool = loadPool(baseUrl, maxOutstanding);
  await pool.warm(Math.min(maxOutstanding, peakArrivals(offsetsMs, holdMs)));
  return pool;
}
