import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig } from '../../services/shared/config.ts';
import {
  queueEnv,
  queueLocationProblems,
  redisUrlPattern,
} from '../../services/shared/queue-env.ts';
import { subscriberEnv } from '../../services/shared/topic.ts';

/** What the CLI reads from the environment; `cli.ts` parses it once and passes it down. */
export const CliEnv = Type.Object({
  /** Where the generator's own `/metrics` listens. */
  HOST: commonEnv(0).HOST,
  SEED: commonEnv(0).SEED,
  ADMIN_TOKEN: commonEnv(0).ADMIN_TOKEN,
  /** A Redis for `up`, `experiment` and `dlq`; unset: a redis-server of their own (dlq: the default URL). */
  REDIS_URL: Type.Optional(Type.String({ pattern: redisUrlPattern })),
  /** A Redis Cluster for the same, instead of REDIS_URL. */
  REDIS_CLUSTER_NODES: queueEnv.REDIS_CLUSTER_NODES,
  QUEUE_NAME: queueEnv.QUEUE_NAME,
  QUEUE_PREFIX: queueEnv.QUEUE_PREFIX,
  /** The default of `dlq --subscriber`. */
  SUBSCRIBER: subscriberEnv,
  /** The default of `--urls`: a running stack's services. */
  CASCADE_URLS: Type.Optional(Type.String({ minLength: 1 })),
  /** The default of `--metrics-port`. */
  LOAD_METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
});
export type CliEnv = Static<typeof CliEnv>;

export const loadCliEnv = (env: Record<string, string | undefined>): CliEnv =>
  loadConfig(CliEnv, env, queueLocationProblems);
