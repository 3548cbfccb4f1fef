import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDownstream } from '../../services/downstream/app.ts';
import { defaultFailureModel } from '../../services/downstream/failure-model.ts';
import { buildGateway } from '../../services/gateway/app.ts';
import { applyPolicyUpdate, type PolicyUpdate, presets } from '../../services/gateway/policy.ts';
import { call, scrape } from '../support/http.ts';
import { closeAfterEach, type Running } from '../support/rpc-path.ts';
import { startHttpServer, type ThirdPartyServer } from '../support/third-party.ts';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function startForwardingGateway(
  upstreamUrl: string,
  update: PolicyUpdate = {},
  failureStatuses = '5xx',
  route?: string,
): Promise<Running> {
  const app = buildGateway({
    downstreamUrl: 'http://127.0.0.1:9',
    downstreamConnections: 4,
    proxy: { upstreamUrl, connections: 16, failureStatuses, ...(route ? { route } : {}) },
    policy: applyPolicyUpdate(presets.safe, update).policy,
    seed: 3,
  });
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

/** The downstream in proxy mode in front of `upstreamUrl`, with these faults for ten minutes. */
async function startFaultyProxy(upstreamUrl: string, faults: object[]): Promise<Running> {
  const app = buildDownstream({
    model: defaultFailureModel,
    seed: 5,
    proxy: { upstreamUrl, connections: 16, applyModel: false },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await call(`${url}/admin/faults`, { method: 'PUT', body: { faults } });
  return { app, url };
}

describe('the gateway in front of any upstream (ALL /proxy/*), through its policy', () => {
  const { keep } = closeAfterEach();
  let files: ThirdPartyServer;
  const big = randomBytes(3 * 1024 * 1024);
  beforeAll(async () => {
    files = await startHttpServer();
    writeFileSync(path.join(files.dir, 'big.bin'), big);
    writeFileSync(path.join(files.dir, 'a.json'), '{"hello":"world"}');
  });
  afterAll(async () => files?.stop());

  it("forwards method, path, query and bodies, and passes the upstream's answers on as they are", async () => {
    const gateway = keep(await startForwardingGateway(files.url));
    const file = await request(`${gateway.url}/proxy/big.bin?cache=no`);
    expect(file.statusCode).toBe(200);
    expect(file.headers['x-attempts']).toBe('1');
    expect(sha256(Buffer.from(await file.body.arrayBuffer()))).toBe(sha256(big));
    const json = await call(`${gateway.url}/proxy/a.json`);
    expect(json).toMatchObject({ status: 200, body: { hello: 'world' } });
    // The upstream's 4xx is its answer, not a failure of the call: not retried.
    const missing = await call(`${gateway.url}/proxy/none.txt`);
    expect(missing.status).toBe(404);
    expect(missing.headers['x-attempts']).toBe('1');
    expect(await scrape(gateway.url, 'gateway_retries_total')).toBe(0);
  });

  it('retries the failures a faulty dependency injects, and the client mostly never sees them', async () => {
    const proxy = keep(
      await startFaultyProxy(files.url, [
        { kind: 'error', durationMs: 600_000, fraction: 0.3, status: 500, body: 'flaky' },
      ]),
    );
    // Retries only: opossum's breaker counts failures over a rolling time window, so on a
    // slow machine a run of 30 % failures can open it (seen in CI) and fail calls fast.
    const gateway = keep(
      await startForwardingGateway(proxy.url, { maxRetries: 3, breaker: { enabled: false } }),
    );
    const statuses: number[] = [];
    let attempts = 0;
    for (let i = 0; i < 200; i += 1) {
      const response = await call(`${gateway.url}/proxy/a.json`);
      statuses.push(response.status);
      attempts += Number(response.headers['x-attempts']);
      if (response.status === 200) expect(response.body).toEqual({ hello: 'world' });
      else expect(response.body).toEqual({ text: 'flaky' });
    }
    // 0.3⁴ ≈ 0.8 % fail all four attempts; the amplification is about 1 / 0.7 ≈ 1.43.
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(190);
    expect(attempts / 200).toBeGreaterThan(1.25);
    expect(attempts / 200).toBeLessThan(1.65);
    const downstreamCalls = await scrape(proxy.url, 'downstream_requests_total');
    expect(downstreamCalls).toBe(attempts);
    expect(await scrape(gateway.url, 'gateway_retries_total')).toBe(attempts - 200);
  });

  it('opens its breaker on a dependency that keeps failing, and passes the failing answer on until then', async () => {
    const proxy = keep(
      await startFaultyProxy(files.url, [
        {
          kind: 'error',
          durationMs: 600_000,
          status: 502,
          body: '{"error":"bad gateway upstream"}',
        },
      ]),
    );
    const gateway = keep(
      await startForwardingGateway(proxy.url, {
        maxRetries: 0,
        breaker: { windowSize: 5, failureThreshold: 3, openMs: 60_000 },
      }),
    );
    const answers = [];
    for (let i = 0; i < 12; i += 1) answers.push(await call(`${gateway.url}/proxy/a.json`));
    expect(answers[0]).toMatchObject({ status: 502, body: { error: 'bad gateway upstream' } });
    expect(answers.at(-1)).toMatchObject({ status: 503, body: { error: 'circuit_open' } });
    expect(await scrape(gateway.url, 'gateway_breaker_state')).toBe(2);
    // Fewer calls reached the dependency than the client made.
    expect(await scrape(proxy.url, 'downstream_requests_total')).toBeLessThan(12);
  });

  it('counts the statuses it is told to as failures (FAILURE_STATUSES), and times out a hung dependency', async () => {
    const proxy = keep(
      await startFaultyProxy(files.url, [
        { kind: 'error', durationMs: 600_000, status: 429, pathPrefix: '/limited' },
        { kind: 'hang', durationMs: 600_000, pathPrefix: '/hung' },
      ]),
    );
    const gateway = keep(
      await startForwardingGateway(
        proxy.url,
        { maxRetries: 2, perAttemptTimeoutMs: 200 },
        '5xx,429',
      ),
    );
    const limited = await call(`${gateway.url}/proxy/limited`);
    expect(limited.status).toBe(429);
    expect(limited.headers['x-attempts']).toBe('3');
    const hung = await call(`${gateway.url}/proxy/hung`);
    expect(hung).toMatchObject({ status: 504, body: { error: 'timeout' } });
    expect(hung.headers['x-attempts']).toBe('3');
  });

  it('forwards under the route it is given (PROXY_ROUTE), or every path but its own', async () => {
    const api = keep(await startForwardingGateway(files.url, {}, '5xx', '/api/v1'));
    expect(await call(`${api.url}/api/v1/a.json`)).toMatchObject({
      status: 200,
      body: { hello: 'world' },
    });
    expect((await call(`${api.url}/proxy/a.json`)).status).toBe(404);
    const everything = keep(await startForwardingGateway(files.url, {}, '5xx', '/'));
    expect(await call(`${everything.url}/a.json`)).toMatchObject({ status: 200 });
    // Its own routes stay its own.
    expect((await call(`${everything.url}/healthz`)).body).toMatchObject({ service: 'gateway' });
    expect((await call(`${everything.url}/rpc`, { body: { id: 'x' } })).body).toMatchObject({
      error: 'connection_error',
    });
  });

  it('refuses an unknown FAILURE_STATUSES entry at start, naming it', async () => {
    const { loadGatewayEnv } = await import('../../services/gateway/config.ts');
    expect(() => loadGatewayEnv({ FAILURE_STATUSES: '5xx,teapot' })).toThrowError(
      /FAILURE_STATUSES: .*\(got "5xx,teapot"\)/,
    );
    expect(() => loadGatewayEnv({ UPSTREAM_URL: 'ftp://x' })).toThrowError(/UPSTREAM_URL/);
    expect(() => loadGatewayEnv({ PROXY_ROUTE: 'api' })).toThrowError(/PROXY_ROUTE/);
  });
});
