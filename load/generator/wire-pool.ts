import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import Denque from 'denque';
import { HTTPParser } from 'http-parser-js';

/**
 * The generator's HTTP/1.1 client, written by hand because the instrument must cost less
 * than what it measures: each request is one string written once (undici writes a head
 * and a body, corked, and builds and checks the head per request: the largest frame of the
 * generator's profile, docs/performance.md), and answers are parsed by http-parser-js, as
 * autocannon does. One request per connection at a time; keep-alive honoured as undici does
 * (the server's `keep-alive: timeout=` hint less a second, else 4 s).
 */

/** What one request tells its owner, in order: written, status, body chunks, end — or an error. */
export interface WireHandler {
  onRequestStart(): void;
  onResponseStart(statusCode: number): void;
  onResponseData(chunk: Buffer): void;
  onResponseEnd(): void;
  onResponseError(error: Error): void;
}

export interface WireRequest {
  method: string;
  path: string;
  /** `name: value\r\n` lines, checked by the caller's schema (no CR or LF in a value). */
  headerLines?: string;
  /** `headerLines` hold a `host` line of their own. */
  hasHost?: boolean;
  body: string | null;
}

const idleDefaultMs = 4_000;
const idleMarginMs = 1_000;
const withBody = new Set(['POST', 'PUT', 'PATCH']);
const keepAliveHint = /timeout=(\d+)/i;

class Connection {
  readonly socket: Socket;
  readonly #parser = new HTTPParser(HTTPParser.RESPONSE);
  readonly #pool: WirePool;
  handler: WireHandler | undefined;
  #head = false;
  /** A 1xx came first (103 Early Hints, 100 Continue): its end is not the answer's. */
  #informational = false;
  #reusable = true;
  #hinted = false;
  idleSinceMs = 0;
  idleLimitMs = idleDefaultMs;

  constructor(pool: WirePool, socket: Socket) {
    this.#pool = pool;
    this.socket = socket;
    const parser = this.#parser;
    parser[HTTPParser.kOnHeadersComplete] = (info) => {
      if (info.statusCode < 200) {
        this.#informational = true; // the answer follows
        return 0;
      }
      this.#reusable = info.shouldKeepAlive;
      // A server gives its keep-alive hint with every answer: the first one's is read.
      if (!this.#hinted) {
        this.#hinted = true;
        this.idleLimitMs = idleLimitOf(info.headers);
      }
      this.handler?.onResponseStart(info.statusCode);
      return this.#head ? 1 : 0;
    };
    parser[HTTPParser.kOnBody] = (chunk, offset, length) =>
      this.handler?.onResponseData(chunk.subarray(offset, offset + length));
    parser[HTTPParser.kOnMessageComplete] = () => this.#complete();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const parsed = parser.execute(chunk);
      if (parsed instanceof Error) socket.destroy(parsed);
    });
    socket.on('end', () => {
      // An answer without a length ends with the connection.
      const ended = this.handler ? parser.finish() : undefined;
      socket.destroy(ended instanceof Error ? ended : undefined);
    });
    socket.on('error', () => undefined); // 'close' follows and says it
    socket.on('close', () => this.#closed());
  }

  send(request: WireRequest, handler: WireHandler, host: string): void {
    this.handler = handler;
    this.#head = request.method === 'HEAD';
    const body = request.body ?? '';
    const length =
      body !== '' || withBody.has(request.method)
        ? `content-length: ${Buffer.byteLength(body)}\r\n`
        : '';
    const hostLine = request.hasHost ? '' : `host: ${host}\r\n`;
    this.socket.write(
      `${request.method} ${request.path} HTTP/1.1\r\n${hostLine}${request.headerLines ?? ''}${length}\r\n${body}`,
    );
    // Written once the connection is open (a new one is still connecting).
    if (this.socket.connecting) this.socket.once('connect', () => handler.onRequestStart());
    else handler.onRequestStart();
  }

  #complete(): void {
    if (this.#informational) {
      this.#informational = false;
      return;
    }
    const handler = this.handler;
    if (!handler) return;
    this.handler = undefined;
    handler.onResponseEnd();
    if (this.#reusable) this.#pool.released(this);
    else this.socket.destroy();
  }

  #closed(): void {
    const handler = this.handler;
    this.handler = undefined;
    this.#pool.lost(this);
    handler?.onResponseError(new Error('the connection closed before the answer ended'));
  }
}

function idleLimitOf(headers: string[]): number {
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i]!.length === 10 && headers[i]!.toLowerCase() === 'keep-alive') {
      const seconds = keepAliveHint.exec(headers[i + 1]!)?.[1];
      if (seconds) return Math.max(0, Number(seconds) * 1000 - idleMarginMs);
    }
  return idleDefaultMs;
}

/** Up to `connections` keep-alive connections to one origin (http or https). */
export class WirePool {
  readonly #url: URL;
  readonly #host: string;
  readonly #connections: number;
  readonly #open = new Set<Connection>();
  readonly #idle: Connection[] = [];
  /** Requests waiting for a connection, first in first out (a burst queues thousands: O(1) shift). */
  readonly #queue = new Denque<[WireRequest, WireHandler]>();
  #closed = false;

  constructor(baseUrl: string, connections: number) {
    this.#url = new URL(baseUrl);
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:')
      throw new Error(`${baseUrl}: the load generator speaks http: and https: only`);
    this.#host = this.#url.host;
    this.#connections = connections;
  }

  get openConnections(): number {
    return this.#open.size;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  dispatch(request: WireRequest, handler: WireHandler): void {
    if (this.#closed) {
      handler.onResponseError(new Error('the pool is closed'));
      return;
    }
    const connection = this.#takeIdle();
    if (connection) connection.send(request, handler, this.#host);
    else if (this.#open.size < this.#connections)
      this.#connect().send(request, handler, this.#host);
    else this.#queue.push([request, handler]);
  }

  /** A `GET /healthz` on `count` connections at once, whatever it answers: they are open after. */
  async warm(count: number): Promise<void> {
    const n = Math.min(count, this.#connections);
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<void>((resolve) =>
            this.dispatch(
              { method: 'GET', path: '/healthz', body: null },
              {
                onRequestStart: () => undefined,
                onResponseStart: () => undefined,
                onResponseData: () => undefined,
                onResponseEnd: resolve,
                onResponseError: () => resolve(),
              },
            ),
          ),
      ),
    );
  }

  /** Closes every connection; a request still waiting or in flight ends with an error. */
  async close(): Promise<void> {
    this.#closed = true;
    const waiting = this.#queue.toArray();
    this.#queue.clear();
    for (const [, handler] of waiting) handler.onResponseError(new Error('the pool is closed'));
    const closing = [...this.#open].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.socket.destroyed) resolve();
          else connection.socket.once('close', () => resolve()).destroy();
        }),
    );
    await Promise.all(closing);
  }

  released(connection: Connection): void {
    const next = this.#queue.shift();
    if (next) {
      connection.send(next[0], next[1], this.#host);
      return;
    }
    connection.idleSinceMs = performance.now();
    this.#idle.push(connection);
  }

  lost(connection: Connection): void {
    this.#open.delete(connection);
    const at = this.#idle.indexOf(connection);
    if (at >= 0) this.#idle.splice(at, 1);
    // A queued request gets the connection's place.
    const next = !this.#closed && this.#queue.shift();
    if (next) this.#connect().send(next[0], next[1], this.#host);
  }

  /** The most recently used idle connection still inside its keep-alive limit. */
  #takeIdle(): Connection | undefined {
    const now = performance.now();
    for (let connection = this.#idle.pop(); connection; connection = this.#idle.pop()) {
      if (now - connection.idleSinceMs < connection.idleLimitMs) return connection;
      connection.socket.destroy();
    }
    return undefined;
  }

  #connect(): Connection {
    const port = Number(this.#url.port) || (this.#url.protocol === 'https:' ? 443 : 80);
    const host = this.#url.hostname.replace(/^\[|\]$/g, '');
    const socket =
      this.#url.protocol === 'https:'
        ? connectTls({ host, port, servername: host, ALPNProtocols: ['http/1.1'] })
        : connectTcp({ host, port });
    const connection = new Connection(this, socket);
    this.#open.add(connection);
    return connection;
  }
}
