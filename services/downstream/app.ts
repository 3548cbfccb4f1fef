import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { deadlineHeader } from '../shared/downstream-work.ts';
import { headerValue } from '../shared/forward.ts';
import { decideDeadline, parseDeadlineMs } from './deadline.ts';
import { EffectLedger, type StoredOutcome } from './effects.ts';
import { type Slot, type Waiting, WorkPool } from './work-pool.ts';
import { FaultSpec, FaultTable, faultSpecProblem } from './faults.ts';
import { createDownstreamMetrics } from './metrics.ts';
import { registerProxy, waitUnlessGone } from './proxy.ts';

export interface DownstreamDeps {
  logger?: FastifyServerOptions['logger'];
  clock?: Clock;
}

export const WorkRequest = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

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

const deadlineExceeded = (when: string) => ({
  error: 'deadline_exceeded',
  message: `the caller's deadline (${deadlineHeader}) ${when}`,
});

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
  /**
   * A queued request's turn: its slot, or undefined when its caller closed the connection
   * first and `cancelOnDisconnect` gives up its place.
   */
  const waitForSlot = async (waiting: Waiting, socket: Socket): Promise<Slot | undefined> => {
    if (!model.cancelOnDisconnect) return waiting.slot;
    let onClose = () => undefined as void;
    const gone = new Promise<undefined>((resolve) => {
      onClose = () => {
        waiting.leave();
        // Granted just before the caller left: give the slot straight back.
        void waiting.slot.then((slot) => slot.release());
        resolve(undefined);
      };
      if (socket.destroyed) onClose();
      else socket.once('close', onClose);
    });
    try {
      return await Promise.race([waiting.slot, gone]);
    } finally {
      socket.off('close', onClose);
    }
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
  /**
   * The work itself, `ms` long; with `cancelOnDisconnect` it stops when the caller closes
   * the connection. Answers whether it ran to the end.
   */
  const doWork = async (socket: Socket, ms: number): Promise<boolean> => {
    if (model.cancelOnDisconnect) return waitUnlessGone(socket, ms);
    await sleep(ms);
    return true;
  };

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
    app.post(
      '/work',
      {
        ...bodyLimits(16_384, 2),
        schema: {
          body: WorkRequest,
          response: {
            200: Type.Object({ id: Type.String(), latencyMs: Type.Number() }),
            409: ErrorBody,
            503: ErrorBody,
            504: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const startedAt = clock();
        const key = headerValue(request.headers['idempotency-key']);
        const caller = headerValue(request.headers['x-cascade-caller']);
        const idempotent = model.idempotentReceiver && key !== undefined;
        if (idempotent) {
          const seen = effects.check(key);
          if (seen.kind === 'replay') {
            metrics.observe('replayed', caller);
            reply.header('idempotent-replayed', 'true');
            return seen.outcome;
          }
          if (seen.kind === 'in_progress') {
            metrics.observe('in_progress', caller);
            return reply.code(409).send({
              error: 'idempotency_in_progress',
              message: `a request with Idempotency-Key ${JSON.stringify(key)} is still being worked on; retry later`,
            });
          }
        }
        const budgetMs = model.honourDeadlines
          ? parseDeadlineMs(headerValue(request.headers[deadlineHeader]))
          : undefined;
        let stored: StoredOutcome | undefined;
        let slot: Slot | undefined;
        try {
          // Nobody waits for it any more: refused before it takes a slot.
          if (budgetMs === 0) {
            metrics.observe('deadline_refused', caller);
            return await reply.code(504).send(deadlineExceeded('had passed on arrival'));
          }
          if (model.poolConcurrency > 0) {
            const admission = pool.admit();
            if (admission.kind === 'full') {
              metrics.observe('shed', caller);
              // Overloaded: don't retry now (the SRE book); Retry-After is in whole seconds.
              return await reply
                .code(503)
                .header('retry-after', '1')
                .send({
                  error: 'overloaded',
                  message: `${pool.active} requests being worked on and ${pool.waiting} waiting: retry later`,
                });
            }
            slot =
              admission.kind === 'slot'
                ? admission.slot
                : await waitForSlot(admission.waiting, request.raw.socket);
            if (slot === undefined) {
              metrics.observe('cancelled', caller, (clock() - startedAt) / 1000);
              reply.hijack();
              return reply;
            }
          }
          // Time spent waiting for a slot came out of the caller's budget.
          const leftMs = budgetMs === undefined ? undefined : budgetMs - (clock() - startedAt);
          if (leftMs !== undefined && leftMs <= 0) {
            metrics.observe('deadline_refused', caller);
            return await reply
              .code(504)
              .send(deadlineExceeded('passed while it waited for a slot'));
          }
          const factor = enter();
          const fault = faults.decide(rng, {
            caller,
            method: 'POST',
            path: '/work',
            header: (name) => headerValue(request.headers[name]),
          });
          if (fault.action === 'reset') {
            leave();
            metrics.observe('fault_reset', caller);
            reply.hijack();
            request.raw.socket.destroy();
            return reply;
          }
          if (fault.action === 'hang') {
            metrics.observe('fault_hang', caller);
            reply.hijack();
            await hold(request.raw.socket);
            leave();
            request.raw.socket.destroy();
            return reply;
          }
          const outcome = sampleOutcome(factor, model, rng);
          const latencyMs = outcome.latencyMs + fault.addedLatencyMs;
          const work = decideDeadline(leftMs, latencyMs);
          const finished = work.kind === 'work' && (await doWork(request.raw.socket, work.ms));
          leave();
          const seconds = (clock() - startedAt) / 1000;
          if (!finished) {
            // The caller closed the connection: the work stopped, and nobody is there to answer.
            metrics.observe('cancelled', caller, seconds);
            reply.hijack();
            return reply;
          }
          if (work.kind === 'work' && work.dropped) {
            metrics.observe('deadline_dropped', caller, seconds);
            return await reply.code(504).send(deadlineExceeded('passed while it was worked on'));
          }
          // Finished, and the caller had gone: done for nobody.
          if (request.raw.socket.destroyed) metrics.wastedWork(caller);
          // W3C Server-Timing: the caller subtracts it from its attempt to see the host's share.
          reply.header('server-timing', `work;dur=${(seconds * 1000).toFixed(3)}`);
          if (fault.action === 'error' || outcome.fail) {
            metrics.observe(fault.action === 'error' ? 'fault_error' : 'error', caller, seconds);
            return reply.code(503).send({
              error: 'downstream_error',
              message:
                fault.action === 'error'
                  ? 'injected error fault'
                  : 'failed under the failure model',
            });
          }
          metrics.observe('ok', caller, seconds);
          // The work is done whether or not the caller still waits: a second one for a key is a duplicate.
          if (key !== undefined && effects.applied(key)) metrics.duplicateEffect(caller);
          stored = { id: request.body.id, latencyMs: Math.round(latencyMs * 1000) / 1000 };
          return stored;
        } finally {
          slot?.release();
          if (idempotent) effects.release(key, stored);
        }
      },
    );

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
