import type { FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { Type } from 'typebox';
import { Pool } from 'undici';
import { PoolOccupancy } from '../shared/downstream-work.ts';
import { type Clock, monotonicClock } from '../shared/clock.ts';
import { bodyLimits } from '../shared/json-body.ts';
import { type App, createServiceApp, ErrorBody, registerAdmin } from '../shared/http-app.ts';
import { createMetricsRegistry } from '../shared/metrics.ts';
import { forkRng } from '../shared/rng.ts';
import type { GatewayConfig } from './config.ts';
import { asGatewayError, type GatewayError } from './errors.ts';
import { createForwardTransport, failureStatuses } from './forward-transport.ts';
import { forwardedHeaders, upstreamPath } from '../shared/forward.ts';
import {
  createGatewayMetrics,
  type GatewayMetrics,
  noGatewayMetrics,
  type RequestOutcome,
} from './metrics.ts';
import {
  applyPolicyUpdate,
  type NamedPolicy,
  Policy,
  PolicyError,
  PolicyUpdate,
} from './policy.ts';
import { ResilientClient } from './resilient-client.ts';
import { WarmAnswer, warmConnections, WarmRequest } from './warm.ts';

export interface GatewayDeps {
  logger?: FastifyServerOptions['logger'];
  clock?: Clock;
  /** `false` turns the gateway's own instrumentation off (for the benchmark of its cost). @defaultValue true */
  metrics?: boolean;
}

const RpcRequest = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);
const RpcOk = Type.Object({ id: Type.String(), attempts: Type.Integer() });
const PolicyState = Type.Object({ preset: Type.String(), policy: Policy });

/** The gateway's own answer to a call that failed: what went wrong, and how many tries. */
const errorBody = (error: GatewayError, attempts: number) => ({
  error: error.kind,
  code: error.code,
  message: error.message,
  attempts,
});

/** What `/proxy/*` takes from a client: a body to send again on every attempt. */
const forwardBodyLimitBytes = 1 << 20;

/**
 * The gateway: `POST /rpc` calls downstream `POST /work` through the resilience policy;
 * with an upstream (`config.proxy`), `ALL <route>/*` (`/proxy/*` by default) forwards any request to it through
 * the same policy.
 */
export function buildGateway(config: GatewayConfig, deps: GatewayDeps = {}): App {
  const registry = createMetricsRegistry('gateway');
  const pool = new Pool(config.downstreamUrl, {
    connections: config.downstreamConnections,
    pipelining: 1,
    keepAliveTimeout: 10_000,
  });
  // Gauges are read at scrape time, after the clients exist: with an upstream, they
  // describe the proxy route's policy (breaker, bulkhead), the one a user watches then.
  const metrics: GatewayMetrics =
    deps.metrics === false
      ? noGatewayMetrics()
      : createGatewayMetrics(registry, () => forwarding ?? resilient);
  const resilient = new ResilientClient(config.policy, {
    dispatcher: pool,
    occupancy: new PoolOccupancy(config.downstreamConnections),
    events: metrics,
    rng: forkRng(config.seed, 'gateway'),
    clock: deps.clock ?? monotonicClock,
  });
  const upstreamUrl = config.proxy ? new URL(config.proxy.upstreamUrl) : undefined;
  const upstream =
    config.proxy && upstreamUrl
      ? new Pool(upstreamUrl.origin, { connections: config.proxy.connections, pipelining: 1 })
      : undefined;
  const forwarding =
    config.proxy && upstream && upstreamUrl
      ? new ResilientClient(config.policy, {
          dispatcher: upstream,
          transport: (dispatcher, events) =>
            createForwardTransport(
              dispatcher,
              events,
              failureStatuses(config.proxy!.failureStatuses),
            ),
          events: metrics,
          rng: forkRng(config.seed, 'gateway-proxy'),
          clock: deps.clock ?? monotonicClock,
        })
      : undefined;
  let named: NamedPolicy = applyPolicyUpdate(config.policy, {});
  const app = createServiceApp({
    service: 'gateway',
    registry,
    logger: deps.logger,
    shedding: config.shedding,
  });

  app.post(
    '/rpc',
    {
      ...bodyLimits(16_384, 2),
      schema: { body: RpcRequest, response: { 200: RpcOk, '4xx': ErrorBody, '5xx': ErrorBody } },
      // Answers the handler never saw (invalid body) still say how many attempts were made.
      onSend: (_request, reply, payload, done) => {
        if (!reply.hasHeader('x-attempts')) reply.header('x-attempts', '0');
        done(null, payload);
      },
    },
    async (request, reply) => {
      const startedAt = performance.now();
      const state = { attempts: 0 };
      let outcome: RequestOutcome = 'ok';
      metrics.inflight.inc();
      try {
        await resilient.call({ id: request.body.id, state });
        reply.header('x-attempts', String(state.attempts));
        return { id: request.body.id, attempts: state.attempts };
      } catch (thrown) {
        const error = asGatewayError(thrown);
        outcome = error.kind;
        reply.header('x-attempts', String(state.attempts));
        return reply.code(error.statusCode).send(errorBody(error, state.attempts));
      } finally {
        metrics.inflight.dec();
        metrics.request(outcome, (performance.now() - startedAt) / 1000);
      }
    },
  );

  if (forwarding && upstreamUrl) {
    let sequence = 0;
    const route = config.proxy?.route ?? '/proxy';
    /** What is taken off the path: the route, or nothing when it is every path. */
    const prefix = route === '/' ? '' : route;
    void app.register(async (scope) => {
      // Any body, kept whole: each attempt sends it again.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: forwardBodyLimitBytes },
        (_request, body, done) => done(null, body),
      );
      const forward = async (request: FastifyRequest, reply: FastifyReply) => {
        const startedAt = performance.now();
        const state = { attempts: 0 };
        let outcome: RequestOutcome = 'ok';
        metrics.inflight.inc();
        const path = upstreamPath(upstreamUrl, request.url.slice(prefix.length) || '/');
        try {
          const answer = await forwarding.call({
            id: `proxy-${(sequence += 1)}`,
            state,
            request: {
              method: request.method,
              path,
              headers: forwardedHeaders(request.headers, upstreamUrl.host),
              body: Buffer.isBuffer(request.body) ? request.body : undefined,
            },
          });
          return await reply
            .code(answer.statusCode)
            .headers({ ...answer.headers, 'x-attempts': String(state.attempts) })
            .send(answer.body);
        } catch (thrown) {
          const error = asGatewayError(thrown);
          outcome = error.kind;
          // The upstream's own failing answer, when it gave one; else the gateway's.
          if (error.reply)
            return await reply
              .code(error.reply.statusCode)
              .headers({ ...error.reply.headers, 'x-attempts': String(state.attempts) })
              .send(error.reply.body);
          return await reply
            .code(error.statusCode)
            .header('x-attempts', String(state.attempts))
            .send(errorBody(error, state.attempts));
        } finally {
          metrics.inflight.dec();
          metrics.request(outcome, (performance.now() - startedAt) / 1000);
        }
      };
      if (route === '/') scope.all('/*', forward);
      else {
        scope.all(route, forward);
        scope.all(`${route}/*`, forward);
      }
    });
  }

  registerAdmin(app, config.adminToken, (admin) => {
    admin.get('/policy', { schema: { response: { 200: PolicyState } } }, async () => named);
    admin.put(
      '/policy',
      {
        ...bodyLimits(16_384, 4),
        schema: { body: PolicyUpdate, response: { 200: PolicyState, 400: ErrorBody } },
      },
      async (request, reply) => {
        try {
          named = applyPolicyUpdate(resilient.policy, request.body);
        } catch (error) {
          if (!(error instanceof PolicyError)) throw error;
          return reply.code(400).send({ error: 'bad_request', message: `body.${error.message}` });
        }
        resilient.setPolicy(named.policy);
        forwarding?.setPolicy(named.policy);
        request.log.info({ policy: named }, 'policy changed');
        return named;
      },
    );
    admin.post(
      '/warm',
      {
        ...bodyLimits(1024, 2),
        schema: { body: WarmRequest, response: { 200: WarmAnswer, 400: ErrorBody } },
      },
      async (request) => {
        const { connections } = request.body;
        const [downstream, upstreamOpened] = await Promise.all([
          warmConnections(pool, connections, config.downstreamConnections),
          upstream && config.proxy
            ? warmConnections(upstream, connections, config.proxy.connections)
            : 0,
        ]);
        return { downstream, upstream: upstreamOpened };
      },
    );
  });

  app.addHook('onClose', async () => {
    resilient.close();
    forwarding?.close();
    await pool.close();
    await upstream?.destroy();
  });
  return app;
}
