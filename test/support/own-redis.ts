import { poll } from '../../services/shared/poll.ts';
import { Redis } from 'ioredis';
import { redisImage } from '../../load/stack/redis-provider.ts';
import { freePort, startRedisServer } from '../../load/stack/redis-server.ts';
import { containerById, engineAnswers } from './containers.ts';

/** A Redis of a test's own, to crash, freeze and bring back. */
export interface OwnRedis {
  url: string;
  /** A container where an engine answers (the card: integration tests via testcontainers), else a process. */
  kind: 'container' | 'process';
  /** SIGKILL: a crash; its data (AOF) stays for `restart`. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data, once it answers PING. */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP, or the container paused): connections stay open, nothing answers. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops it and removes what it left. */
  stop(): Promise<void>;
}

export interface OwnRedisOptions {
  appendOnly?: boolean;
  appendFsync?: 'always' | 'everysec' | 'no';
}

async function answersPing(url: string, timeoutMs = 30_000): Promise<void> {
  const { done } = await poll(
    async () => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      const pong = await client.ping().catch(() => undefined);
      client.disconnect();
      return pong;
    },
    (pong) => pong === 'PONG',
    { timeoutMs, everyMs: 200 },
  );
  if (!done) throw new Error(`Redis at ${url} did not answer within ${timeoutMs} ms`);
}

/**
 * A Redis container through testcontainers, on a free host port chosen here and kept for
 * its life (a restart keeps the address the services were given), killed and started
 * through the engine's API. Cleaned up by `stop` (Ryuk cannot run without a registry).
 */
async function startContainer(options: OwnRedisOptions): Promise<OwnRedis> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const port = await freePort();
  const aof = options.appendOnly
    ? ['--appendonly', 'yes', '--appendfsync', options.appendFsync ?? 'everysec']
    : [];
  const started = await new GenericContainer(redisImage)
    .withCommand(['redis-server', '--maxmemory-policy', 'noeviction', ...aof])
    .withExposedPorts({ container: 6379, host: port })
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .withLabels({ 'io.cascade-lab.test': 'own-redis' })
    .start();
  const url = `redis://127.0.0.1:${port}`;
  const handle = await containerById(started.getId());
  return {
    url,
    kind: 'container',
    kill: async () => {
      await handle.kill({ signal: 'SIGKILL' });
      await handle.wait();
    },
    restart: async () => {
      await handle.start();
      await answersPing(url);
    },
    pause: async () => {
      await handle.pause();
    },
    resume: async () => {
      await handle.unpause();
    },
    stop: async () => {
      await started.stop({ remove: true, removeVolumes: true });
    },
  };
}

async function startProcess(options: OwnRedisOptions): Promise<OwnRedis> {
  const server = await startRedisServer(options);
  return {
    url: server.url,
    kind: 'process',
    kill: () => server.kill(),
    restart: () => server.restart(),
    pause: async () => void server.process.kill('SIGSTOP'),
    resume: async () => void server.process.kill('SIGCONT'),
    stop: () => server.stop(),
  };
}

/** A Redis to crash: a container where an engine answers, else a redis-server process. */
export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  return (await engineAnswers()) ? startContainer(options) : startProcess(options);
}
