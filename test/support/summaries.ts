import type { EventsRunSummary, RpcRunSummary } from '../../load/experiment/result.ts';
import { noTrigger } from '../../load/experiment/recovery.ts';

/** The figures every run summary has, plausible and internally consistent, for tests to override. */
const common = {
  sent: 100,
  ok: 90,
  failed: 8,
  dropped: 2,
  retries: 12,
  timeouts: 3,
  attempts: 112,
  downstreamCalls: 112,
  duplicateEffects: 0,
  wastedWork: 0,
  conflicts: 0,
  amplification: 1.12,
  goodputRps: 45,
  p50Ms: 10,
  p95Ms: 40,
  p99Ms: 80,
  meanMs: 15,
  maxMs: 120,
  maxLoadFactor: 1,
  maxLoopLagMs: 5,
  hostOverheadP50Ms: 0.2,
  hostOverheadP99Ms: 1,
  hostShare: 0.1,
  latenessP99Ms: 0.5,
  burstSpreadP50Ms: null,
  hostShaped: false,
  suggestedTimeScale: null,
  loadFactorP50: 0.5,
  loadFactorP99: 1,
  overloadedShare: 0,
  recovery: noTrigger,
  durationMs: 2000,
  outcomes: {},
  warnings: [],
  series: [],
  samples: [],
  faultWindows: [],
};

export const rpcSummary = (
  name: string,
  overrides: Partial<RpcRunSummary> = {},
): RpcRunSummary => ({
  ...common,
  name,
  target: 'rpc',
  cbOpen: 4,
  breakerOpenMs: 0,
  ...overrides,
});

export const eventsSummary = (
  name: string,
  overrides: Partial<EventsRunSummary> = {},
): EventsRunSummary => ({
  ...common,
  name,
  target: 'events',
  accepted: 98,
  lost: 0,
  dlq: 8,
  processingP50Ms: 5,
  processingP99Ms: 9,
  maxQueueDepth: 30,
  ...overrides,
});
