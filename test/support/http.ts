import { request } from 'undici';
import { Scrape } from '../../load/stack/prom-text.ts';
import { poll } from '../../services/shared/poll.ts';

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A real HTTP call; the body is parsed as JSON when it is JSON. */
export async function call(
  url: string,
  options: {
    method?: string;
    body?: unknown;
    rawBody?: string | Buffer;
    headers?: Record<string, string>;
  } = {},
): Promise<JsonResponse> {
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  const response = await request(url, {
    method: (options.method ?? (hasBody ? 'POST' : 'GET')) as 'GET',
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body:
      options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const text = await response.body.text();
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  return { status: response.statusCode, headers: response.headers, body };
}

/** Sums a metric's samples from a service's `/metrics`, optionally only those whose labels match. */
export async function scrape(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return (await Scrape.of(baseUrl)).sum(name, labels);
}

/**
 * Polls until `check` passes or `timeoutMs` runs out; the last failure is rethrown. The
 * default is generous: it only matters when the check fails, and a busy machine is slow.
 */
export async function eventually(
  check: () => Promise<void> | void,
  timeoutMs = 15_000,
): Promise<void> {
  const { value: failure, done } = await poll(
    async () => {
      try {
        await check();
        return { passed: true as const };
      } catch (error) {
        return { passed: false as const, error };
      }
    },
    (outcome) => outcome.passed,
    { timeoutMs, everyMs: 50 },
  );
  if (!done && !failure.passed) throw failure.error;
}
