import type { Bucket } from '../generator.ts';
import type { Scenario } from '../scenario.ts';

/** What the system looked like every ~250 ms during a run (sampling costs CPU the system under test shares). */
export interface SystemSample {
  atMs: number;
  loadFactor: number | null;
  downstreamInflight: number | null;
  breakerState: number | null;
  queueDepth: number | null;
  /** The longest event-loop stall of the caller (gateway or worker) or the downstream since the last sample. */
  loopLagMs: number | null;
  /** Since the run started: retries (gateway or worker) and calls sent to the downstream. */
  retries: number | null;
  attempts: number | null;
}

/** A fault or load-trigger window, ms after the load started. */
export interface Window {
  startMs: number;
  endMs: number;
  kind: string;
}

/** What every run reports, whatever it targets. */
interface CommonSummary {
  name: string;
  /** Arrivals: sent = ok + failed + dropped. */
  sent: number;
  /** rpc: 200 answers; events: jobs completed. */
  ok: number;
  /** rpc: error answers; events: refused at publish (503) + dead-lettered. */
  failed: number;
  /** Refused for capacity: 429 queue_full, or the generator's cap. */
  dropped: number;
  retries: number;
  timeouts: number;
  /** Calls the gateway or worker sent to the downstream. */
  attempts: number;
  /** Calls the downstream counted itself (equals `attempts`: nothing else calls it). */
  downstreamCalls: number;
  /** attempts ÷ sent. */
  amplification: number;
  goodputRps: number;
  /** rpc: from the scheduled send to the answer; events: from publish to completion. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  maxLoadFactor: number | null;
  /** The longest event-loop stall of the caller or the downstream during the run: CPU contention on this machine shows here. */
  maxLoopLagMs: number | null;
  /** After the last fault (or the load trigger) ends, until the success ratio is back to 90 % of the one before it, and stays back for 1 s. */
  recoveryMs: number | null | 'did not recover';
  durationMs: number;
  outcomes: Record<string, number>;
  warnings: string[];
  series: Bucket[];
  samples: SystemSample[];
  faultWindows: Window[];
}

export interface RpcRunSummary extends CommonSummary {
  target: 'rpc';
  /** Requests answered `circuit_open`. */
  cbOpen: number;
}

export interface EventsRunSummary extends CommonSummary {
  target: 'events';
  /** Accepted (202) = completed + dead-lettered + lost. */
  accepted: number;
  lost: number;
  dlq: number;
  /** One processing attempt. */
  processingP50Ms: number | null;
  processingP99Ms: number | null;
  maxQueueDepth: number;
}

export type RunSummary = RpcRunSummary | EventsRunSummary;

export interface ThresholdResult {
  expression: string;
  value: number | null;
  passed: boolean;
}

export interface ExperimentResult {
  scenario: Scenario;
  startedAt: string;
  environment: { node: string; platform: string; cpus: number };
  runs: RunSummary[];
  thresholds: ThresholdResult[];
}
