import { request } from 'undici';
import { expect } from 'vitest';
import { eventually, scrape } from './http.ts';

/** Waits until the downstream's gauge reads `value`. */
export const gaugeReaches = (
  url: string,
  gauge: 'downstream_inflight_requests' | 'downstream_queued_requests',
  value: number,
) => eventually(async () => expect(await scrape(url, gauge)).toBe(value));

export const outcomes = (url: string, outcome: string) =>
  scrape(url, 'downstream_requests_total', { outcome });

/** A POST /work the client gives up on after `abortAfterMs`: it closes the connection. */
export async function abandon(url: string, id: string, abortAfterMs: number) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), abortAfterMs);
  await request(`${url}/work`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cascade-caller': 'test' },
    body: JSON.stringify({ id }),
    signal: controller.signal,
  }).catch(() => undefined);
  clearTimeout(timer);
}
