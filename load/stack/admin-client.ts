import { call } from './http-json.ts';

/** The runner's admin calls to a stack's services; sends the stack's ADMIN_TOKEN when it has one. */
export class AdminClient {
  readonly adminToken: string | undefined;

  constructor(adminToken: string | undefined) {
    this.adminToken = adminToken;
  }

  async #send(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<unknown> {
    const response = await call(url, method, body, this.adminToken);
    if (response.status === 401)
      throw new Error(
        `${method} ${url} answered 401: the stack has an ADMIN_TOKEN; pass it with --admin-token or ADMIN_TOKEN`,
      );
    if (response.status !== 200)
      throw new Error(
        `${method} ${url} answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
    return response.body;
  }

  get(url: string): Promise<unknown> {
    return this.#send('GET', url);
  }

  put(url: string, body: unknown): Promise<unknown> {
    return this.#send('PUT', url, body);
  }

  post(url: string, body: unknown): Promise<unknown> {
    return this.#send('POST', url, body);
  }

  delete(url: string): Promise<unknown> {
    return this.#send('DELETE', url);
  }
}
