import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WireHandler, type WireRequest, WirePool } from '../../load/generator/wire-pool.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real node:http server on 127.0.0.1 that records what it got and answers with `answer`. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { url, seen, sockets, server };
}

interface Outcome {
  status: number;
  body: string;
  error?: string;
}

/** Sends `request` and resolves with what the handler was told, in order. */
function send(pool: WirePool, request: WireRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { status: 0, body: '' };
    const handler: WireHandler = {
      onRequestStart: () => undefined,
      onResponseStart: (status) => (outcome.status = status),
      onResponseData: (chunk) => (outcome.body += chunk.toString('utf8')),
      onResponseEnd: () => resolve(outcome),
      onResponseError: (error) => resolve({ ...outcome, error: error.message }),
    };
    pool.dispatch(request, handler);
  });
}

const get = (path: string): WireRequest => ({ method: 'GET', path, body: null });
const servers: Server[] = [];
const pools: WirePool[] = [];
const poolFor = (url: string, connections: number) => {
  const pool = new WirePool(url, connections);
  pools.push(pool);
  return pool;
};

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('the generator’s wire pool (real HTTP on 127.0.0.1)', () => {
  it('writes method, path, host, headers and a body with its byte length, and keeps the connection', async () => {
    const target = await serve((_req, res, body) => res.end(`echo ${body}`));
    const pool = poolFor(target.url, 4);
    for (let i = 0; i < 5; i += 1) {
      const outcome = await send(pool, {
        method: 'POST',
        path: `/rpc?i=${i}`,
        headerLines: 'content-type: application/json\r\nx-n: é\r\n',
        body: `{"id":"ü-${i}"}`,
      });
      expect(outcome).toEqual({ status: 200, body: `echo {"id":"ü-${i}"}` });
    }
    expect(target.seen.map((seen) => seen.url)).toEqual([0, 1, 2, 3, 4].map((i) => `/rpc?i=${i}`));
    expect(target.seen[0]!.headers).toMatchObject({
      host: new URL(target.url).host,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"id":"ü-0"}')),
    });
    // One request at a time, one after another: one connection carried them all.
    expect(target.sockets.size).toBe(1);
    // A POST without a body says so; a GET says nothing.
    await send(pool, { method: 'POST', path: '/empty', body: null });
    await send(pool, get('/plain'));
    expect(target.seen[5]!.headers['content-length']).toBe('0');
    expect(target.seen[6]!.headers['content-length']).toBeUndefined();
  });

  it('writes a host header of the scenario’s instead of its own', async () => {
    const target = await serve((_req, res) => res.end());
    const pool = poolFor(target.url, 1);
    await send(pool, { ...get('/'), headerLines: 'host: shop.example\r\n', hasHost: true });
    expect(target.seen[0]!.headers.host).toBe('shop.example');
  });

  it('reads answers with a length, chunked, after 103 Early Hints, until the connection closes, and to HEAD', async () => {
    const target = await serve((req, res) => {
      if (req.url === '/chunked') {
        res.write('one ');
        setImmediate(() => res.end('two'));
      } else if (req.url === '/hints') {
        // 103 Early Hints first: an informational answer, then the answer.
        res.writeEarlyHints({ link: '</a.css>; rel=preload; as=style' });
        res.end('after hints');
      } else if (req.url === '/until-close') {
        // No length and no chunks (HTTP/1.0 style): the body ends with the connection.
        res.socket!.end('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it');
      } else res.writeHead(200, { 'content-length': 5 }).end(req.method === 'HEAD' ? '' : 'sized');
    });
    const pool = poolFor(target.url, 2);
    expect(await send(pool, get('/sized'))).toEqual({ status: 200, body: 'sized' });
    expect(await send(pool, get('/chunked'))).toEqual({ status: 200, body: 'one two' });
    expect(await send(pool, get('/hints'))).toEqual({ status: 200, body: 'after hints' });
    expect(await send(pool, get('/until-close'))).toEqual({ status: 200, body: 'all of it' });
    expect(await send(pool, { method: 'HEAD', path: '/sized', body: null })).toEqual({
      status: 200,
      body: '',
    });
    // The connection after a HEAD is still usable: the length was not waited for.
    expect(await send(pool, get('/sized'))).toEqual({ status: 200, body: 'sized' });
  });

  it('opens a new connection after an answer that closes its own, or a connection the server dropped while idle', async () => {
    const target = await serve((req, res) => {
      if (req.url === '/close') res.setHeader('connection', 'close');
      res.end(req.url);
    });
    const pool = poolFor(target.url, 1);
    expect(await send(pool, get('/close'))).toEqual({ status: 200, body: '/close' });
    expect(await send(pool, get('/next'))).toEqual({ status: 200, body: '/next' });
    expect(target.sockets.size).toBe(2);
    // The server drops the idle connection: the pool notices, and the next request gets a new one.
    for (const socket of target.sockets) socket.destroy();
    await expect.poll(() => pool.openConnections).toBe(0);
    expect(await send(pool, get('/after'))).toEqual({ status: 200, body: '/after' });
    expect(target.sockets.size).toBe(3);
  });

  it('queues past its connections and answers every request', async () => {
    let inFlight = 0;
    let most = 0;
    const target = await serve((_req, res) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.end('ok');
      }, 5);
    });
    const pool = poolFor(target.url, 3);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(pool, get(`/${i}`))),
    );
    expect(outcomes.every((outcome) => outcome.status === 200)).toBe(true);
    expect(target.seen).toHaveLength(20);
    expect(most).toBeLessThanOrEqual(3);
    expect(target.sockets.size).toBe(3);
  });

  it('ends every request with an error when nothing listens, the queued ones too', async () => {
    const pool = poolFor('http://127.0.0.1:9', 1);
    const outcomes = await Promise.all([send(pool, get('/a')), send(pool, get('/b'))]);
    expect(outcomes.map((outcome) => outcome.error)).toEqual([
      'the connection closed before the answer ended',
      'the connection closed before the answer ended',
    ]);
  });

  it('ends a request still in flight with an error when it is closed', async () => {
    const target = await serve(() => undefined); // never answers
    const pool = poolFor(target.url, 1);
    const pending = send(pool, get('/hang'));
    await expect.poll(() => target.seen.length).toBe(1);
    await pool.close();
    expect((await pending).error).toBe('the connection closed before the answer ended');
    expect((await send(pool, get('/late'))).error).toBe('the pool is closed');
  });

  it('refuses an origin it cannot speak to', () => {
    expect(() => new WirePool('ftp://127.0.0.1:21', 1)).toThrow(
      'the load generator speaks http: and https: only',
    );
  });
});
