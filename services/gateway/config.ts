import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig, type Shedding, sheddingOf } from '../shared/config.ts';
import { failureStatusesPattern } from './forward-transport.ts';
import { type Policy, presetNames, presets } from './policy.ts';

export const GatewayEnv = Type.Object({
  ...commonEnv(8080),
  DOWNSTREAM_URL: Type.String({ pattern: '^https?://[^/]+/?$', default: 'http://127.0.0.1:8081' }),
  /** Keep-alive connections in the undici pool; itself a limit on concurrency. */
  DOWNSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 10_000, default: 128 }),
  POLICY_PRESET: Type.Enum([...presetNames], { default: 'safe' }),
  /** `ALL /proxy/*` forwards to this upstream through the same policy; unset: no such route. */
  UPSTREAM_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' })),
  UPSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 10_000, default: 128 }),
  /**
   * Where the forwarding route is: `ALL <route>/*` goes to UPSTREAM_URL with the route taken
   * off the path; `/`: every path but the gateway's own (`/rpc`, `/healthz`, `/metrics`, `/admin/*`).
   */
  PROXY_ROUTE: Type.String({
    pattern: '^/([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$',
    default: '/proxy',
  }),
  /** Upstream statuses a forwarded call counts as failed (retried, against the breaker). */
  FAILURE_STATUSES: Type.String({ pattern: failureStatusesPattern, default: '5xx' }),
});
export type GatewayEnv = Static<typeof GatewayEnv>;

export interface GatewayConfig {
  /** Event-loop-based shedding: 503 under_pressure while the loop lags (both 0: off). */
  shedding?: Shedding | undefined;
  downstreamUrl: string;
  downstreamConnections: number;
  /** The `/proxy/*` route's upstream, and which of its statuses count as failures. */
  proxy?:
    | { upstreamUrl: string; connections: number; failureStatuses: string; route?: string }
    | undefined;
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
    proxy:
      env.UPSTREAM_URL === undefined
        ? undefined
        : {
            upstreamUrl: env.UPSTREAM_URL,
            connections: env.UPSTREAM_CONNECTIONS,
            failureStatuses: env.FAILURE_STATUSES,
            route: env.PROXY_ROUTE,
          },
    policy: presets[env.POLICY_PRESET],
    seed: env.SEED,
    adminToken: env.ADMIN_TOKEN,
    shedding: sheddingOf(env),
  };
}
