import { request } from 'undici';

/** A small JSON call for the runner's admin traffic. */
export async function call(
  url: string,
  method: 'GET' | 'PUT',
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await request(url, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
}
