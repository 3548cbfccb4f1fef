import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig, type Shedding, sheddingOf } from '../shared/config.ts';
import { FailureModelParams } from './failure-model.ts';

/** Each model field's variable; the variable takes the field's schema (limits and default). */
const modelVariables = {
  BASE_LATENCY_MS: 'baseLatencyMs',
  JITTER_MS: 'jitterMs',
  FAIL_PROBABILITY: 'failProbability',
  OVERLOAD_LATENCY_MS: 'overloadLatencyMs',
  OVERLOAD_FAIL_PROBABILITY: 'overloadFailProbability',
  MAX_FAIL_PROBABILITY: 'maxFailProbability',
  CAPACITY_RPS: 'capacityRps',
  IDEMPOTENT_RECEIVER: 'idempotentReceiver',
  HONOUR_DEADLINES: 'honourDeadlines',
  CANCEL_ON_DISCONNECT: 'cancelOnDisconnect',
  POOL_CONCURRENCY: 'poolConcurrency',
  POOL_QUEUE_SIZE: 'poolQueueSize',
  POOL_QUEUE_ORDER: 'poolQueueOrder',
  CONFLICT_KEYS: 'conflictKeys',
} as const satisfies Record<string, keyof FailureModelParams>;
type ModelVariable = keyof typeof modelVariables;

const modelEnv = Object.fromEntries(
  Object.entries(modelVariables).map(([variable, field]) => [
    variable,
    FailureModelParams.properties[field],
  ]),
) as { [V in ModelVariable]: (typeof FailureModelParams.properties)[(typeof modelVariables)[V]] };

export const DownstreamEnv = Type.Object({
  ...commonEnv(8081),
  ...modelEnv,
  /** Proxy mode: forward every request to this upstream (its faults applied on the way). */
  UPSTREAM_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' })),
  /** Connections the proxy keeps to the upstream. */
  UPSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 10_000, default: 128 }),
  /** Proxy mode: the failure model's latency and failures too, driven by the requests in flight. */
  PROXY_MODEL: Type.Boolean({ default: false }),
});
export type DownstreamEnv = Static<typeof DownstreamEnv>;

export interface DownstreamConfig {
  /** Event-loop-based shedding: 503 under_pressure while the loop lags (both 0: off). */
  shedding?: Shedding | undefined;
  model: FailureModelParams;
  /** Proxy mode: the upstream, how many connections to it, and whether the model applies too. */
  proxy?: { upstreamUrl: string; connections: number; applyModel: boolean } | undefined;
  seed?: number | undefined;
  adminToken?: string | undefined;
}

export function loadDownstreamEnv(env: Record<string, string | undefined>) {
  return loadConfig(DownstreamEnv, env);
}

export function toDownstreamConfig(env: DownstreamEnv): DownstreamConfig {
  const model = Object.fromEntries(
    Object.entries(modelVariables).map(([variable, field]) => [
      field,
      env[variable as ModelVariable],
    ]),
  ) as FailureModelParams;
  return {
    seed: env.SEED,
    adminToken: env.ADMIN_TOKEN,
    model,
    shedding: sheddingOf(env),
    proxy:
      env.UPSTREAM_URL === undefined
        ? undefined
        : {
            upstreamUrl: env.UPSTREAM_URL,
            connections: env.UPSTREAM_CONNECTIONS,
            applyModel: env.PROXY_MODEL,
          },
  };
}
