import { Queue } from 'bullmq';
import { queueLocation } from '../../services/shared/queue-env.ts';
import { subscriberQueue } from '../../services/shared/topic.ts';
import { defineCommand } from './command.ts';
import { deadLetterQueueName, type EventJobData } from '../../services/shared/event-job.ts';
import {
  connectionReady,
  producerConnection,
  type RedisTarget,
  redisLabel,
} from '../../services/shared/redis-connection.ts';
import { type DeadLetterData, DeadLetterQueue } from '../../services/worker/dead-letter.ts';
import { textTable } from '../report/text-table.ts';

export interface DlqOptions {
  /** One node's URL, or a cluster (REDIS_CLUSTER_NODES). */
  redis: RedisTarget;
  queueName: string;
  prefix: string;
  limit: number;
  ids?: string[] | undefined;
  all: boolean;
  dryRun: boolean;
}

/** Runs one `dlq` subcommand; answers the process exit code. */
export async function runDlq(
  action: 'list' | 'redrive' | 'purge',
  options: DlqOptions,
  out: (text: string) => void,
): Promise<number> {
  if (
    action === 'redrive' &&
    !options.all &&
    (options.ids === undefined || options.ids.length === 0)
  ) {
    out('cascade-lab dlq redrive: say which jobs: --ids a,b,… or --all\n');
    return 2;
  }
  const connection = producerConnection(options.redis);
  try {
    await connectionReady(connection, 5000, redisLabel(options.redis));
  } catch (error) {
    connection.disconnect();
    out(`cascade-lab dlq ${action}: ${(error as Error).message}\n`);
    return 1;
  }
  // Queues are made only once Redis answered: BullMQ reports a failed first connect late, after close.
  const main = new Queue<EventJobData>(options.queueName, { connection, prefix: options.prefix });
  const dlq = new Queue<DeadLetterData>(deadLetterQueueName(options.queueName), {
    connection,
    prefix: options.prefix,
  });
  main.on('error', () => {});
  dlq.on('error', () => {});
  const deadLetters = new DeadLetterQueue(main, dlq);
  try {
    if (action === 'list') {
      const entries = await deadLetters.list(options.limit);
      const total = await deadLetters.count();
      if (entries.length === 0) {
        out(`no dead-lettered jobs in ${deadLetterQueueName(options.queueName)}\n`);
        return 0;
      }
      const rows = [['id', 'attempts', 'failed at', 'reason']];
      for (const entry of entries) {
        rows.push([
          entry.id,
          String(entry.attemptsMade),
          new Date(entry.failedAt).toISOString(),
          entry.reason,
        ]);
      }
      out(`${textTable(rows)}\n${entries.length} of ${total} dead-lettered jobs shown\n`);
    } else if (action === 'redrive') {
      const ids = await deadLetters.redrive({
        ...(options.all ? {} : { ids: options.ids }),
        dryRun: options.dryRun,
      });
      out(
        options.dryRun
          ? `would redrive ${ids.length} jobs (dry run)\n`
          : `redrove ${ids.length} jobs to ${options.queueName}\n`,
      );
    } else {
      out(`purged ${await deadLetters.purge()} dead-lettered jobs\n`);
    }
    return 0;
  } catch (error) {
    out(`cascade-lab dlq ${action}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await Promise.allSettled([dlq.close(), main.close()]);
    connection.disconnect();
  }
}

const actions = ['list', 'redrive', 'purge'] as const;
/** Which action each action-specific flag belongs to. */
const flagOwners = {
  limit: 'list',
  ids: 'redrive',
  all: 'redrive',
  'dry-run': 'redrive',
} as const;

export const dlqCommand = defineCommand({
  name: 'dlq',
  usage: [
    'dlq list [--limit N]                             id, reason, attempts, when',
    'dlq redrive (--ids a,b,… | --all) [--dry-run]    back to the main queue with fresh attempts',
    'dlq purge                                        delete every dead-lettered job',
  ],
  summary: 'the dead-letter queue: list, redrive or purge it',
  description:
    "Reads and changes a queue's dead-letter queue in Redis directly (no service needs to run). On a topic, --subscriber names whose.",
  flags: {
    limit: { type: 'string', value: 'N', help: 'list: at most N jobs (default 50)' },
    ids: { type: 'string', value: 'a,b,…', help: 'redrive: these jobs' },
    all: { type: 'boolean', help: 'redrive: every dead-lettered job' },
    'dry-run': { type: 'boolean', help: 'redrive: say what would be redriven, change nothing' },
    redis: {
      type: 'string',
      value: 'URL',
      help: 'the Redis (default: REDIS_URL, else redis://127.0.0.1:6379; a Redis Cluster with REDIS_CLUSTER_NODES=host:port,… instead)',
    },
    queue: {
      type: 'string',
      value: 'NAME',
      help: 'the topic, or a plain queue (default: QUEUE_NAME, else events)',
    },
    subscriber: {
      type: 'string',
      value: 'S',
      help: 'one subscriber of the topic: its queue is <NAME>.<S>, its DLQ <NAME>.<S>-dlq (default: SUBSCRIBER; unset: the queue NAME, its DLQ <NAME>-dlq)',
    },
    prefix: {
      type: 'string',
      value: 'P',
      help: 'the BullMQ key prefix (default: QUEUE_PREFIX, else cascade; {cascade} on a cluster)',
    },
  },
  args: { min: 1, max: 1 },
  run: async ({ values, args, io, env }) => {
    const action = args[0] as (typeof actions)[number];
    const problems: string[] = [];
    if (!actions.includes(action))
      problems.push(`"${args[0]}" is not an action: ${actions.join(', ')}`);
    for (const [flag, owner] of Object.entries(flagOwners) as Array<
      [keyof typeof flagOwners, (typeof actions)[number]]
    >)
      if (values[flag] !== undefined && owner !== action)
        problems.push(`--${flag} is a flag of dlq ${owner}, not of dlq ${args[0]}`);
    const limit = Number(values.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1)
      problems.push(`--limit: must be a positive integer, got "${values.limit}"`);
    // --redis names one node, and wins over a cluster in the environment.
    const location = queueLocation({
      REDIS_URL: values.redis ?? env().REDIS_URL,
      REDIS_CLUSTER_NODES: values.redis === undefined ? env().REDIS_CLUSTER_NODES : undefined,
      QUEUE_PREFIX: values.prefix ?? env().QUEUE_PREFIX,
    });
    if ('problems' in location) problems.push(...location.problems);
    if (problems.length > 0 || 'problems' in location) {
      io.err(problems.map((problem) => `cascade-lab dlq: ${problem}\n`).join(''));
      return 2;
    }
    const subscriber =
      values.subscriber ?? (env().SUBSCRIBER === '' ? undefined : env().SUBSCRIBER);
    return runDlq(
      action,
      {
        redis: location.redis,
        queueName: subscriberQueue(values.queue ?? env().QUEUE_NAME, subscriber),
        prefix: location.queuePrefix,
        limit,
        ids: values.ids?.split(',').filter(Boolean),
        all: values.all === true,
        dryRun: values['dry-run'] === true,
      },
      io.out,
    );
  },
});
