import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** A Redis Cluster, by the nodes a client starts from; it learns the rest from them. */
export interface RedisClusterTarget {
  nodes: Array<{ host: string; port: number }>;
  username?: string | undefined;
  password?: string | undefined;
  tls?: boolean | undefined;
}

/** Where the queue lives: one Redis node by its URL, or a Redis Cluster. */
export type RedisTarget = string | RedisClusterTarget;

/** A client of either: BullMQ, and every script of ours, take both. */
export type RedisClient = Redis | Cluster;

export const isCluster = (target: RedisTarget): target is RedisClusterTarget =>
  typeof target !== 'string';

/**
 * How a target is named in messages: its URL with the password hidden, or `cluster
 * host:port,…` (a REDIS_CLUSTER_NODES text is named so too).
 */
export function redisLabel(target: RedisTarget): string {
  if (isCluster(target))
    return `cluster ${target.nodes.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  const hidden = target.replace(/\/\/[^@/,]*@/g, '//***@');
  return /^rediss?:\/\/[^,]*$/.test(target) ? hidden : `cluster ${hidden}`;
}

/**
 * `REDIS_CLUSTER_NODES`: `host:port,host:port,…`, an entry may be written as a URL
 * (`redis://[user:password@]host:port`, `rediss://` for TLS) whose credentials and TLS
 * apply to every node, as a cluster has one password. Answers the problem, or the target.
 */
export function parseClusterNodes(text: string): RedisClusterTarget | string {
  const target: RedisClusterTarget = { nodes: [] };
  for (const entry of text.split(',').map((item) => item.trim())) {
    if (entry === '') return 'an empty entry: write host:port,host:port';
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//.test(entry) ? entry : `redis://${entry}`);
    } catch {
      return `"${entry}" is not host:port`;
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
      return `"${entry}": only redis:// and rediss:// are understood`;
    if (url.hostname === '' || url.port === '') return `"${entry}" must name a host and a port`;
    target.nodes.push({ host: url.hostname, port: Number(url.port) });
    if (url.username !== '') target.username ??= decodeURIComponent(url.username);
    if (url.password !== '') target.password ??= decodeURIComponent(url.password);
    if (url.protocol === 'rediss:') target.tls = true;
  }
  return target;
}

/**
 * The hash tag of a key prefix (`{cascade}` in `{cascade}` or `{cascade}:x`), as Redis
 * Cluster reads it: between the first `{` and the next `}`, if not empty.
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

const reconnect = (times: number) => Math.min(50 * times, 1000);

function connect(target: RedisTarget, options: RedisOptions, cluster: ClusterOptions): RedisClient {
  if (!isCluster(target)) return new Redis(target, options);
  const { nodes, username, password, tls } = target;
  return new Cluster(nodes, {
    ...cluster,
    clusterRetryStrategy: reconnect,
    redisOptions: {
      ...options,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(tls ? { tls: {} } : {}),
    },
  });
}

/**
 * A producer's connection: commands fail at once while Redis is away (no offline
 * queue, one retry), so a request gets 503 instead of hanging; ioredis keeps
 * reconnecting in the background. On a cluster, a command sent to a master that has
 * just died is retried after the cluster's slots are read again (a failover).
 */
export function producerConnection(target: RedisTarget): RedisClient {
  return connect(
    target,
    { maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: reconnect },
    { enableOfflineQueue: false },
  );
}

/** A worker's connection: BullMQ requires `maxRetriesPerRequest: null` so blocking calls survive reconnects. */
export function workerConnection(target: RedisTarget, extra: RedisOptions = {}): RedisClient {
  return connect(target, { maxRetriesPerRequest: null, retryStrategy: reconnect, ...extra }, {});
}

/** Resolves when the connection is ready; rejects with the first error or after `timeoutMs`. */
export function connectionReady(
  connection: RedisClient,
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
