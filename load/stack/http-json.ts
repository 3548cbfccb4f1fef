import { request } from 'undici';

/** A small JSON call for the runner's admin traffic; sends the admin token when the stack has one. */
export async function call(
  url: string,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  body?: unknown,
  adminToken?: string,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (adminToken !== undefined) headers.authorization = `Bearer ${adminToken}`;
  const response = await request(url, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
}
