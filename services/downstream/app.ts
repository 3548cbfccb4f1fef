import type { Socket } from 'node:net';
import type { FastifyServerOptions } from 'fastify';
import { Type } from 'typebox';
import { type Clock, monotonicClock } from '../shared/clock.ts';
import { bodyLimits } from '../shared/json-body.ts';
import { type App, createServiceApp, ErrorBody, registerAdmin } from '../shared/http-app.ts';
import { createMetricsRegistry } from '../shared/metrics.ts';
import { forkRng } from '../shared/rng.ts';
import type { DownstreamConfig } from './config.ts';
import {
  applyModelUpdate,
  FailureModelParams,
  loadFactor,
  ModelUpdate,
  sampleOutcome,
} from './failure-model.ts';
import { Pool } from 'undici';
import { EffectLedger } from './effects.ts';
import { VersionStore } from './versions.ts';
import { WorkPool } from './work-pool.ts';
import { FaultSpec, FaultTable, faultSpecProblem } from './faults.ts';
import { createDownstreamMetrics } from './metrics.ts';
import { registerProxy } from './proxy.ts';
import { registerWorkRoute } from './work-route.ts';

export interface DownstreamDeps {
  logger?: FastifyServerOptions['logger'];
  clock?: Clock;
}

const FaultsState = Type.Object({
  model: FailureModelParams,
  faults: Type.Array(
    Type.Object({
      id: Type.Integer(),
      kind: Type.String(),
      fraction: Type.Number(),
      latencyMs: Type.Optional(Type.Number()),
      caller: Type.Optional(Type.String()),
      durationMs: Type.Integer(),
      remainingMs: Type.Integer(),
    }),
  ),
});

const FaultsUpdate = Type.Object(
  {
    model: Type.Optional(ModelUpdate),
    faults: Type.Optional(Type.Array(FaultSpec, { maxItems: 32 })),
  },
  { additionalProperties: false },
);

/**
 * The downstream service: `POST /work` under a load-dependent failure model plus timed
 * faults; in proxy mode (`config.proxy`), every request forwarded to an upstream instead,
 * with the same faults on the way.
 */
export function buildDownstream(config: DownstreamConfig, deps: DownstreamDeps = {}): App {
  const clock = deps.clock ?? monotonicClock;
  const rng = forkRng(config.seed, 'downstream');
  const registry = createMetricsRegistry('downstream');
  const faults = new FaultTable(clock);
  const effects = new EffectLedger();
  const versions = new VersionStore();
  let model = { ...config.model };
  /** The model in force from now on; the pool takes its sizes once, not per request. */
  const setModel = (next: FailureModelParams) => {
    model = next;
    pool.configure({
      concurrency: model.poolConcurrency,
      queueSize: model.poolQueueSize,
      order: model.poolQueueOrder,
    });
  };
  let inflight = 0;
  const hung = new Set<() => void>();
  const pool = new WorkPool({
    concurrency: model.poolConcurrency,
    queueSize: model.poolQueueSize,
    order: model.poolQueueOrder,
  });
  const metrics = createDownstreamMetrics(
    registry,
    () => faults.countByKind(),
    clock,
    () => pool.waiting,
  );
  const app = createServiceApp({
    service: 'downstream',
    registry,
    logger: deps.logger,
    shedding: config.shedding,
  });

  const enter = () => {
    inflight += 1;
    const factor = loadFactor(inflight, model.capacityRps);
    metrics.setLoad(inflight, factor);
    metrics.arrival(factor);
    return factor;
  };
  const leave = () => {
    inflight -= 1;
    metrics.setLoad(inflight, loadFactor(inflight, model.capacityRps));
  };
  /** A hung request, held until the client gives up or the server closes. */
  const hold = (socket: Socket) =>
    new Promise<void>((resolve) => {
      const release = () => {
        hung.delete(release);
        resolve();
      };
      hung.add(release);
      socket.once('close', release);
    });
  const upstream = config.proxy
    ? new Pool(new URL(config.proxy.upstreamUrl).origin, {
        connections: config.proxy.connections,
      })
    : undefined;
  if (config.proxy && upstream)
    registerProxy(app, {
      upstream,
      upstreamUrl: new URL(config.proxy.upstreamUrl),
      decide: (target) => faults.decide(rng, target),
      enter,
      leave,
      sample: (factor) =>
        config.proxy?.applyModel ? sampleOutcome(factor, model, rng) : undefined,
      hold,
      observe: (outcome, { caller, route, upstreamStatus }, seconds) =>
        metrics.observe(outcome, caller, seconds, { route, upstreamStatus }),
    });
  else
    registerWorkRoute(app, {
      clock,
      rng,
      faults,
      effects,
      versions,
      pool,
      metrics,
      model: () => model,
      enter,
      leave,
      hold,
    });

  const state = () => ({ model, faults: faults.active() });
  registerAdmin(app, config.adminToken, (admin) => {
    admin.get('/faults', { schema: { response: { 200: FaultsState } } }, async () => state());
    admin.put(
      '/faults',
      {
        ...bodyLimits(16_384, 4),
        schema: { body: FaultsUpdate, response: { 200: FaultsState, 400: ErrorBody } },
      },
      async (request, reply) => {
        const specs = request.body.faults ?? [];
        // Check every spec before adding any, so a bad list changes nothing.
        for (const [index, spec] of specs.entries()) {
          const problem = faultSpecProblem(spec);
          if (problem !== undefined) {
            return reply
              .code(400)
              .send({ error: 'bad_request', message: `body.faults[${index}]: ${problem}` });
          }
        }
        setModel(applyModelUpdate(model, request.body.model));
        for (const spec of specs) faults.add(spec);
        return state();
      },
    );
    admin.delete('/faults', { schema: { response: { 200: FaultsState } } }, async () => {
      faults.clear();
      setModel({ ...config.model });
      return state();
    });
  });

  app.addHook('preClose', async () => {
    for (const release of [...hung]) release();
  });
  app.addHook('onClose', async () => {
    // Not close(): it would wait for calls to a hung upstream.
    await upstream?.destroy();
  });
  return app;
}
