import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../shared/redis-connection.ts';

/** A held lock: `release` lets it go (only if still ours) and stops its renewal. */
export interface HeldLock {
  release(): Promise<void>;
}

interface LockCommands {
  cascadeRenewLock(key: string, token: string, ttlMs: number): Promise<number>;
  cascadeReleaseLock(key: string, token: string): Promise<number>;
}

/**
 * The article's Redis lock, one per idempotency key, so two workers never work on the
 * same event at once: `SET key token NX PX ttl`, renewed at half its time while held,
 * released only by its owner (the token is compared inside Redis). It keeps concurrent
 * duplicates out (a job redelivered while its first worker still works on it); it cannot
 * stop a redelivery after its holder died and the lock expired: the work is done again.
 */
export class KeyLocks {
  readonly #redis: RedisClient & LockCommands;
  readonly #prefix: string;

  constructor(redis: RedisClient, prefix: string) {
    redis.defineCommand('cascadeRenewLock', {
      numberOfKeys: 1,
      lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
    });
    redis.defineCommand('cascadeReleaseLock', {
      numberOfKeys: 1,
      lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
    });
    this.#redis = redis as RedisClient & LockCommands;
    this.#prefix = prefix;
  }

  /** The lock on `key` for `ttlMs` (renewed while held), or undefined when another holds it. */
  async acquire(key: string, ttlMs: number): Promise<HeldLock | undefined> {
    const name = `${this.#prefix}:lock:${key}`;
    const token = randomUUID();
    const taken = await this.#redis.set(name, token, 'PX', ttlMs, 'NX');
    if (taken !== 'OK') return undefined;
    const renewal = setInterval(
      () => void this.#redis.cascadeRenewLock(name, token, ttlMs).catch(() => undefined),
      Math.max(1, Math.floor(ttlMs / 2)),
    );
    renewal.unref();
    return {
      release: async () => {
        clearInterval(renewal);
        await this.#redis.cascadeReleaseLock(name, token).catch(() => undefined);
      },
    };
  }
}
