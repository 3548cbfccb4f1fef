import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { poll } from '../../services/shared/poll.ts';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import {
  findRedisServerBinary,
  freePort,
  type RedisServer,
  startRedisServer,
} from './redis-server.ts';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  server: RedisServer;
  /** Its id in the cluster (CLUSTER MYID). */
  id: string;
}

/** A Redis Cluster of local redis-server processes (cluster mode, AOF), for tests and benchmarks. */
export interface LocalRedisCluster {
  nodes: ClusterNode[];
  /** REDIS_CLUSTER_NODES for it: every node, `127.0.0.1:port,…`. */
  seeds: string;
  /** The node that is master of `key`'s slot now, and its replicas. */
  ownersOf(key: string): Promise<{ master: ClusterNode; replicas: ClusterNode[] }>;
  /**
   * Until every live node says the cluster is ok, every live replica's link to its
   * master is up (its first sync done), and some online master serves `key`'s slot.
   */
  waitHealthy(key: string, timeoutMs?: number): Promise<void>;
  /**
   * SIGKILLs the master of `key`'s slot and waits until a replica has taken its place
   * and the cluster is ok again; answers the two, and how long the takeover took.
   */
  killMaster(
    key: string,
    timeoutMs?: number,
  ): Promise<{ killed: ClusterNode; promoted: ClusterNode; takeoverMs: number }>;
  /** Starts every node killed so far again (each rejoins as a replica) and waits until healthy. */
  reviveAll(key: string): Promise<void>;
  stop(): Promise<void>;
}

/** Fails, saying how to get it, when redis-cli or redis-server is missing. */
function requireRedisBinaries(): void {
  for (const binary of ['redis-server', 'redis-cli'])
    if (findRedisServerBinary(binary) === undefined)
      throw new Error(
        `${binary} is not on PATH: the Redis Cluster tests start their own cluster (Debian: apt-get install redis-server, which ships both; CI installs it)`,
      );
}

const clusterSlot = async (port: number, key: string) => {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    return (await client.call('CLUSTER', 'KEYSLOT', key)) as number;
  } finally {
    client.disconnect();
  }
};

/**
 * Starts `masters × (1 + replicas)` redis-server processes in cluster mode on free
 * ports (each with its bus on another free port), joins them with `redis-cli --cluster
 * create`, and waits until the cluster is ok. `nodeTimeoutMs` is how long a master may
 * be silent before its replica takes over.
 */
export async function startRedisCluster(
  options: { masters?: number; replicas?: number; nodeTimeoutMs?: number } = {},
): Promise<LocalRedisCluster> {
  requireRedisBinaries();
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const dir = mkdtempSync(path.join(tmpdir(), 'cascade-cluster-'));
  const nodes: ClusterNode[] = [];
  const live = () =>
    nodes.filter(
      ({ server }) => server.process.exitCode === null && server.process.signalCode === null,
    );
  const stop = async () => {
    await Promise.allSettled(nodes.map(({ server }) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < masters * (1 + replicas); index += 1) {
      const port = await freePort();
      const nodeDir = path.join(dir, String(index));
      mkdirSync(nodeDir);
      const server = await startRedisServer({
        port,
        dir: nodeDir,
        appendOnly: true,
        appendFsync: 'everysec',
        extraArgs: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          path.join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 1000),
          '--cluster-port',
          String(await freePort()),
          // A replica takes over however long its link to the master has been down
          // (availability first); the failover tests cut that link on purpose.
          '--cluster-replica-validity-factor',
          '0',
          // A replica's first sync starts at once rather than after 5 s.
          '--repl-diskless-sync-delay',
          '0',
        ],
      });
      const client = new Redis(port, '127.0.0.1');
      const id = (await client.call('CLUSTER', 'MYID')) as string;
      client.disconnect();
      nodes.push({ port, server, id });
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map(({ port }) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
  } catch (error) {
    await stop();
    throw error;
  }

  const shardOf = async (key: string) => {
    const slot = await clusterSlot(live()[0]!.port, key);
    const client = new Redis(live()[0]!.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    try {
      const shards = (await client.call('CLUSTER', 'SHARDS')) as unknown[];
      for (const shard of shards as unknown[][]) {
        const fields = Object.fromEntries(
          Array.from({ length: shard.length / 2 }, (_, i) => [shard[2 * i], shard[2 * i + 1]]),
        ) as { slots: number[]; nodes: unknown[][] };
        const covers = Array.from({ length: fields.slots.length / 2 }, (_, i) => [
          fields.slots[2 * i]!,
          fields.slots[2 * i + 1]!,
        ]).some(([from, to]) => slot >= from! && slot <= to!);
        if (!covers) continue;
        const members = fields.nodes.map(
          (node) =>
            Object.fromEntries(
              Array.from({ length: node.length / 2 }, (_, i) => [node[2 * i], node[2 * i + 1]]),
            ) as { id: string; role: string; health: string },
        );
        return members;
      }
      throw new Error(`no shard covers slot ${slot}`);
    } finally {
      client.disconnect();
    }
  };
  const byId = (id: string) => {
    const node = nodes.find((candidate) => candidate.id === id);
    if (!node) throw new Error(`node ${id} is not one of ours`);
    return node;
  };
  const ownersOf = async (key: string) => {
    const members = await shardOf(key);
    const master = members.find(({ role, health }) => role === 'master' && health === 'online');
    if (!master) throw new Error(`no online master for ${key}`);
    return {
      master: byId(master.id),
      replicas: members.filter(({ role }) => role === 'replica').map(({ id }) => byId(id)),
    };
  };
  const waitHealthy = async (key: string, timeoutMs = 30_000) => {
    const { value: last, done } = await poll(
      async () => {
        try {
          const states = await Promise.all(
            live().map(async ({ port }) => {
              const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
              try {
                const state = String(await client.call('CLUSTER', 'INFO')).match(
                  /cluster_state:(\w+)/,
                )?.[1];
                const replication = await client.info('replication');
                return replication.includes('role:slave') &&
                  !replication.includes('master_link_status:up')
                  ? 'syncing'
                  : state;
              } finally {
                client.disconnect();
              }
            }),
          );
          await ownersOf(key);
          return states.every((state) => state === 'ok')
            ? 'ok'
            : `cluster_state ${states.join(',')}`;
        } catch (error) {
          return (error as Error).message;
        }
      },
      (state) => state === 'ok',
      { timeoutMs, everyMs: 100 },
    );
    if (!done)
      throw new Error(`the cluster did not become healthy within ${timeoutMs} ms: ${last}`);
  };
  const killMaster = async (key: string, timeoutMs = 30_000) => {
    const { master: killed } = await ownersOf(key);
    const startedAt = performance.now();
    await killed.server.kill();
    const { value: promoted } = await poll(
      () =>
        ownersOf(key).then(
          ({ master }) => (master === killed ? undefined : master),
          () => undefined,
        ),
      (master) => master !== undefined,
      { timeoutMs, everyMs: 50 },
    );
    if (!promoted)
      throw new Error(`no replica took over from ${killed.port} within ${timeoutMs} ms`);
    await waitHealthy(key, Math.max(1000, timeoutMs - (performance.now() - startedAt)));
    return { killed, promoted, takeoverMs: performance.now() - startedAt };
  };
  await waitHealthy('{cascade}');
  return {
    nodes,
    seeds: nodes.map(({ port }) => `127.0.0.1:${port}`).join(','),
    ownersOf,
    waitHealthy,
    killMaster,
    reviveAll: async (key: string) => {
      const dead = nodes.filter((node) => !live().includes(node));
      for (const { server } of dead) await server.restart();
      await waitHealthy(key);
    },
    stop,
  };
}
