import type { RunSummary } from '../experiment/result.ts';
import { recoveryText } from '../experiment/recovery.ts';

/** A column of the table: its title, its cell, the field its interval comes from, what it means. */
export interface Column {
  title: string;
  cell: (run: RunSummary) => string;
  /** The summary field whose interval the row under a repeated run shows. */
  field?: string;
  /** The glossary's line for it (docs/experiments.md is made from these). */
  meaning: string;
}

type ColumnSpec = [title: string, cell: (run: RunSummary) => string, field?: string];

/** What each column means, once: the glossary in docs/experiments.md is made from it. */
const meanings: Record<string, string> = {
  run: "the run's name; a topic's events run has a row per subscriber (`events-billing`)",
  target:
    'rpc (`POST /rpc` on the gateway), events (`POST /events` on the producer), or http (a service of yours)',
  sent: 'requests the schedule sent: sent = ok + fail + dropped',
  ok: 'rpc: answered 200; events: jobs completed (read from Redis); http: the ok statuses',
  fail: 'rpc: answered with an error; events: refused at publish + dead-lettered',
  dropped:
    "refused for capacity (429 queue_full, or the generator's own cap on requests in flight)",
  lost: 'events: accepted − completed − dead-lettered; must be 0',
  retries: 'retries the gateway (rpc) or the workers (events) made',
  timeouts: 'attempts that hit their per-attempt timeout',
  cb_open: 'rpc: requests failed fast by the open breaker',
  dlq: 'events: jobs dead-lettered',
  attempts: 'calls that reached the downstream, retries included',
  'amplif.': 'attempts ÷ sent: how much load the caller put on the downstream per request',
  'dup effects':
    'work the downstream applied twice for one Idempotency-Key (a retry of a call that had succeeded)',
  wasted: 'calls the downstream finished after their caller had gone',
  conflicts:
    'writes the downstream refused with 409 conflict: another write had committed the key (`conflictKeys`)',
  'goodput/s': 'ok per second of the run (model time)',
  'duration s':
    'the run, from the first arrival to the last answer (events: the drained queue), model time',
  'p50 ms':
    'latency from the scheduled send (rpc, http) or end to end from publish to done (events), model time; likewise p95, p99, mean',
  'p95 ms': 'see p50',
  'p99 ms': 'see p50',
  'mean ms': 'see p50',
  'max ms':
    'rpc, http: the slowest request, i.e. when the last caller was done (model time); events: -',
  'proc p50/p99 ms': 'events: one processing attempt in a worker',
  'max queue': "events: the fullest the subscriber's queue got (waiting + active + delayed)",
  'max load':
    "the downstream's highest load factor (in flight ÷ capacity/10; above 1 it is slower and fails more)",
  'load p50/p99': "the downstream's load factor over the run's samples",
  'overload %': 'share of the run the downstream spent above load factor 1',
  'open ms': 'rpc: how long the breaker was open',
  'host p99 ms':
    "the host's share of a downstream call at p99 (the caller's time minus the downstream's Server-Timing), model time; `*`: the host shaped the run",
  'late p99 ms': 'how late the generator itself sent, p99 (model time)',
  'max lag ms': "the services' longest event-loop stall (wall time): CPU contention on the machine",
  recovery:
    'the recovery verdict: stable, recovered in X ms, did not recover, fault still active, overloaded; `-` without a fault or spike',
};

/** A count; `-` when it was not measured (a run straight at another service). */
const int = (value: number | null) =>
  value === null ? '-' : Number.isInteger(value) ? String(value) : value.toFixed(1);

const specs: ColumnSpec[] = [
  ['run', (run) => run.name],
  ['target', (run) => (run.target === 'http' ? (run.loadTarget ?? 'http') : run.target)],
  ['sent', (run) => String(run.sent)],
  ['ok', (run) => int(run.ok), 'ok'],
  ['fail', (run) => int(run.failed), 'failed'],
  ['dropped', (run) => int(run.dropped), 'dropped'],
  ['lost', (run) => (run.target === 'events' ? int(run.lost) : '-'), 'lost'],
  ['retries', (run) => int(run.retries), 'retries'],
  ['timeouts', (run) => int(run.timeouts), 'timeouts'],
  ['cb_open', (run) => (run.target === 'rpc' ? int(run.cbOpen) : '-'), 'cbOpen'],
  ['dlq', (run) => (run.target === 'events' ? int(run.dlq) : '-'), 'dlq'],
  ['attempts', (run) => int(run.attempts), 'attempts'],
  ['amplif.', (run) => run.amplification?.toFixed(2) ?? '-', 'amplification'],
  ['dup effects', (run) => int(run.duplicateEffects), 'duplicateEffects'],
  ['wasted', (run) => int(run.wastedWork), 'wastedWork'],
  ['conflicts', (run) => int(run.conflicts), 'conflicts'],
  ['goodput/s', (run) => run.goodputRps.toFixed(1), 'goodputRps'],
  ['duration s', (run) => (run.durationMs / 1000).toFixed(2)],
  ['p50 ms', (run) => fmt(run.p50Ms), 'p50Ms'],
  ['p95 ms', (run) => fmt(run.p95Ms), 'p95Ms'],
  ['p99 ms', (run) => fmt(run.p99Ms), 'p99Ms'],
  ['mean ms', (run) => fmt(run.meanMs), 'meanMs'],
  ['max ms', (run) => fmt(run.maxMs), 'maxMs'],
  [
    'proc p50/p99 ms',
    (run) =>
      run.target === 'events' && run.processingP50Ms !== null
        ? `${fmt(run.processingP50Ms)}/${fmt(run.processingP99Ms)}`
        : '-',
  ],
  ['max queue', (run) => (run.target === 'events' ? int(run.maxQueueDepth) : '-')],
  ['max load', (run) => fmt(run.maxLoadFactor), 'maxLoadFactor'],
  [
    'load p50/p99',
    (run) =>
      run.loadFactorP50 === null ? '-' : `${fmt(run.loadFactorP50)}/${fmt(run.loadFactorP99)}`,
  ],
  [
    'overload %',
    (run) => (run.overloadedShare === null ? '-' : (run.overloadedShare * 100).toFixed(0)),
    'overloadedShare',
  ],
  ['open ms', (run) => (run.target === 'rpc' ? String(run.breakerOpenMs) : '-'), 'breakerOpenMs'],
  [
    'host p99 ms',
    (run) => `${fmt(run.hostOverheadP99Ms)}${run.hostShaped ? '*' : ''}`,
    'hostOverheadP99Ms',
  ],
  ['late p99 ms', (run) => fmt(run.latenessP99Ms), 'latenessP99Ms'],
  ['max lag ms', (run) => fmt(run.maxLoopLagMs)],
  ['recovery', (run) => recoveryText(run.recovery)],
];

export function fmt(value: number | null): string {
  if (value === null) return '-';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** Every column of the table, in order, with its meaning. */
export const columns: Column[] = specs.map(([title, cell, field]) => {
  const meaning = meanings[title];
  if (meaning === undefined) throw new Error(`column ${title} has no meaning in the glossary`);
  return { title, cell, ...(field ? { field } : {}), meaning };
});
