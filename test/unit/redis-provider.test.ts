import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  NoRedisError,
  provideRedis,
  type RedisStrategies,
} from '../../load/stack/redis-provider.ts';
import { findRedisServerBinary, startRedisServer } from '../../load/stack/redis-server.ts';

function strategies(overrides: Partial<RedisStrategies>): RedisStrategies & { tried: string[] } {
  const tried: string[] = [];
  return {
    tried,
    env: {},
    findBinary: () => {
      tried.push('findBinary');
      return undefined;
    },
    startBinary: async (binary) => {
      tried.push(`startBinary:${binary}`);
      return { url: 'redis://binary', source: 'binary', stop: async () => {} };
    },
    startContainer: async () => {
      tried.push('startContainer');
      throw new Error('Could not find a working container runtime strategy');
    },
    ...overrides,
  };
}

describe('provideRedis', () => {
  it('uses REDIS_URL first and starts nothing', async () => {
    const s = strategies({ env: { REDIS_URL: 'redis://example:6379' } });
    const redis = await provideRedis(s);
    expect(redis).toMatchObject({ url: 'redis://example:6379', source: 'env' });
    expect(s.tried).toEqual([]);
  });

  it('starts a redis-server binary when there is no REDIS_URL', async () => {
    const s = strategies({ env: { REDIS_URL: '' }, findBinary: () => 'redis-server' });
    expect((await provideRedis(s)).source).toBe('binary');
    expect(s.tried).toEqual(['startBinary:redis-server']);
  });

  it('falls back to testcontainers when there is no binary', async () => {
    const s = strategies({
      startContainer: async () => ({
        url: 'redis://container',
        source: 'container',
        stop: async () => {},
      }),
    });
    expect((await provideRedis(s)).source).toBe('container');
    expect(s.tried).toEqual(['findBinary']);
  });

  it('goes straight to the container when asked to prefer it, without looking for a binary', async () => {
    const s = strategies({
      findBinary: () => 'redis-server',
      startContainer: async () => {
        s.tried.push('startContainer');
        return { url: 'redis://container', source: 'container', stop: async () => {} };
      },
    });
    expect((await provideRedis(s, { prefer: 'container' })).source).toBe('container');
    expect(s.tried).toEqual(['startContainer']);
    // REDIS_URL still comes first.
    const withUrl = strategies({ env: { REDIS_URL: 'redis://mine:6379' } });
    expect((await provideRedis(withUrl, { prefer: 'container' })).source).toBe('env');
  });

  it('names all three options when none works', async () => {
    const s = strategies({});
    const error = await provideRedis(s).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(NoRedisError);
    const message = (error as Error).message;
    expect(message).toContain('REDIS_URL');
    expect(message).toContain('apt-get install redis-server');
    expect(message).toContain('container runtime');
    expect(message).toContain('Could not find a working container runtime strategy');
    expect(s.tried).toEqual(['findBinary', 'startContainer']);
  });
});

describe('startRedisServer', () => {
  it('runs a real redis-server on a free port with noeviction, and cleans up its temp dir', async () => {
    expect(
      findRedisServerBinary(),
      'redis-server is not on PATH: apt-get install redis-server (CI installs it)',
    ).toBe('redis-server');
    const server = await startRedisServer({ appendOnly: true, appendFsync: 'always' });
    const client = new Redis(server.url);
    try {
      expect(await client.ping()).toBe('PONG');
      expect(await client.config('GET', 'maxmemory-policy')).toEqual([
        'maxmemory-policy',
        'noeviction',
      ]);
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
      await client.set('kept', '1');
      await server.restart();
      await client.ping().catch(() => undefined);
      const again = new Redis(server.url);
      expect(await again.get('kept')).toBe('1');
      again.disconnect();
    } finally {
      client.disconnect();
      await server.stop();
    }
    expect(existsSync(server.dir)).toBe(false);
  });
});
