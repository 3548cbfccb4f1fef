import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Queue, Worker } from 'bullmq';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { producerConnection, workerConnection } from '../../services/shared/redis-connection.ts';
import { DeadLetterQueue } from '../../services/worker/dead-letter.ts';
import {
  failWithoutDeadLettering,
  inspectQueues,
  publish,
  startProducer,
  startWorker,
  testPrefix,
  waitUntilSettled,
} from '../support/event-path.ts';
import { call, scrape } from '../support/http.ts';
import { repoRoot } from '../support/processes.ts';
import { uniqueQueueName, useRedisPerFile } from '../support/redis.ts';
import { startDownstream } from '../support/rpc-path.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);
const { redis: currentRedis, open } = useRedisPerFile();

async function eventPath(
  label: string,
  model: Parameters<typeof startDownstream>[0],
  maxRetries = 3,
) {
  const queueName = uniqueQueueName(label);
  const downstream = await startDownstream(model);
  open.push(downstream.app);
  const producer = await startProducer(currentRedis().url, queueName, { maxRetries });
  open.push(producer.app);
  const worker = await startWorker(currentRedis().url, queueName, downstream.url);
  open.push(worker.app);
  const queues = inspectQueues(currentRedis().url, queueName);
  open.push(queues);
  return { queueName, downstream, producer, worker, queues };
}

describe('event path over real Redis and real HTTP', () => {
  it('accounts for every accepted event: completed + dead-lettered = accepted, exactly, by id', async () => {
    const { producer, worker, downstream, queues } = await eventPath(
      'accounting',
      { failProbability: 0.3 },
      2,
    );
    const ids = Array.from({ length: 300 }, (_, i) => `acc-${i}`);
    const { accepted } = await publish(producer.url, ids);
    expect(accepted).toHaveLength(300);
    await waitUntilSettled(producer.url, 300);

    const completed = await queues.completedIds();
    const deadLettered = await queues.deadLetteredIds();
    expect(completed.filter((id) => deadLettered.includes(id))).toEqual([]);
    expect([...completed, ...deadLettered].sort()).toEqual([...accepted].sort());
    // With p = 0.3 and 3 attempts, about 0.3³ ≈ 2.7 % end in the DLQ.
    expect(deadLettered.length).toBeGreaterThan(0);
    expect(deadLettered.length).toBeLessThan(30);

    expect(await scrape(worker.url, 'worker_jobs_total', { outcome: 'completed' })).toBe(
      completed.length,
    );
    expect(await scrape(worker.url, 'worker_jobs_total', { outcome: 'dead_lettered' })).toBe(
      deadLettered.length,
    );
    const failedAttempts = await scrape(worker.url, 'worker_jobs_total', {
      outcome: 'failed_attempt',
    });
    expect(await scrape(worker.url, 'worker_retries_total')).toBe(
      failedAttempts - deadLettered.length,
    );
    expect(await scrape(downstream.url, 'downstream_requests_total')).toBe(
      completed.length + failedAttempts,
    );
    expect(await scrape(worker.url, 'worker_end_to_end_duration_seconds_count')).toBe(
      completed.length,
    );
    expect(await scrape(worker.url, 'worker_queue_jobs', { queue: 'dlq' })).toBe(
      deadLettered.length,
    );
  });

  it('dead-letters events whose downstream fails for good, and `dlq redrive` completes them once it is fixed', async () => {
    const { producer, downstream, queues, queueName } = await eventPath('dlq', {}, 2);
    await call(`${downstream.url}/admin/faults`, {
      method: 'PUT',
      body: { faults: [{ kind: 'error', durationMs: 600_000 }] },
    });
    const ids = Array.from({ length: 20 }, (_, i) => `dead-${i}`);
    await publish(producer.url, ids);
    await waitUntilSettled(producer.url, 20);
    expect((await queues.deadLetteredIds()).sort()).toEqual([...ids].sort());
    const job = await queues.dlq.getJob('dead-0');
    expect(job?.data.deadLetter).toMatchObject({
      reason: 'downstream_error: downstream answered 503',
      attemptsMade: 3,
      attempts: 3,
    });

    const cli = [builtCli(), 'dlq'];
    const where = ['--redis', currentRedis().url, '--queue', queueName, '--prefix', testPrefix];
    const listed = await run(process.execPath, [...cli, 'list', '--limit', '5', ...where], {
      cwd: repoRoot,
    });
    expect(listed.stdout).toMatch(/^id\s+attempts\s+failed at\s+reason/);
    expect(listed.stdout).toContain('downstream_error: downstream answered 503');
    expect(listed.stdout).toContain('5 of 20 dead-lettered jobs shown');
    const dry = await run(process.execPath, [...cli, 'redrive', '--all', '--dry-run', ...where], {
      cwd: repoRoot,
    });
    expect(dry.stdout).toContain('would redrive 20 jobs (dry run)');
    expect(await queues.dlq.getWaitingCount()).toBe(20);

    await call(`${downstream.url}/admin/faults`, { method: 'DELETE' });
    const redrive = await run(process.execPath, [...cli, 'redrive', '--all', ...where], {
      cwd: repoRoot,
    });
    expect(redrive.stdout).toContain(`redrove 20 jobs to ${queueName}`);
    await waitUntilSettled(producer.url, 20);
    expect((await queues.completedIds()).sort()).toEqual([...ids].sort());
    expect(await queues.dlq.getWaitingCount()).toBe(0);
  });

  it('sends a 4xx straight to the DLQ after one attempt (retrying cannot help)', async () => {
    const rejecting = Fastify();
    rejecting.post('/work', async (_request, reply) => reply.code(422).send({ error: 'no' }));
    const url = await rejecting.listen({ host: '127.0.0.1', port: 0 });
    open.push(rejecting);
    const queueName = uniqueQueueName('4xx');
    const producer = await startProducer(currentRedis().url, queueName, { maxRetries: 3 });
    open.push(producer.app);
    open.push((await startWorker(currentRedis().url, queueName, url)).app);
    const queues = inspectQueues(currentRedis().url, queueName);
    open.push(queues);
    await publish(producer.url, ['rejected']);
    await waitUntilSettled(producer.url, 1);
    expect((await queues.dlq.getJob('rejected'))?.data.deadLetter).toMatchObject({
      attemptsMade: 1,
      reason: 'downstream_rejected: downstream answered 422',
    });
  });

  it('sweeps jobs that failed finally but never reached the DLQ (a crash between the two)', async () => {
    const queueName = uniqueQueueName('sweep');
    // A bare BullMQ worker fails jobs for good and, like a worker that crashed, never dead-letters them.
    const crashed = await failWithoutDeadLettering(
      currentRedis().url,
      queueName,
      testPrefix,
      ['lost-1', 'lost-2', 'lost-3'],
      'crashed before dead-lettering',
    );
    const queues = inspectQueues(currentRedis().url, queueName);
    open.push(queues);
    await expect
      .poll(() => queues.failedIds().then((ids) => ids.length), { timeout: 10_000 })
      .toBe(3);
    await crashed.close();

    const downstream = await startDownstream();
    open.push(downstream.app);
    const worker = await startWorker(currentRedis().url, queueName, downstream.url);
    open.push(worker.app);
    await expect
      .poll(() => queues.deadLetteredIds().then((ids) => ids.sort()), { timeout: 10_000 })
      .toEqual(['lost-1', 'lost-2', 'lost-3']);
    expect(await queues.failedIds()).toEqual([]);
    expect((await queues.dlq.getJob('lost-1'))?.data.deadLetter.reason).toBe(
      'crashed before dead-lettering',
    );
    expect(await scrape(worker.url, 'worker_jobs_total', { outcome: 'dead_lettered' })).toBe(3);
  });

  it('counts a job moved to the DLQ once when several movers race for it', async () => {
    const queueName = uniqueQueueName('race');
    const connection = producerConnection(currentRedis().url);
    const queue = new Queue(queueName, { connection, prefix: testPrefix });
    await queue.add(
      'event',
      {
        id: 'r',
        publishedAt: 0,
        publishToken: 'r',
        backoff: { kind: 'none', baseMs: 0, capMs: 0, jitter: 'none' },
      },
      { jobId: 'r', attempts: 1, removeOnFail: false },
    );
    const bare = new Worker(queueName, async () => Promise.reject(new Error('boom')), {
      connection: workerConnection(currentRedis().url),
      prefix: testPrefix,
    });
    const queues = inspectQueues(currentRedis().url, queueName);
    open.push(queues);
    await expect.poll(() => queues.failedIds(), { timeout: 10_000 }).toEqual(['r']);
    await bare.close();
    await queue.close();
    connection.disconnect();
    const movers = Array.from({ length: 5 }, () => new DeadLetterQueue(queues.main, queues.dlq));
    const results = await Promise.all(movers.map((mover) => mover.moveIfFinallyFailed('r')));
    expect(results.filter((result) => result === 'failed')).toHaveLength(1);
    expect(await queues.deadLetteredIds()).toEqual(['r']);
    expect(await queues.failedIds()).toEqual([]);
  });

  it('changes worker concurrency and timeout through PUT /admin/policy', async () => {
    const { worker } = await eventPath('policy', {});
    const put = await call(`${worker.url}/admin/policy`, {
      method: 'PUT',
      body: { concurrency: 4 },
    });
    expect(put.body).toEqual({ concurrency: 4, perAttemptTimeoutMs: 500, lockPerKey: false });
    expect(
      (await call(`${worker.url}/admin/policy`, { method: 'PUT', body: { concurrency: 0 } }))
        .status,
    ).toBe(400);
    expect(
      (await call(`${worker.url}/admin/policy`, { method: 'PUT', body: { threads: 2 } })).body
        .message,
    ).toContain('unknown field "threads"');
  });
});
