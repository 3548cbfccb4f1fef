import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  inspectQueues,
  publish,
  startProducer,
  startWorker,
  testPrefix,
  waitUntilSettled,
} from '../support/event-path.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { startServiceProcess } from '../support/processes.ts';
import { uniqueQueueName, useRedisPerFile } from '../support/redis.ts';
import { startDownstream } from '../support/rpc-path.ts';
import { startOwnRedis } from '../support/own-redis.ts';

const { redis: currentRedis, open } = useRedisPerFile();

/** A real HTTP downstream that counts every call per id, so duplicates are seen, not hidden. */
async function countingDownstream(latencyMs: number) {
  const calls = new Map<string, number>();
  const server = Fastify();
  server.post<{ Body: { id: string } }>('/work', async (request) => {
    calls.set(request.body.id, (calls.get(request.body.id) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, latencyMs));
    return { id: request.body.id };
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  open.push(server);
  const total = () => [...calls.values()].reduce((sum, count) => sum + count, 0);
  return { url, calls, total };
}

describe('crash recovery', () => {
  it(
    'recovers the jobs of a worker killed with SIGKILL mid-run; nothing accepted is lost',
    { timeout: 60_000 },
    async () => {
      const queueName = uniqueQueueName('sigkill');
      const downstream = await countingDownstream(150);
      const producer = await startProducer(currentRedis().url, queueName);
      open.push(producer.app);
      const queues = inspectQueues(currentRedis().url, queueName);
      open.push(queues);
      const stalling = {
        LOCK_DURATION_MS: '1000',
        STALLED_INTERVAL_MS: '500',
        MAX_STALLED_COUNT: '5',
      };

      const doomed = await startServiceProcess('services/worker/main.ts', {
        REDIS_URL: currentRedis().url,
        QUEUE_NAME: queueName,
        QUEUE_PREFIX: testPrefix,
        DOWNSTREAM_URL: downstream.url,
        CONCURRENCY: '8',
        ...stalling,
      });
      const ids = Array.from({ length: 80 }, (_, i) => `k-${i}`);
      const { accepted } = await publish(producer.url, ids);
      expect(accepted).toHaveLength(80);

      await eventually(() => expect(downstream.total()).toBeGreaterThanOrEqual(16), 15_000);
      const activeAtKill = await queues.main.getActiveCount();
      expect(await doomed.stop('SIGKILL')).toBeNull();
      expect(activeAtKill).toBeGreaterThan(0);

      const rescuer = await startWorker(currentRedis().url, queueName, downstream.url, {
        lockDurationMs: 1000,
        stalledIntervalMs: 500,
        maxStalledCount: 5,
      });
      open.push(rescuer.app);
      await waitUntilSettled(producer.url, 80, 40_000);

      expect((await queues.completedIds()).sort()).toEqual([...accepted].sort());
      expect(await queues.deadLetteredIds()).toEqual([]);
      for (const id of accepted) expect(downstream.calls.get(id)).toBeGreaterThanOrEqual(1);
      const duplicates = downstream.total() - accepted.length;
      const stalled = await scrape(rescuer.url, 'worker_stalled_jobs_total');
      console.log(
        `SIGKILL: ${activeAtKill} jobs active at the kill, ${stalled} recovered as stalled, ${duplicates} duplicate calls at downstream`,
      );
      // At-least-once: a job whose call reached downstream before the kill is called again.
      // The killed worker may also have redelivered jobs whose lock it failed to renew in
      // time on a loaded machine, so duplicates are reported, not bounded by the stall count.
      expect(stalled).toBeGreaterThan(0);
      expect(duplicates).toBeGreaterThan(0);
      const duplicated = [...downstream.calls].filter(([, count]) => count > 1).map(([id]) => id);
      expect(duplicated.every((id) => accepted.includes(id))).toBe(true);
    },
  );

  it.each([
    [false, 'counts the work the redelivery did twice'],
    [true, 'does the work of each event once'],
  ])(
    'a worker killed with SIGKILL mid-run: with the downstream idempotent %s, it %s',
    { timeout: 60_000 },
    async (idempotentReceiver) => {
      const queueName = uniqueQueueName(`idem-${idempotentReceiver}`);
      const downstream = await startDownstream({
        baseLatencyMs: 150,
        jitterMs: 0,
        idempotentReceiver,
      });
      open.push(downstream.app);
      const producer = await startProducer(currentRedis().url, queueName);
      open.push(producer.app);
      const doomed = await startServiceProcess('services/worker/main.ts', {
        REDIS_URL: currentRedis().url,
        QUEUE_NAME: queueName,
        QUEUE_PREFIX: testPrefix,
        DOWNSTREAM_URL: downstream.url,
        CONCURRENCY: '8',
        LOCK_DURATION_MS: '1000',
        STALLED_INTERVAL_MS: '500',
        MAX_STALLED_COUNT: '5',
      });
      const { accepted } = await publish(
        producer.url,
        Array.from({ length: 40 }, (_, i) => `d-${i}`),
      );
      const ok = () => scrape(downstream.url, 'downstream_requests_total', { outcome: 'ok' });
      await eventually(async () => expect(await ok()).toBeGreaterThanOrEqual(8), 15_000);
      expect(await doomed.stop('SIGKILL')).toBeNull();
      const rescuer = await startWorker(currentRedis().url, queueName, downstream.url, {
        lockDurationMs: 1000,
        stalledIntervalMs: 500,
        maxStalledCount: 5,
      });
      open.push(rescuer.app);
      await waitUntilSettled(producer.url, accepted.length, 40_000);
      expect(await scrape(rescuer.url, 'worker_stalled_jobs_total')).toBeGreaterThan(0);
      const duplicates = await scrape(downstream.url, 'downstream_duplicate_effects_total');
      if (idempotentReceiver) expect(duplicates).toBe(0);
      else expect(duplicates).toBeGreaterThan(0);
      // Either way the work of every event was applied: ok answers cover every key at least once.
      expect(await ok()).toBeGreaterThanOrEqual(accepted.length);
    },
  );

  it(
    'dead-letters jobs that stalled more often than allowed, with the stall as the reason',
    { timeout: 60_000 },
    async () => {
      const queueName = uniqueQueueName('stall');
      const downstream = await countingDownstream(300);
      const producer = await startProducer(currentRedis().url, queueName);
      open.push(producer.app);
      const queues = inspectQueues(currentRedis().url, queueName);
      open.push(queues);
      const doomed = await startServiceProcess('services/worker/main.ts', {
        REDIS_URL: currentRedis().url,
        QUEUE_NAME: queueName,
        QUEUE_PREFIX: testPrefix,
        DOWNSTREAM_URL: downstream.url,
        CONCURRENCY: '4',
        PER_ATTEMPT_TIMEOUT_MS: '5000',
        LOCK_DURATION_MS: '1000',
        STALLED_INTERVAL_MS: '500',
        MAX_STALLED_COUNT: '0',
      });
      const ids = Array.from({ length: 12 }, (_, i) => `s-${i}`);
      await publish(producer.url, ids);
      await eventually(() => expect(downstream.total()).toBeGreaterThanOrEqual(4), 15_000);
      await doomed.stop('SIGKILL');

      const rescuer = await startWorker(currentRedis().url, queueName, downstream.url, {
        lockDurationMs: 1000,
        stalledIntervalMs: 500,
        maxStalledCount: 0,
      });
      open.push(rescuer.app);
      await waitUntilSettled(producer.url, 12, 40_000);
      const deadLettered = await queues.deadLetteredIds();
      expect(deadLettered.length).toBeGreaterThan(0);
      expect([...(await queues.completedIds()), ...deadLettered].sort()).toEqual([...ids].sort());
      for (const id of deadLettered) {
        expect((await queues.dlq.getJob(id))?.data.deadLetter.reason).toMatch(
          /stalled more than allowable limit/,
        );
      }
    },
  );

  it(
    'loses nothing that got a 202 across a Redis crash and restart (AOF, appendfsync always)',
    { timeout: 60_000 },
    async () => {
      const own = await startOwnRedis({ appendOnly: true, appendFsync: 'always' });
      open.push({ close: () => own.stop() });
      const queueName = uniqueQueueName('restart');
      const downstream = await startDownstream();
      open.push(downstream.app);
      const producer = await startProducer(
        own.url,
        queueName,
        {},
        // A publish timeout far above an fsync on a busy machine: while Redis is up every answer is 202.
        { publishTimeoutMs: 2000, depthCacheMs: 0 },
      );
      open.push(producer.app);
      const worker = await startWorker(own.url, queueName, downstream.url, {
        lockDurationMs: 2000,
        stalledIntervalMs: 1000,
        maxStalledCount: 5,
      });
      open.push(worker.app);

      const answers: Array<{ id: string; status: number; phase: string }> = [];
      let phase = 'up';
      let stop = false;
      const publisher = (async () => {
        for (let i = 0; !stop; i += 1) {
          const id = `r-${i}`;
          const postedIn = phase;
          const response = await call(`${producer.url}/events`, { body: { id } });
          answers.push({
            id,
            status: response.status,
            phase: postedIn === phase ? postedIn : 'transition',
          });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      await eventually(() => expect(answers.length).toBeGreaterThan(20), 20_000);
      phase = 'transition';
      await own.kill();
      phase = 'down';
      // Down until answers came while it was (a killed container's address swallows the
      // producer's reconnect, so each may take up to the publish timeout).
      const inPhase = (name: string) => answers.filter((answer) => answer.phase === name);
      await eventually(() => expect(inPhase('down').length).toBeGreaterThan(2), 20_000);
      phase = 'transition';
      await own.restart();
      phase = 'back';
      // Wait on the state, not on a clock: the producer accepts again without a restart.
      await eventually(
        () =>
          expect(
            answers.filter((a) => a.phase === 'back' && a.status === 202).length,
          ).toBeGreaterThan(10),
        20_000,
      );
      stop = true;
      await publisher;

      expect(inPhase('up').every((answer) => answer.status === 202)).toBe(true);
      expect(inPhase('down').length).toBeGreaterThan(0);
      expect(inPhase('down').every((answer) => answer.status === 503)).toBe(true);
      expect(inPhase('back').filter((answer) => answer.status === 202).length).toBeGreaterThan(10);

      const accepted = answers.filter((answer) => answer.status === 202).map((answer) => answer.id);
      await waitUntilSettled(producer.url, accepted.length, 30_000);
      const queues = inspectQueues(own.url, queueName);
      open.push(queues);
      const finished = new Set([
        ...(await queues.completedIds()),
        ...(await queues.deadLetteredIds()),
      ]);
      expect(accepted.filter((id) => !finished.has(id))).toEqual([]);
      console.log(
        `Redis restart: ${accepted.length} accepted, ${inPhase('down').length} answered 503 while down, all accounted for`,
      );
    },
  );
});
