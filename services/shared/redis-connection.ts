import { Redis, type RedisOptions } from 'ioredis';

/**
 * A producer's connection: commands fail at once while Redis is away (no offline
 * queue, one retry), so a request gets 503 instead of hanging; ioredis keeps
 * reconnecting in the background.
 */
export function producerConnection(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  });
}

/** A worker's connection: BullMQ requires `maxRetriesPerRequest: null` so blocking calls survive reconnects. */
export function workerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...extra,
  });
}

/** Resolves when the connection is ready; rejects with the first error or after `timeoutMs`. */
export function connectionReady(
  connection: Redis,
  timeoutMs: number,
  label: string,
): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      connection.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onError = (error: Error) =>
      done(new Error(`cannot reach Redis at ${label}: ${error.message}`));
    const timer = setTimeout(
      () => done(new Error(`Redis at ${label} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    connection.once('ready', onReady);
    connection.once('error', onError);
  });
}
