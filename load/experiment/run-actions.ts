import { setTimeout as sleep } from 'node:timers/promises';
import { Scrape } from '../stack/prom-text.ts';
import { poll } from '../../services/shared/poll.ts';
import { type RunPlan } from './time-scale.ts';
import type { Window } from './result.ts';
import { type Target } from './target.ts';
import { killedWorkerLockMs } from './run-hooks.ts';

/** The plan's fault timeline and load trigger as windows, ms after the load starts (wall time). */
export function windowsOf(plan: Pick<RunPlan, 'faults' | 'trigger' | 'killWorker'>): Window[] {
  return [
    // Until its jobs' locks lapse (killedWorkerEnv), then they are redelivered.
    ...(plan.killWorker
      ? [
          {
            startMs: plan.killWorker.at,
            endMs: plan.killWorker.at + killedWorkerLockMs,
            kind: 'worker killed',
          },
        ]
      : []),
    ...plan.faults.map(({ at, durationMs, kind }) => ({
      startMs: at,
      endMs: at + durationMs,
      kind,
    })),
    ...(plan.trigger
      ? [
          {
            startMs: plan.trigger.at,
            endMs: plan.trigger.at + plan.trigger.durationMs,
            kind: 'load trigger',
          },
        ]
      : []),
  ];
}

/**
 * At the plan's time, the worker's last scrape kept (its counters still count), then
 * SIGKILL and a replacement, which gets the run's policy for its place.
 */
export async function killWorkerAt(
  target: Target,
  plan: RunPlan,
  warnings: string[],
): Promise<void> {
  const { at, index } = plan.killWorker!;
  if (!target.killWorker) throw new Error('killWorker needs a fresh local stack');
  await sleep(at);
  try {
    target.retiredWorkers.push(await Scrape.of(target.workers[index]!));
    const replacement = await target.killWorker(index);
    target.workers[index] = replacement;
    await target.admin.put(`${replacement}/admin/policy`, workerPolicyOf(plan, index));
  } catch (error) {
    warnings.push(`killing worker ${index} failed: ${(error as Error).message}`);
  }
}

/** Polls the downstream until it works on nothing; answers how many calls it still had at the deadline. */
export async function waitForDownstreamIdle(
  downstreamUrl: string,
  timeoutMs: number,
): Promise<number> {
  const { value } = await poll(
    async () => (await Scrape.of(downstreamUrl)).sum('downstream_inflight_requests'),
    (inflight) => inflight === 0,
    { timeoutMs, everyMs: 50 },
  );
  return value;
}

/** Applies the plan's model and the run's whole policies: the gateway's, or the producer's and every worker's. */
export async function applyPlan(plan: RunPlan, target: Target): Promise<void> {
  const { admin, urls } = target;
  await admin.put(`${urls.downstream}/admin/faults`, { model: plan.model });
  if (plan.gateway) await admin.put(`${urls.gateway}/admin/policy`, plan.gateway);
  if (plan.producer) await admin.put(`${urls.producer}/admin/policy`, plan.producer);
  if (plan.worker)
    await Promise.all(
      target.workers.map((worker, index) =>
        admin.put(`${worker}/admin/policy`, workerPolicyOf(plan, index)),
      ),
    );
}

/** A topic's workers are its subscribers', in order (a fresh stack starts them so). */
export const workerPolicyOf = (plan: RunPlan, index: number) =>
  plan.subscriberWorkers?.[index] ?? plan.worker;
