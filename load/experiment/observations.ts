import { type LoadResult } from '../generator/recording.ts';
import { type Scrape } from '../stack/prom-text.ts';
import type { QueueCounts } from '../stack/queue-counts.ts';
import type { ServiceName } from '../stack/stack.ts';
import type { SystemSample, Window } from './result.ts';
import type { VerdictRule } from '../scenario/sweep-spec.ts';

/** Everything one run observed: the generator's result, the services' counters before and after, the samples. */
export interface RunObservations {
  name: string;
  target: 'rpc' | 'events';
  load: LoadResult;
  before: Record<ServiceName, Scrape>;
  after: Record<ServiceName, Scrape>;
  /** events: the producer's queue counts before and after (Redis' own accounting). */
  queueBefore: QueueCounts | null;
  queueAfter: QueueCounts | null;
  samples: SystemSample[];
  faultWindows: Window[];
  /** From the first scheduled request until the last answer (events: until the queue drained). */
  durationMs: number;
  /** What the runner itself noticed (e.g. a queue that did not drain). */
  warnings: string[];
  /** How long the success ratio must hold for a recovery (wall time). @defaultValue 1000 */
  /** The recovery verdict's rule, scaled like the run (wall time). */
  recoveryRule: VerdictRule;
  /** The run's time scale: every duration reported is divided by it, every rate multiplied. @defaultValue 1 */
  timeScale?: number;
  /** The yardsticks of host overhead, as the run ran (wall time): the downstream's base latency and the caller's per-attempt timeout. */
  baseLatencyMs?: number;
  perAttemptTimeoutMs?: number;
  /** events on a topic: the subscriber this summary is of (its queue counts, its worker's series). */
  subscriber?: string;
}
