/**
 * The leanest event path: this process adds jobs with Queue.add at a fixed rate and a
 * BullMQ Worker (same concurrency) makes the same HTTP call to the downstream. No HTTP
 * producer, no backoff strategy, no DLQ, no metrics. Prints when the last job finished.
 */
import { Queue, Worker } from 'bullmq';
import { Redis as IORedis } from 'ioredis';
import { Pool } from 'undici';

const [redisUrl, queueName, downstreamUrl] = process.argv.slice(2, 5) as [string, string, string];
const [count, rate, concurrency] = process.argv.slice(5, 8).map(Number) as [number, number, number];
const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
const workerConnection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(queueName, { connection });
const pool = new Pool(downstreamUrl, { connections: 64, pipelining: 1 });
let completed = 0;
let resolveDone: () => void;
const done = new Promise<void>((resolve) => (resolveDone = resolve));
const worker = new Worker(
  queueName,
  async (job) => {
    const response = await pool.request({
      method: 'POST',
      path: '/work',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: job.id }),
    });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`downstream answered ${response.statusCode}`);
  },
  { connection: workerConnection, concurrency },
);
worker.on('completed', () => {
  completed += 1;
  if (completed === count) resolveDone();
});
await worker.waitUntilReady();
const start = performance.now();
for (let i = 0; i < count; i += 1) {
  const due = start + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  void queue.add('event', { i }, { jobId: `b-${i}`, removeOnComplete: false, attempts: 4 });
}
await done;
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${JSON.stringify({ completed, seconds })}\n`);
await worker.close();
await queue.close();
await pool.close();
connection.disconnect();
workerConnection.disconnect();
