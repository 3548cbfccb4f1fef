import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig, type Shedding, sheddingOf } from '../shared/config.ts';
import { type Policy, presetNames, presets } from './policy.ts';

export const GatewayEnv = Type.Object({
  ...commonEnv(8080),
  DOWNSTREAM_URL: Type.String({ pattern: '^https?://[^/]+/?$', default: 'http://127.0.0.1:8081' }),
  /** Keep-alive connections in the undici pool; itself a limit on concurrency. */
  DOWNSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 10_000, default: 128 }),
  POLICY_PRESET: Type.Enum([...presetNames], { default: 'safe' }),
});
export type GatewayEnv = Static<typeof GatewayEnv>;

export interface GatewayConfig {
  /** Event-loop-based shedding: 503 under_pressure while the loop lags (both 0: off). */
  shedding?: Shedding | undefined;
  downstreamUrl: string;
  downstreamConnections: number;
  policy: Policy;
  seed?: number | undefined;
  adminToken?: string | undefined;
}

export function loadGatewayEnv(env: Record<string, string | undefined>) {
  return loadConfig(GatewayEnv, env);
}

export function toGatewayConfig(env: GatewayEnv): GatewayConfig {
  return {
    downstreamUrl: env.DOWNSTREAM_URL,
    downstreamConnections: env.DOWNSTREAM_CONNECTIONS,
    policy: presets[env.POLICY_PRESET],
    seed: env.SEED,
    adminToken: env.ADMIN_TOKEN,
    shedding: sheddingOf(env),
  };
}
