import {
  findRedisServerBinary,
  type RedisServerOptions,
  startRedisServer,
} from './redis-server.ts';

export type RedisSource = 'env' | 'binary' | 'container';

export interface ProvidedRedis {
  url: string;
  source: RedisSource;
  /** Stops what the provider started (nothing for `env`). */
  stop(): Promise<void>;
}

export class NoRedisError extends Error {
  constructor(containerProblem: string) {
    super(
      [
        'no Redis available; cascade-lab needs one of:',
        '  1. REDIS_URL pointing at a running Redis (e.g. REDIS_URL=redis://127.0.0.1:6379)',
        '  2. redis-server on PATH (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)',
        `  3. a container runtime for testcontainers (Docker or Podman) — ${containerProblem}`,
      ].join('\n'),
    );
    this.name = 'NoRedisError';
  }
}

/** How each way of getting Redis is tried; injectable so the order can be tested without Redis. */
export interface RedisStrategies {
  env: Record<string, string | undefined>;
  findBinary: () => string | undefined;
  startBinary: (binary: string) => Promise<ProvidedRedis>;
  startContainer: () => Promise<ProvidedRedis>;
}

/** The Redis image the compose stack runs; the provider's container is the same one. */
export const redisImage = 'redis:7.4-alpine';

async function startContainer(): Promise<ProvidedRedis> {
  // An optional dependency, loaded only here: the image leaves it out.
  const { RedisContainer } = await import('@testcontainers/redis').catch((error: unknown) => {
    throw new Error(
      'testcontainers is not installed (an optional dependency: npm install @testcontainers/redis)',
      { cause: error },
    );
  });
  const container = await new RedisContainer(redisImage)
    .withCommand(['redis-server', '--maxmemory-policy', 'noeviction', '--appendonly', 'yes'])
    .start();
  return {
    url: container.getConnectionUrl(),
    source: 'container',
    stop: async () => {
      await container.stop();
    },
  };
}

export function defaultStrategies(
  env: Record<string, string | undefined>,
  serverOptions: RedisServerOptions = {},
): RedisStrategies {
  return {
    env,
    findBinary: () => findRedisServerBinary(serverOptions.binary),
    startBinary: async (binary) => {
      const server = await startRedisServer({ ...serverOptions, binary });
      return { url: server.url, source: 'binary', stop: () => server.stop() };
    },
    startContainer,
  };
}

/**
 * Redis, in this order: `REDIS_URL` if set; else a `redis-server` on PATH started
 * on a free port in a temp dir; else a container through testcontainers when a
 * container runtime answers; else a NoRedisError naming all three options.
 * `prefer: 'container'` (the test suites where an engine answers) goes from `REDIS_URL`
 * straight to the container, and fails rather than fall back to a binary.
 */
export async function provideRedis(
  strategies: RedisStrategies,
  { prefer = 'binary' }: { prefer?: 'binary' | 'container' } = {},
): Promise<ProvidedRedis> {
  const url = strategies.env.REDIS_URL;
  if (url !== undefined && url !== '') {
    return { url, source: 'env', stop: async () => {} };
  }
  const binary = prefer === 'binary' ? strategies.findBinary() : undefined;
  if (binary !== undefined) return strategies.startBinary(binary);
  try {
    return await strategies.startContainer();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new NoRedisError(`tried it: ${reason}`);
  }
}
