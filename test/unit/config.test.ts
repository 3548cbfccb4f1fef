import { describe, expect, it } from 'vitest';
import { loadDownstreamEnv, toDownstreamConfig } from '../../services/downstream/config.ts';
import { defaultFailureModel } from '../../services/downstream/failure-model.ts';
import { loadGatewayEnv, toGatewayConfig } from '../../services/gateway/config.ts';
import { presets } from '../../services/gateway/policy.ts';
import { ConfigError } from '../../services/shared/config.ts';
import { loadProducerEnv, toProducerConfig } from '../../services/producer/config.ts';
import {
  hashTagOf,
  parseClusterNodes,
  redisLabel,
} from '../../services/shared/redis-connection.ts';
import { loggerOptions } from '../../services/shared/run-service.ts';
import { loadWorkerEnv, toWorkerConfig } from '../../services/worker/config.ts';
import { createRng, forkRng } from '../../services/shared/rng.ts';
import { toDottedPath } from '../../services/shared/schema-errors.ts';

describe('loadConfig', () => {
  it('applies defaults and returns a frozen object', () => {
    const env = loadGatewayEnv({});
    expect(env).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      LOG_LEVEL: 'info',
      DOWNSTREAM_URL: 'http://127.0.0.1:8081',
      POLICY_PRESET: 'safe',
    });
    expect(Object.isFrozen(env)).toBe(true);
    expect(toGatewayConfig(env).policy).toEqual(presets.safe);
    expect(toDownstreamConfig(loadDownstreamEnv({})).model).toEqual(defaultFailureModel);
  });

  it('converts strings from the environment and ignores empty values', () => {
    const env = loadDownstreamEnv({
      PORT: '9000',
      FAIL_PROBABILITY: '0.2',
      SEED: '7',
      ADMIN_TOKEN: '',
    });
    expect(env.PORT).toBe(9000);
    expect(env.FAIL_PROBABILITY).toBe(0.2);
    expect(env.SEED).toBe(7);
    expect(env.ADMIN_TOKEN).toBeUndefined();
  });

  it('reports every bad variable at once, one line each naming it and its value', () => {
    let error: unknown;
    try {
      loadGatewayEnv({
        PORT: 'eighty',
        POLICY_PRESET: 'yolo',
        DOWNSTREAM_URL: 'ftp://x',
        LOG_LEVEL: 'loud',
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems).toContain('PORT: must be integer (got "eighty")');
    expect(problems).toContain(
      'POLICY_PRESET: must be one of safe, unsafe, budgeted, aws-sdk-standard, aws-sdk-2026, grpc, envoy, finagle, polly, resilience4j (got "yolo")',
    );
    expect(problems.find((line) => line.startsWith('DOWNSTREAM_URL:'))).toMatch(/ftp:\/\/x/);
    expect(problems.find((line) => line.startsWith('LOG_LEVEL:'))).toMatch(/must be one of fatal/);
  });

  it('rejects out-of-range numbers', () => {
    expect(() => loadDownstreamEnv({ FAIL_PROBABILITY: '1.5' })).toThrowError(
      /FAIL_PROBABILITY: must be <= 1/,
    );
    expect(() => loadDownstreamEnv({ ADMIN_TOKEN: 'short' })).toThrowError(/ADMIN_TOKEN/);
  });
});

describe('where the queue lives: one Redis node or a Redis Cluster', () => {
  it('keeps one node and the prefix cascade unless REDIS_CLUSTER_NODES is set', () => {
    expect(toProducerConfig(loadProducerEnv({}))).toMatchObject({
      redis: 'redis://127.0.0.1:6379',
      queuePrefix: 'cascade',
      publishWaitReplicas: 0,
    });
    expect(toWorkerConfig(loadWorkerEnv({ QUEUE_PREFIX: 'mine' }))).toMatchObject({
      queuePrefix: 'mine',
    });
  });

  it('on a cluster, takes the nodes and the hash-tagged prefix {cascade}', () => {
    const config = toWorkerConfig(
      loadWorkerEnv({ REDIS_CLUSTER_NODES: 'redis-0:6379, rediss://app:p%40ss@redis-1:6380' }),
    );
    expect(config.redis).toEqual({
      nodes: [
        { host: 'redis-0', port: 6379 },
        { host: 'redis-1', port: 6380 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(config.queuePrefix).toBe('{cascade}');
    expect(redisLabel(config.redis)).toBe('cluster redis-0:6379,redis-1:6380');
    expect(
      toProducerConfig(loadProducerEnv({ REDIS_CLUSTER_NODES: 'a:1', QUEUE_PREFIX: 'x:{t}' }))
        .queuePrefix,
    ).toBe('x:{t}');
  });

  it('refuses a prefix without a hash tag on a cluster, and bad node lists, saying why', () => {
    let error: unknown;
    try {
      loadProducerEnv({ REDIS_CLUSTER_NODES: 'a:1,,b', QUEUE_PREFIX: 'cascade' });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'REDIS_CLUSTER_NODES: an empty entry: write host:port,host:port (got "a:1,,b")',
      'QUEUE_PREFIX: must hold a hash tag such as {cascade} on a Redis Cluster, so that every key of the queues hashes to one slot; BullMQ\'s scripts use several keys at once and the cluster refuses them otherwise (CROSSSLOT) (got "cascade")',
    ]);
    expect(() => loadWorkerEnv({ REDIS_CLUSTER_NODES: 'host-without-port' })).toThrowError(
      /REDIS_CLUSTER_NODES: "host-without-port" must name a host and a port/,
    );
    expect(() => loadWorkerEnv({ REDIS_CLUSTER_NODES: 'http://a:1' })).toThrowError(
      /only redis:\/\/ and rediss:\/\/ are understood/,
    );
    expect(() => loadProducerEnv({ PUBLISH_WAIT_REPLICAS: '-1' })).toThrowError(
      /PUBLISH_WAIT_REPLICAS: must be >= 0/,
    );
  });

  it('reads a hash tag as Redis Cluster does: the first {…} that is not empty', () => {
    expect(hashTagOf('{cascade}')).toBe('cascade');
    expect(hashTagOf('app:{cascade}:x')).toBe('cascade');
    expect(hashTagOf('{}cascade')).toBeUndefined();
    expect(hashTagOf('{cascade')).toBeUndefined();
    expect(hashTagOf('cascade}')).toBeUndefined();
    expect(hashTagOf('{a}{b}')).toBe('a');
  });

  it('hides a password in the name it gives a Redis', () => {
    expect(redisLabel('redis://:secret@db:6379')).toBe('redis://***@db:6379');
    expect(redisLabel('redis://u:secret@a:1,redis://b:2')).toBe(
      'cluster redis://***@a:1,redis://b:2',
    );
    expect(parseClusterNodes('a:1')).toEqual({ nodes: [{ host: 'a', port: 1 }] });
  });
});

describe('rng', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const a = createRng(1);
    const b = createRng(1);
    const c = createRng(2);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });

  it('gives each named component its own stream', () => {
    expect(forkRng(1, 'gateway')()).not.toBe(forkRng(1, 'downstream')());
    expect(forkRng(1, 'gateway')()).toBe(forkRng(1, 'gateway')());
  });
});

describe('toDottedPath', () => {
  it('writes JSON pointers as paths a user can read', () => {
    expect(toDottedPath('/runs/1/policy/backoff/capMs')).toBe('runs[1].policy.backoff.capMs');
    expect(toDottedPath('/id', 'body')).toBe('body.id');
    expect(toDottedPath('', 'body')).toBe('body');
  });
});

describe('loggerOptions', () => {
  it('writes pretty lines only on a terminal that has pino-pretty, JSON lines otherwise', () => {
    const pretty = { target: 'pino-pretty', options: { colorize: true } };
    expect(loggerOptions('info', 'gateway', true, () => true)).toEqual({
      level: 'info',
      name: 'gateway',
      transport: pretty,
    });
    // `docker run -it` on the image: a terminal, but pino-pretty was pruned with the dev dependencies.
    expect(loggerOptions('info', 'gateway', true, () => false)).toEqual({
      level: 'info',
      name: 'gateway',
    });
    expect(loggerOptions('warn', 'worker', false, () => true)).toEqual({
      level: 'warn',
      name: 'worker',
    });
  });
});
