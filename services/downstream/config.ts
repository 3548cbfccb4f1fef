import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig } from '../shared/config.ts';
import { defaultFailureModel, type FailureModelParams } from './failure-model.ts';

const d = defaultFailureModel;
export const DownstreamEnv = Type.Object({
  ...commonEnv(8081),
  BASE_LATENCY_MS: Type.Number({ minimum: 0, maximum: 60_000, default: d.baseLatencyMs }),
  JITTER_MS: Type.Number({ minimum: 0, maximum: 60_000, default: d.jitterMs }),
  FAIL_PROBABILITY: Type.Number({ minimum: 0, maximum: 1, default: d.failProbability }),
  OVERLOAD_LATENCY_MS: Type.Number({ minimum: 0, maximum: 60_000, default: d.overloadLatencyMs }),
  OVERLOAD_FAIL_PROBABILITY: Type.Number({
    minimum: 0,
    maximum: 1,
    default: d.overloadFailProbability,
  }),
  MAX_FAIL_PROBABILITY: Type.Number({ minimum: 0, maximum: 1, default: d.maxFailProbability }),
  CAPACITY_RPS: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: d.capacityRps }),
});
export type DownstreamEnv = Static<typeof DownstreamEnv>;

export interface DownstreamConfig {
  model: FailureModelParams;
  seed?: number | undefined;
  adminToken?: string | undefined;
}

export function loadDownstreamEnv(env: Record<string, string | undefined>) {
  return loadConfig(DownstreamEnv, env);
}

export function toDownstreamConfig(env: DownstreamEnv): DownstreamConfig {
  return {
    seed: env.SEED,
    adminToken: env.ADMIN_TOKEN,
    model: {
      baseLatencyMs: env.BASE_LATENCY_MS,
      jitterMs: env.JITTER_MS,
      failProbability: env.FAIL_PROBABILITY,
      overloadLatencyMs: env.OVERLOAD_LATENCY_MS,
      overloadFailProbability: env.OVERLOAD_FAIL_PROBABILITY,
      maxFailProbability: env.MAX_FAIL_PROBABILITY,
      capacityRps: env.CAPACITY_RPS,
    },
  };
}
