import { defineCommand } from './command.ts';
import { type Stack, type StackOptions, serviceNames, startStack } from '../stack/stack.ts';

export function formatStack(stack: Stack): string {
  const services = [
    ...serviceNames.filter((name) => name !== 'worker').map((name) => stack.services[name]),
    ...stack.workers,
  ];
  const rows = services.map(
    (service) =>
      `  ${service.label.padEnd(18)} ${service.url.padEnd(24)} pid ${String(service.pid).padEnd(7)} log ${service.logFile}`,
  );
  return [
    `  ${'redis'.padEnd(18)} ${stack.redis.url.padEnd(24)} (${stack.redis.source})`,
    ...rows,
    `An experiment on this stack: cascade-lab experiment <scenario.yaml> --urls ${stackUrlsArgument(stack)}`,
  ].join('\n');
}

/** The `--urls` argument that names this stack's services, every worker included. */
export function stackUrlsArgument(stack: Stack): string {
  const { downstream, gateway, producer } = stack.services;
  return [
    `downstream=${downstream.url}`,
    `gateway=${gateway.url}`,
    `producer=${producer.url}`,
    ...stack.workers.map((worker) => `worker=${worker.url}`),
  ].join(',');
}

/** The topic `cascade-lab up` starts: the events of the example, and three subscribers. */
export const upSubscribers = ['billing', 'audit', 'analytics'];

/** `cascade-lab up`: start the local stack, print where it is, stop everything on Ctrl-C. */
export async function runUp(
  out: (text: string) => void,
  err: (text: string) => void,
  options: Pick<
    StackOptions,
    'seed' | 'redisUrl' | 'redisClusterNodes' | 'adminToken' | 'subscribers'
  > = {},
): Promise<number> {
  // Handlers first: a Ctrl-C while starting must stop what has started, not orphan it.
  const signal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // A topic with three subscribers, a worker each: fan-out is there to try by hand.
  const subscribers = options.subscribers ?? upSubscribers;
  err(
    `cascade-lab up: starting ${options.redisClusterNodes ? '' : 'Redis, '}downstream, gateway, producer, a worker for each of ${subscribers.join(', ')}${options.redisClusterNodes ? ', on the Redis Cluster of REDIS_CLUSTER_NODES' : ''}…\n`,
  );
  const starting = startStack({ ...options, subscribers });
  let stack: Stack;
  try {
    const first = await Promise.race([starting, signal]);
    if (typeof first === 'string') {
      err(`cascade-lab up: ${first} while starting: stopping what has started…\n`);
      await (await starting).stop();
      return 0;
    }
    stack = first;
  } catch (error) {
    err(`cascade-lab up: ${(error as Error).message}\n`);
    return 1;
  }
  out(`cascade-lab up: ready\n${formatStack(stack)}\nCtrl-C stops everything.\n`);
  const reason = await Promise.race([signal, stack.unexpectedExit]);
  if (typeof reason === 'string') {
    err(`cascade-lab up: ${reason}: stopping every service…\n`);
    await stack.stop();
    err('cascade-lab up: stopped\n');
    return 0;
  }
  err(
    `cascade-lab up: ${reason.label} exited (${reason.signal ?? reason.code}); stopping the rest. Its log: ${[...Object.values(stack.services), ...stack.workers].find((service) => service.label === reason.label)?.logFile}\n`,
  );
  await stack.stop();
  return 1;
}

export const upCommand = defineCommand({
  name: 'up',
  usage: ['up'],
  summary: 'the local stack: Redis and the four services on free ports until Ctrl-C',
  description:
    'Starts Redis (REDIS_URL if set, else a redis-server of its own, else a container; a Redis Cluster with REDIS_CLUSTER_NODES) and the four services as child processes on free ports, a worker for each of three subscribers, prints where each one is and how to point an experiment at them, and stops everything on Ctrl-C.',
  flags: {},
  args: { min: 0, max: 0 },
  run: ({ io, env }) =>
    runUp(io.out, io.err, {
      seed: env().SEED,
      redisUrl: env().REDIS_URL,
      redisClusterNodes: env().REDIS_CLUSTER_NODES,
      adminToken: env().ADMIN_TOKEN,
    }),
});
