import type { RedisClient } from '../shared/redis-connection.ts';

export type JobOwner = 'this' | 'other' | 'missing';

/**
 * Adds `jobOwner(jobKey, publishToken)`: whether the job's stored data carries
 * this publish's token, compared inside Redis (a cached script), so the answer is
 * one word instead of the job's whole payload.
 */
export function withJobOwner<C extends RedisClient>(
  connection: C,
): C & {
  jobOwner(jobKey: string, publishToken: string): Promise<JobOwner>;
} {
  connection.defineCommand('jobOwnerCode', {
    numberOfKeys: 1,
    lua: `local data = redis.call('HGET', KEYS[1], 'data')
if not data then return -1 end
if string.find(data, ARGV[1], 1, true) then return 1 end
return 0`,
  });
  const run = (
    connection as unknown as { jobOwnerCode(key: string, token: string): Promise<number> }
  ).jobOwnerCode.bind(connection);
  return Object.assign(connection, {
    async jobOwner(jobKey: string, publishToken: string): Promise<JobOwner> {
      const code = await run(jobKey, publishToken);
      return code === 1 ? 'this' : code === 0 ? 'other' : 'missing';
    },
  });
}
