import type { FastifyServerOptions } from 'fastify';
import { Type } from 'typebox';
import { Pool } from 'undici';
import { PoolOccupancy } from '../shared/downstream-work.ts';
import { type Clock, monotonicClock } from '../shared/clock.ts';
import { bodyLimits } from '../shared/json-body.ts';
import { type App, createServiceApp, ErrorBody, registerAdmin } from '../shared/http-app.ts';
import { createMetricsRegistry } from '../shared/metrics.ts';
import { forkRng } from '../shared/rng.ts';
import type { GatewayConfig } from './config.ts';
import { asGatewayError } from './errors.ts';
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

/** The gateway: `POST /rpc` calls downstream `POST /work` through the resilience policy. */
export function buildGateway(config: GatewayConfig, deps: GatewayDeps = {}): App {
  const registry = createMetricsRegistry('gateway');
  const pool = new Pool(config.downstreamUrl, {
    connections: config.downstreamConnections,
    pipelining: 1,
    keepAliveTimeout: 10_000,
  });
  // Gauges are read at scrape time, after `resilient` exists.
  const metrics: GatewayMetrics =
    deps.metrics === false ? noGatewayMetrics() : createGatewayMetrics(registry, () => resilient);
  const resilient = new ResilientClient(config.policy, {
    dispatcher: pool,
    occupancy: new PoolOccupancy(config.downstreamConnections),
    events: metrics,
    rng: forkRng(config.seed, 'gateway'),
    clock: deps.clock ?? monotonicClock,
  });
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
        return reply.code(error.statusCode).send({
          error: error.kind,
          code: error.code,
          message: error.message,
          attempts: state.attempts,
        });
      } finally {
        metrics.inflight.dec();
        metrics.request(outcome, (performance.now() - startedAt) / 1000);
      }
    },
  );

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
        request.log.info({ policy: named }, 'policy changed');
        return named;
      },
    );
  });

  app.addHook('onClose', async () => {
    resilient.close();
    await pool.close();
  });
  return app;
}
