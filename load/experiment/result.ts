import { type Bucket } from '../generator/series.ts';
import type { Recovery } from './recovery.ts';
import type { Interval, IntervalMethod } from './intervals.ts';
import { type Scenario } from '../scenario/shape.ts';
import type { GeneratorShare } from '../distributed/merge.ts';

/** What the system looked like every ~250 ms during a run (sampling costs CPU the system under test shares). */
export interface SystemSample {
  atMs: number;
  loadFactor: number | null;
  /** The highest load factor since the previous sample (the downstream keeps it exactly). */
  peakLoadFactor: number | null;
  downstreamInflight: number | null;
  breakerState: number | null;
  queueDepth: number | null;
  /** The longest event-loop stall of the caller (gateway or worker) or the downstream since the last sample. */
  loopLagMs: number | null;
  /** Since the run started: retries (gateway or worker) and calls sent to the downstream. */
  retries: number | null;
  attempts: number | null;
  /** The downstream's wasted work (finished for callers that had gone), its counter as read: the chart shows its rate. */
  wastedWork?: number | null;
  /** events on a topic: the same three of each subscriber's queue and workers, by name. */
  subscribers?: Record<string, SubscriberSample>;
}

/** One subscriber's share of a sample. */
export interface SubscriberSample {
  queueDepth: number | null;
  retries: number | null;
  attempts: number | null;
}

/** A fault or load-trigger window, ms after the load started. */
export interface Window {
  startMs: number;
  endMs: number;
  kind: string;
}

/**
 * What every run reports, whatever it targets. The figures our services count are null in
 * a run straight at another service (`http`): not measured, not zero.
 */
interface CommonSummary<Count extends number | null = number> {
  name: string;
  /** Arrivals: sent = ok + failed + dropped. */
  sent: number;
  /** rpc: 200 answers; events: jobs completed. */
  ok: number;
  /** rpc: error answers; events: refused at publish (503) + dead-lettered. */
  failed: number;
  /** Refused for capacity: 429 queue_full, or the generator's cap. */
  dropped: number;
  retries: Count;
  timeouts: Count;
  /** Calls the gateway or worker sent to the downstream. */
  attempts: Count;
  /** Work the downstream completed twice for one Idempotency-Key: retries and redeliveries done twice. */
  duplicateEffects: Count;
  /** Work the downstream finished for callers that had already gone (closed the connection). */
  wastedWork: Count;
  /** Writes the downstream refused with 409 conflict: another write won the key (`conflictKeys`). */
  conflicts: Count;
  /** Calls the downstream counted itself (equals `attempts`: nothing else calls it). */
  downstreamCalls: Count;
  /** attempts ÷ sent. */
  amplification: Count;
  goodputRps: number;
  /** rpc: from the scheduled send to the answer; events: from publish to completion. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  /** rpc, http: the slowest request — the time until the last caller was done; events: null (a histogram has no exact maximum). */
  maxMs: number | null;
  /** The highest load factor of the run, exact (the downstream's own peak, read at every sample). */
  maxLoadFactor: number | null;
  /** The load factor calls met on arrival, p50 and p99 (the downstream's histogram). */
  loadFactorP50: number | null;
  loadFactorP99: number | null;
  /** Share of the run the downstream spent overloaded (load factor above 1), 0–1. */
  overloadedShare: number | null;
  /**
   * How late the generator handed its requests over against the schedule, p99 (model time):
   * its own lateness. A request may then wait for the target to accept a connection; that is the
   * target's doing and counts in its latency, which runs from the scheduled time.
   */
  latenessP99Ms: number | null;
  /** Bursts only: how long a burst took to leave the generator, first to last request, p50 (model time). */
  burstSpreadP50Ms: number | null;
  /** The longest event-loop stall of the caller or the downstream during the run (wall time): CPU contention shows here. */
  maxLoopLagMs: number | null;
  /** Per downstream call, its duration at the caller minus the downstream's own Server-Timing: the host's share (model time). */
  hostOverheadP50Ms: number | null;
  hostOverheadP99Ms: number | null;
  /**
   * The host's share against the limits that make a run host-shaped: the larger of p50 ÷ its
   * limit and p99 ÷ its limit (1 is the limit; a scale: the same in model and wall time).
   */
  hostShare: number | null;
  /** The host's share passed `hostShareLimits` (summarise.ts): the machine, not only the model, shaped the run. */
  hostShaped: boolean;
  /** When host-shaped: the smallest time scale at which the overhead measured here would fit. */
  suggestedTimeScale: number | null;
  /** After the last fault (or the load trigger) ends, until the success ratio is back to 90 % of the one before it, and stays back for 1 s. */
  /** What the run did with its trigger or faults: the one recovery verdict (recovery.ts). */
  recovery: Recovery;
  durationMs: number;
  outcomes: Record<string, number>;
  warnings: string[];
  series: Bucket[];
  samples: SystemSample[];
  faultWindows: Window[];
  /**
   * When the load came from several generators (`--generators`, `merge`): each one's share
   * and own lateness; the figures above are their merge (counts summed, histograms added).
   */
  generators?: GeneratorShare[];
  /** With repeats: every repeat whole; the figures above are their medians. */
  repeats?: RunSummary[];
  /** With repeats: a 95 % interval of each median (see `intervalMethod`). */
  intervals?: Record<string, [number, number]>;
  intervalMethod?: 'bootstrap 95 %' | 'min–max' | 'none';
}

export interface RpcRunSummary extends CommonSummary {
  target: 'rpc';
  /** Requests answered `circuit_open`. */
  cbOpen: number;
  /** Time the breaker spent open (model time), kept by the gateway itself. */
  breakerOpenMs: number;
}

export interface EventsRunSummary extends CommonSummary {
  target: 'events';
  /** Accepted (202, and 503s whose add landed late) = completed + dead-lettered + lost. */
  accepted: number;
  lost: number;
  dlq: number;
  /** One processing attempt. */
  processingP50Ms: number | null;
  processingP99Ms: number | null;
  maxQueueDepth: number;
}

/** A run straight at another service (`target: http`): only what the load generator saw. */
export interface HttpRunSummary extends CommonSummary<null> {
  target: 'http';
  /**
   * A merged load run (`cascade-lab merge`) of our gateway's /rpc or producer's /events:
   * measured at the generators only, like a run at another service.
   */
  loadTarget?: 'rpc' | 'events';
}

export type RunSummary = RpcRunSummary | EventsRunSummary | HttpRunSummary;

export interface ThresholdResult {
  expression: string;
  /** The run's figure; for two runs compared, the difference of their medians. */
  value: number | null;
  passed: boolean;
  /** Two runs compared: the 95 % interval of the difference. */
  interval?: [number, number];
}

/** How `timeScale: auto` chose: each scale tried on the first run, and why the chosen one. */
export interface TimeScaleChoice {
  timeScale: number;
  /** Every probe, in the order run: a whole first run at that scale. */
  tried: Array<{
    timeScale: number;
    hostOverheadP99Ms: number | null;
    hostShare: number | null;
    hostShaped: boolean;
  }>;
  reason: string;
}

/** The figures two runs are compared on. */
export type ComparedField = 'goodputRps' | 'amplification' | 'p99Ms' | 'failed';

/** Two runs of the same target compared on one figure, over their repeats. */
export interface Comparison {
  a: string;
  b: string;
  field: ComparedField;
  /** median(a) − median(b). */
  difference: number;
  interval: Interval;
  method: IntervalMethod;
  /** For a: better or worse than b when the interval excludes 0; no verdict below 5 repeats. */
  verdict: 'better' | 'worse' | 'no detectable difference' | 'too few repeats';
}

export interface ExperimentResult {
  /** `load` is `unknown` for a merge of load runs whose parts carry no schedule. */
  scenario: Omit<Scenario, 'load'> & { load: Scenario['load'] | 'unknown' };
  /** Every time constant ran × timeScale; every figure here is in model time (durations ÷, rates ×). */
  timeScale: number;
  timeScaleChoice?: TimeScaleChoice;
  /** How many times each run ran; the figures are medians when more than once. */
  repeat: number;
  /** Each pair of runs with the same target: difference of medians, its interval, a verdict. */
  comparisons: Comparison[];
  /** ISO time, or `unknown` (a merge of generators that had no shared start). */
  startedAt: string;
  environment: { node: string; platform: string; cpus: number };
  runs: RunSummary[];
  thresholds: ThresholdResult[];
}
