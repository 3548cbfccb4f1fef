import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from 'typebox';
import type { Clock } from '../shared/clock.ts';
import { conflictHeader, deadlineHeader } from '../shared/downstream-work.ts';
import { headerValue } from '../shared/forward.ts';
import { type App, ErrorBody } from '../shared/http-app.ts';
import { bodyLimits } from '../shared/json-body.ts';
import type { Rng } from '../shared/rng.ts';
import { decideDeadline, parseDeadlineMs } from './deadline.ts';
import { type EffectLedger, type StoredOutcome } from './effects.ts';
import { type FailureModelParams, sampleOutcome } from './failure-model.ts';
import type { FaultTable } from './faults.ts';
import type { createDownstreamMetrics } from './metrics.ts';
import { waitUnlessGone } from './proxy.ts';
import { conflictKeyOf, type VersionStore } from './versions.ts';
import type { Slot, Waiting, WorkPool } from './work-pool.ts';

export const WorkRequest = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    /** The contended key this request writes (with the model's `conflictKeys`); else chosen from `id`. */
    key: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);

const deadlineExceeded = (when: string) => ({
  error: 'deadline_exceeded',
  message: `the caller's deadline (${deadlineHeader}) ${when}`,
});

/** What `POST /work` works with: the downstream's state, made by buildDownstream. */
export interface WorkContext {
  clock: Clock;
  rng: Rng;
  faults: FaultTable;
  effects: EffectLedger;
  versions: VersionStore;
  pool: WorkPool;
  metrics: ReturnType<typeof createDownstreamMetrics>;
  /** The model in force now (an admin call can change it mid-run). */
  model: () => FailureModelParams;
  /** A request starts being worked on: answers the load factor it meets. */
  enter: () => number;
  leave: () => void;
  /** A hung request, held until the client gives up or the server closes. */
  hold: (socket: Socket) => Promise<void>;
}

/**
 * `POST /work`: an idempotency check, the caller's deadline, a place in the bounded pool
 * (or 503 overloaded), the timed faults, then the failure model's latency and outcome.
 */
export function registerWorkRoute(app: App, ctx: WorkContext): void {
  const { clock, rng, faults, effects, versions, pool, metrics, enter, leave, hold } = ctx;
  /**
   * A queued request's turn: its slot, or undefined when its caller closed the connection
   * first and `cancelOnDisconnect` gives up its place.
   */
  const waitForSlot = async (waiting: Waiting, socket: Socket): Promise<Slot | undefined> => {
    if (!ctx.model().cancelOnDisconnect) return waiting.slot;
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
  /**
   * The work itself, `ms` long; with `cancelOnDisconnect` it stops when the caller closes
   * the connection. Answers whether it ran to the end.
   */
  const doWork = async (socket: Socket, ms: number): Promise<boolean> => {
    if (ctx.model().cancelOnDisconnect) return waitUnlessGone(socket, ms);
    await sleep(ms);
    return true;
  };

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
      const idempotent = ctx.model().idempotentReceiver && key !== undefined;
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
      const budgetMs = ctx.model().honourDeadlines
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
        if (ctx.model().poolConcurrency > 0) {
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
          return await reply.code(504).send(deadlineExceeded('passed while it waited for a slot'));
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
        const { conflictKeys } = ctx.model();
        const written =
          conflictKeys > 0
            ? conflictKeyOf(request.body.id, request.body.key, conflictKeys)
            : undefined;
        const seenVersion = written === undefined ? 0 : versions.read(written);
        const outcome = sampleOutcome(factor, ctx.model(), rng);
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
              fault.action === 'error' ? 'injected error fault' : 'failed under the failure model',
          });
        }
        if (written !== undefined && !versions.commit(written, seenVersion)) {
          metrics.observe('conflict', caller, seconds);
          return reply
            .code(409)
            .header(conflictHeader, 'conflict')
            .send({
              error: 'conflict',
              message: `key ${JSON.stringify(written)} was written by another request while this one worked: read it again and retry`,
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
}
