import bearerAuth from '@fastify/bearer-auth';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import underPressure from '@fastify/under-pressure';
import { Counter, type Registry } from 'prom-client';
import { Type } from 'typebox';
import type { Shedding } from './config.ts';
import { BadInput, parseJsonBody } from './json-body.ts';
import { formatIssues } from './schema-errors.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The body of every error answer: a stable code and a sentence for humans. */
export const ErrorBody = Type.Object({
  error: Type.String(),
  message: Type.String(),
  code: Type.Optional(Type.String()),
  attempts: Type.Optional(Type.Integer()),
});

export interface ServiceAppOptions {
  service: string;
  registry: Registry;
  /** Pino options or `false`; tests pass `false`. @defaultValue false */
  logger?: FastifyServerOptions['logger'];
  /** @defaultValue 16384 */
  bodyLimitBytes?: number;
  /** Event-loop-based shedding; unset or both 0: off. */
  shedding?: Shedding | undefined;
}

/** Routes never shed: the probes and the operator's own controls must answer under load. */
const neverShed = (url: string) =>
  url === '/healthz' || url === '/metrics' || url.startsWith('/admin/');

/**
 * `@fastify/under-pressure`: while the event loop lags more than `eventLoopDelayMs` or is
 * busier than `eventLoopUtilization`, work routes answer `503 under_pressure` with
 * `Retry-After: 1` at once, before any work (`<service>_shed_requests_total`).
 */
function registerShedding(app: App, options: ServiceAppOptions, shedding: Shedding): void {
  const shed = new Counter({
    name: `${options.service}_shed_requests_total`,
    help: 'Requests refused with 503 under_pressure because the event loop lagged (eventLoopDelay) or was too busy (eventLoopUtilization).',
    labelNames: ['reason'],
    registers: [options.registry],
  });
  for (const reason of ['eventLoopDelay', 'eventLoopUtilization']) shed.inc({ reason }, 0);
  void app.register(underPressure, {
    maxEventLoopDelay: shedding.eventLoopDelayMs,
    maxEventLoopUtilization: shedding.eventLoopUtilization,
    // Sampled every 100 ms: experiments last seconds.
    sampleInterval: 100,
    // The plugin sends what the handler returns and goes on when it returns nothing
    // (index.js, handlePressure); its types only admit void, hence the cast.
    pressureHandler: ((
      request: FastifyRequest,
      reply: FastifyReply,
      type: string,
      value?: number,
    ) => {
      if (neverShed(request.url)) return undefined;
      shed.inc({ reason: type });
      void reply.code(503).header('retry-after', '1');
      return {
        error: 'under_pressure',
        message: `the ${options.service} is overloaded (${type} ${value === undefined ? '' : value.toFixed(2)}): retry later`,
      };
    }) as unknown as (request: FastifyRequest, reply: FastifyReply) => void,
  });
}

function errorCodeFor(error: FastifyError, statusCode: number): string {
  if (error instanceof BadInput) return error.errorCode;
  if (error.validation) return 'bad_request';
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'invalid_json';
  }
  if (error.code?.startsWith('FST_BEARER_AUTH') || statusCode === 401) return 'unauthorized';
  return statusCode === 404 ? 'not_found' : 'bad_request';
}

/**
 * A Fastify instance with what every cascade-lab service shares: strict JSON
 * validation (unknown fields and wrong types are rejected, never coerced or
 * stripped), JSON errors for every 4xx, `/healthz` and `/metrics`.
 */
export function createServiceApp(options: ServiceAppOptions): App {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? 16_384,
    // Per-request log lines would dominate the CPU at load-test rates; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    schemaErrorFormatter: (errors, dataVar) => new Error(formatIssues(errors, dataVar).join('; ')),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Requests in flight when closing starts answer with `Connection: close`, so their
  // keep-alive sockets don't hold the server open after the answer.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback hooks: an async one costs a promise on every answer.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // Only JSON bodies: text/plain would otherwise reach validation as a string.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) =>
    parseJsonBody(request, body as Buffer, done),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const statusCode = error.statusCode ?? 500;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') keepReadingTooLargeBody(request, reply);
    if (statusCode >= 400 && statusCode < 500) {
      return reply
        .code(statusCode)
        .send({ error: errorCodeFor(error, statusCode), message: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ error: 'internal_error', message: 'internal error' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${request.method} ${request.url}` }),
  );

  app.get(
    '/healthz',
    {
      schema: { response: { 200: Type.Object({ status: Type.String(), service: Type.String() }) } },
    },
    async () => ({ status: 'ok', service: options.service }),
  );

  app.get('/metrics', async (_request, reply) =>
    reply.type(options.registry.contentType).send(await options.registry.metrics()),
  );

  const { shedding } = options;
  if (shedding && (shedding.eventLoopDelayMs > 0 || shedding.eventLoopUtilization > 0))
    registerShedding(app, options, shedding);
  return app;
}

/**
 * Registers admin routes under `/admin`. When `adminToken` is set, every call
 * needs `Authorization: Bearer <token>` (compared in constant time).
 */
export function registerAdmin(
  app: App,
  adminToken: string | undefined,
  routes: (admin: App) => void | Promise<void>,
): void {
  app.register(
    async (admin) => {
      if (adminToken !== undefined) {
        await admin.register(bearerAuth, {
          keys: new Set([adminToken]),
          errorResponse: (err: Error) => ({ error: 'unauthorized', message: err.message }),
        });
      }
      await routes(admin);
    },
    { prefix: '/admin' },
  );
}

/** A body past its route's limit is read and thrown away up to this size; beyond, the socket closes. */
const drainLimitBytes = 64 * 1024 * 1024;

/**
 * After a 413, Fastify closes the connection while the client may still be sending its
 * body; closing a socket with unread bytes sends a reset, which can reach the client before
 * it read the 413 (seen with curl: 1 request in 20 ended in a reset). So the connection is
 * kept and Node reads the rest of the body and throws it away, as it does for any answer
 * sent before the body ended; only a declared body past 64 MiB still closes it at once.
 */
function keepReadingTooLargeBody(request: FastifyRequest, reply: FastifyReply): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > drainLimitBytes) return;
  reply.removeHeader('connection');
}
