import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import type { ProvidedRedis } from '../../load/stack/redis-provider.ts';
import { inspectQueues, publish, startProducer, testPrefix } from '../support/event-path.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { runEntry, startServiceProcess } from '../support/processes.ts';
import { testRedis, uniqueQueueName } from '../support/redis.ts';
import { type ServiceName, startStack, stopLiveStacks } from '../../load/stack/stack.ts';

async function exitOf(entry: string, env: Record<string, string>) {
  const child = runEntry(entry, env);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('service processes', () => {
  it('the gateway exits non-zero naming every bad variable', async () => {
    const { code, stderr } = await exitOf('services/gateway/main.ts', {
      PORT: 'eighty',
      POLICY_PRESET: 'reckless',
      DOWNSTREAM_CONNECTIONS: '0',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('gateway: invalid configuration:');
    expect(stderr).toContain('PORT: must be integer (got "eighty")');
    expect(stderr).toContain(
      'POLICY_PRESET: must be one of safe, unsafe, budgeted, aws-sdk-standard, aws-sdk-2026, grpc, envoy, finagle, polly, resilience4j (got "reckless")',
    );
    expect(stderr).toContain('DOWNSTREAM_CONNECTIONS: must be >= 1 (got 0)');
  });

  it('the CLI reads its environment once and names every bad variable before doing anything', async () => {
    const child = runEntry(
      'load/cli.ts',
      { LOAD_METRICS_PORT: 'ninety', SEED: '-1', REDIS_URL: 'http://x' },
      ['load', '--target', 'rpc', '--url', 'http://127.0.0.1:9'],
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain('cascade-lab: invalid configuration:');
    expect(stderr).toContain('LOAD_METRICS_PORT: must be integer (got "ninety")');
    expect(stderr).toContain('SEED: must be >= 0 (got -1)');
    expect(stderr).toContain('REDIS_URL: must match pattern');
  });

  it('the downstream exits non-zero naming the bad variable', async () => {
    const { code, stderr } = await exitOf('services/downstream/main.ts', {
      FAIL_PROBABILITY: 'lots',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('FAIL_PROBABILITY: must be number (got "lots")');
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const downstream = await startServiceProcess('services/downstream/main.ts', {
      BASE_LATENCY_MS: '600',
      JITTER_MS: '0',
      FAIL_PROBABILITY: '0',
    });
    const inFlight = call(`${downstream.url}/work`, { body: { id: 'slow' } });
    // Wait on the state, not on a clock: the request is being worked on.
    await eventually(
      async () => expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(1),
      15_000,
    );
    const exited = downstream.stop('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: 'slow' });
    expect(await exited).toBe(0);
    await expect(call(`${downstream.url}/healthz`)).rejects.toThrow();
  });

  it('on SIGINT an idle gateway closes its pool and exits 0', async () => {
    const gateway = await startServiceProcess('services/gateway/main.ts');
    expect((await call(`${gateway.url}/healthz`)).body).toEqual({
      status: 'ok',
      service: 'gateway',
    });
    expect(await gateway.stop('SIGINT')).toBe(0);
    expect(gateway.output()).toContain('closing');
  });

  it('the producer and the worker exit non-zero naming every bad variable', async () => {
    const producer = await exitOf('services/producer/main.ts', {
      REDIS_URL: 'http://nope',
      MAX_DEPTH: '0',
    });
    expect(producer.code).toBe(1);
    expect(producer.stderr).toContain('REDIS_URL: must match pattern');
    expect(producer.stderr).toContain('MAX_DEPTH: must be >= 1 (got 0)');
    const worker = await exitOf('services/worker/main.ts', {
      CONCURRENCY: 'many',
      QUEUE_NAME: 'no spaces',
    });
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain('CONCURRENCY: must be integer (got "many")');
    expect(worker.stderr).toContain('QUEUE_NAME: must match pattern');
  });

  describe('with Redis', () => {
    let redis: ProvidedRedis;
    beforeAll(async () => {
      redis = await testRedis();
    });
    afterAll(async () => {
      await redis.stop();
    });

    it(
      'on SIGTERM the worker takes no new jobs, lets active ones finish, and exits 0',
      { timeout: 30_000 },
      async () => {
        const queueName = uniqueQueueName('drain');
        let started = 0;
        // The downstream holds every call until the worker has been told to stop, so no job
        // can finish (and free a slot for a third) before SIGTERM, however busy the machine.
        let release = () => {};
        const held = new Promise<void>((resolve) => (release = resolve));
        const slow = Fastify();
        slow.post('/work', async () => {
          started += 1;
          await held;
          return {};
        });
        const downstreamUrl = await slow.listen({ host: '127.0.0.1', port: 0 });
        const producer = await startProducer(redis.url, queueName);
        const queues = inspectQueues(redis.url, queueName);
        try {
          const worker = await startServiceProcess('services/worker/main.ts', {
            REDIS_URL: redis.url,
            QUEUE_NAME: queueName,
            QUEUE_PREFIX: testPrefix,
            DOWNSTREAM_URL: downstreamUrl,
            CONCURRENCY: '2',
            PER_ATTEMPT_TIMEOUT_MS: '5000',
          });
          await publish(producer.url, ['d-1', 'd-2', 'd-3', 'd-4']);
          await eventually(() => expect(started).toBe(2), 15_000);
          const exited = worker.stop('SIGTERM');
          await eventually(() => expect(worker.output()).toContain('closing'), 15_000);
          release();
          expect(await exited).toBe(0);
          expect((await queues.completedIds()).sort()).toEqual(['d-1', 'd-2']);
          expect(await queues.main.getWaitingCount()).toBe(2);
          expect(await queues.main.getActiveCount()).toBe(0);
          expect(started).toBe(2);
        } finally {
          release();
          await queues.close();
          await producer.app.close();
          await slow.close();
        }
      },
    );
  });
});

describe('a local stack stopped while it starts (Ctrl-C during an experiment or a sweep)', () => {
  /** This process's own children: the stack's services and its redis-server. */
  const children = async () => {
    const { stdout } = await promisify(execFile)('ps', [
      '-o',
      'pid=,args=',
      '--ppid',
      String(process.pid),
    ]);
    // ps lists itself: it is a child too.
    return stdout
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.includes('pid=,args='));
  };

  it(
    'leaves no service or redis-server behind, whenever the stop comes',
    { timeout: 120_000 },
    async () => {
      const before = await children();
      const noneLeft = (when: string) =>
        eventually(async () => {
          const left = (await children()).filter((line) => !before.includes(line));
          expect(left, `stopped ${when}`).toEqual([]);
        });
      // Stopped at a known point of its start, not after a guessed sleep: while Redis starts,
      // once the downstream is spawned (not yet listening), once the others are spawned.
      const points: Array<[string, (name: ServiceName) => boolean]> = [
        ['while Redis starts', () => false],
        ['once the downstream was spawned', (name) => name === 'downstream'],
        ['once the gateway was spawned', (name) => name === 'gateway'],
      ];
      for (const [when, stopAt] of points) {
        let stopping: Promise<void> | undefined;
        const starting = startStack({
          onSpawn: (name) => {
            if (stopAt(name)) stopping ??= stopLiveStacks(2000);
          },
        }).then(
          (stack) => stack,
          (error: Error) => error,
        );
        if (when === 'while Redis starts') stopping = stopLiveStacks(2000);
        const outcome = await starting;
        await stopping;
        expect(outcome, when).toBeInstanceOf(Error);
        expect((outcome as Error).message, when).toBe(
          'the stack was stopped while it was starting',
        );
        await noneLeft(when);
      }
      // And once it is up.
      const stack = await startStack({});
      await stopLiveStacks(2000);
      await noneLeft('once it was up');
      await stack.stop();
    },
  );
});
