import { Queue } from 'bullmq';
import { deadLetterQueueName, type EventJobData } from '../../services/shared/event-job.ts';
import {
  connectionReady,
  producerConnection,
  type RedisTarget,
  redisLabel,
} from '../../services/shared/redis-connection.ts';
import { type DeadLetterData, DeadLetterQueue } from '../../services/worker/dead-letter.ts';

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

export const dlqHelp = `Usage:
  cascade-lab dlq list    [--limit N]                   id, reason, attempts, when
  cascade-lab dlq redrive (--ids a,b,… | --all) [--dry-run]   back to the main queue with fresh attempts
  cascade-lab dlq purge                                 delete every dead-lettered job

Options:
  --redis URL     Redis to use (default: $REDIS_URL, else redis://127.0.0.1:6379;
                  a Redis Cluster with $REDIS_CLUSTER_NODES=host:port,… instead)
  --queue NAME    the topic, or a plain queue (default: $QUEUE_NAME, else events)
  --subscriber S  one subscriber of the topic: its queue is <NAME>.<S>, its DLQ <NAME>.<S>-dlq
                  (default: $SUBSCRIBER; unset: the queue NAME, its DLQ <NAME>-dlq)
  --prefix P      BullMQ key prefix (default: $QUEUE_PREFIX, else cascade; {cascade} on a cluster)
`;

function table(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Runs one `dlq` subcommand; answers the process exit code. */
export async function runDlq(
  action: string | undefined,
  options: DlqOptions,
  out: (text: string) => void,
): Promise<number> {
  if (action !== 'list' && action !== 'redrive' && action !== 'purge') {
    out(dlqHelp);
    return 2;
  }
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
      out(`${table(rows)}\n${entries.length} of ${total} dead-lettered jobs shown\n`);
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
