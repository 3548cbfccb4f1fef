import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDownstream } from '../../services/downstream/app.ts';
import { defaultFailureModel } from '../../services/downstream/failure-model.ts';
import type { FaultSpec } from '../../services/downstream/faults.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { closeAfterEach, type Running } from '../support/rpc-path.ts';
import { startHttpServer, type ThirdPartyServer } from '../support/third-party.ts';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The downstream in proxy mode in front of `upstreamUrl`, seeded; faults added at once. */
async function startProxy(
  upstreamUrl: string,
  options: { faults?: FaultSpec[]; applyModel?: boolean; model?: object } = {},
): Promise<Running> {
  const app = buildDownstream({
    model: { ...defaultFailureModel, ...options.model },
    seed: 7,
    proxy: { upstreamUrl, connections: 16, applyModel: options.applyModel ?? false },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  if (options.faults)
    expect(
      (await call(`${url}/admin/faults`, { method: 'PUT', body: { faults: options.faults } }))
        .status,
    ).toBe(200);
  return { app, url };
}

/** A plain Node server (no framework of ours): hashes what it is sent, and can hang. */
function startEcho(): Promise<{ url: string; server: Server; closedSockets: () => number }> {
  let closed = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/hang')) return; // never answers
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(req.url?.startsWith('/teapot') ? 418 : 200, {
        'content-type': 'application/json',
      });
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          bytes,
          sha: hash.digest('hex'),
          host: req.headers.host,
        }),
      );
    });
  });
  server.on('connection', (socket: Socket) => socket.once('close', () => (closed += 1)));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${address.port}`, server, closedSockets: () => closed });
    }),
  );
}

describe('the downstream in proxy mode (UPSTREAM_URL), in front of servers nobody here wrote', () => {
  const { keep } = closeAfterEach();
  let files: ThirdPartyServer;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  const big = randomBytes(6 * 1024 * 1024);
  beforeAll(async () => {
    files = await startHttpServer();
    writeFileSync(path.join(files.dir, 'big.bin'), big);
    writeFileSync(path.join(files.dir, 'hello.txt'), 'hello from http-server\n');
    echo = await startEcho();
  });
  afterAll(async () => {
    await files?.stop();
    echo?.server.close();
  });

  it('passes bodies through byte for byte, both ways, streamed (6 MiB each way)', async () => {
    const proxy = keep(await startProxy(files.url));
    const down = await request(`${proxy.url}/big.bin`);
    expect(down.statusCode).toBe(200);
    expect(sha256(Buffer.from(await down.body.arrayBuffer()))).toBe(sha256(big));

    const toEcho = keep(await startProxy(echo.url));
    // Chunked: a stream of 64 KiB pieces, no content-length.
    const chunks = Array.from({ length: big.length / 65_536 }, (_, i) =>
      big.subarray(i * 65_536, (i + 1) * 65_536),
    );
    const up = await request(`${toEcho.url}/upload?name=big`, {
      method: 'PUT',
      body: Readable.from(chunks),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(await up.body.json()).toMatchObject({
      method: 'PUT',
      url: '/upload?name=big',
      bytes: big.length,
      sha: sha256(big),
      host: new URL(echo.url).host,
    });
  });

  it("passes the upstream's own statuses, headers and bodies on, and counts them by route and status", async () => {
    const proxy = keep(await startProxy(files.url));
    const hello = await call(`${proxy.url}/hello.txt`);
    expect(hello.status).toBe(200);
    expect(hello.body).toEqual({ text: 'hello from http-server\n' });
    expect(hello.headers['content-type']).toMatch(/^text\/plain/);
    const missing = await call(`${proxy.url}/nothing/here.txt`);
    expect(missing.status).toBe(404);
    const teapot = await call(`${keep(await startProxy(echo.url)).url}/teapot`, {
      method: 'DELETE',
    });
    expect(teapot.status).toBe(418);
    expect(teapot.body).toMatchObject({ method: 'DELETE' });
    expect(
      await scrape(proxy.url, 'downstream_requests_total', {
        outcome: 'forwarded',
        route: '/nothing',
        upstream_status: '404',
      }),
    ).toBe(1);
    expect(
      await scrape(proxy.url, 'downstream_requests_total', {
        route: '/hello.txt',
        upstream_status: '200',
      }),
    ).toBe(1);
  });

  it('applies an error fault to the fraction asked of the requests it matches, per request on one keep-alive connection', async () => {
    const proxy = keep(
      await startProxy(files.url, {
        faults: [
          {
            kind: 'error',
            durationMs: 600_000,
            fraction: 0.3,
            status: 500,
            body: 'boom',
            pathPrefix: '/hello',
          },
          { kind: 'error', durationMs: 600_000, status: 429, method: 'DELETE' },
          {
            kind: 'error',
            durationMs: 600_000,
            status: 451,
            header: { name: 'X-Tenant', value: 'blocked' },
          },
        ],
      }),
    );
    // One connection for all of it: a fault is decided per request, not per connection.
    const client = new Client(proxy.url, { pipelining: 1 });
    const statuses: number[] = [];
    const bodies = new Set<string>();
    try {
      for (let i = 0; i < 1000; i += 1) {
        const response = await client.request({ method: 'GET', path: '/hello.txt' });
        statuses.push(response.statusCode);
        bodies.add(await response.body.text());
      }
      const statusOf = async (options: Parameters<typeof client.request>[0]) => {
        const response = await client.request(options);
        await response.body.dump();
        return response.statusCode;
      };
      expect(
        await statusOf({ method: 'GET', path: '/big.bin', headers: { 'x-tenant': 'ok' } }),
      ).toBe(200);
      expect(await statusOf({ method: 'DELETE', path: '/big.bin' })).toBe(429);
      expect(
        await statusOf({ method: 'GET', path: '/x', headers: { 'x-tenant': 'blocked' } }),
      ).toBe(451);
    } finally {
      await client.close();
    }
    const failed = statuses.filter((status) => status === 500).length;
    expect(statuses.filter((status) => status !== 500 && status !== 200)).toEqual([]);
    // Binomial(1000, 0.3): mean 300, sd 14.5; ±5 sd.
    expect(failed).toBeGreaterThan(300 - 73);
    expect(failed).toBeLessThan(300 + 73);
    expect(bodies).toEqual(new Set(['boom', 'hello from http-server\n']));
    expect(await scrape(proxy.url, 'downstream_requests_total', { outcome: 'fault_error' })).toBe(
      failed + 2,
    );
  });

  it('adds latency, resets connections and hangs requests as asked', async () => {
    const proxy = keep(
      await startProxy(files.url, {
        faults: [
          { kind: 'latency', durationMs: 600_000, latencyMs: 300, pathPrefix: '/hello' },
          { kind: 'reset', durationMs: 600_000, pathPrefix: '/reset' },
          { kind: 'hang', durationMs: 600_000, pathPrefix: '/hang' },
        ],
      }),
    );
    const startedAt = performance.now();
    expect((await call(`${proxy.url}/hello.txt`)).status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
    await expect(request(`${proxy.url}/reset/x`)).rejects.toThrow(/other side closed|socket/i);
    await expect(request(`${proxy.url}/hang/x`, { headersTimeout: 300 })).rejects.toThrow(
      /Headers Timeout/,
    );
    await eventually(async () =>
      expect(await scrape(proxy.url, 'downstream_inflight_requests')).toBe(0),
    );
  });

  it("cuts the call to a hung upstream when the caller's timeout gives up, and says so", async () => {
    const proxy = keep(await startProxy(echo.url));
    const before = echo.closedSockets();
    await expect(request(`${proxy.url}/hang/forever`, { headersTimeout: 300 })).rejects.toThrow(
      /Headers Timeout/,
    );
    // The proxy's own call to the upstream is cancelled too, not left to hang.
    await eventually(() => expect(echo.closedSockets()).toBeGreaterThan(before));
    await eventually(async () => {
      expect(await scrape(proxy.url, 'downstream_requests_total', { outcome: 'cancelled' })).toBe(
        1,
      );
      expect(await scrape(proxy.url, 'downstream_inflight_requests')).toBe(0);
    });
  });

  it('answers 502 naming the upstream when nothing listens there', async () => {
    const proxy = keep(await startProxy('http://127.0.0.1:9'));
    const response = await call(`${proxy.url}/anything`);
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({ error: 'upstream_unreachable' });
    expect(String(response.body.message)).toContain('http://127.0.0.1:9');
  });

  it('lets the failure model fail requests before they reach the upstream, when asked', async () => {
    const proxy = keep(
      await startProxy(echo.url, {
        applyModel: true,
        model: { failProbability: 1, baseLatencyMs: 0, jitterMs: 0 },
      }),
    );
    const response = await call(`${proxy.url}/anything`);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ error: 'downstream_error' });
    expect(await scrape(proxy.url, 'downstream_requests_total', { outcome: 'forwarded' })).toBe(0);
  });

  it('keeps its own routes: /healthz, /metrics and /admin/faults are not forwarded', async () => {
    const proxy = keep(await startProxy(echo.url));
    expect((await call(`${proxy.url}/healthz`)).body).toMatchObject({ service: 'downstream' });
    expect((await call(`${proxy.url}/admin/faults`)).body).toHaveProperty('faults');
    const bad = await call(`${proxy.url}/admin/faults`, {
      method: 'PUT',
      body: { faults: [{ kind: 'hang', durationMs: 10, status: 500 }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      message: 'body.faults[0]: status and body only apply to error faults, not hang',
    });
  });
});
