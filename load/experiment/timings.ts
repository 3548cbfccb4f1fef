/** The phases of an experiment whose wall time `--timings` prints, in the order they happen. */
export const phases = [
  'stack start',
  'warm-up',
  'settle',
  'run',
  'drain',
  'scrape',
  'reset',
  'report',
] as const;
export type Phase = (typeof phases)[number];

/** What each phase is, for the printed split. */
const meaning: Record<Phase, string> = {
  'stack start': 'Redis and the services started and healthy',
  'warm-up': "connections opened, the JIT warmed, the warm-up's calls finished",
  settle: 'the policy set again and the downstream idle before the clock starts',
  run: 'the measured load, from the first arrival to the last answer',
  drain: 'events: the queue worked off after the last answer',
  scrape: "the services' counters read before and after, once the downstream is idle",
  reset: 'a shared stack put back between runs (faults cleared, queue drained)',
  report: 'summary.json, summary.md and report.html written',
};

/** Wall time per phase, summed over an experiment's runs. */
export class Timings {
  readonly #ms = new Map<Phase, number>();
  readonly #startedAt = performance.now();

  add(phase: Phase, ms: number): void {
    this.#ms.set(phase, (this.#ms.get(phase) ?? 0) + ms);
  }

  /** Runs `work`, adding its wall time to `phase` however it ends. */
  async time<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      return await work();
    } finally {
      this.add(phase, performance.now() - startedAt);
    }
  }

  ms(phase: Phase): number {
    return this.#ms.get(phase) ?? 0;
  }

  /** The split as lines: each phase that took time, its share, and the total since this was made. */
  format(): string {
    const totalMs = performance.now() - this.#startedAt;
    const row = (name: string, ms: number, what: string) =>
      `  ${name.padEnd(11)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${String(Math.round((100 * ms) / totalMs)).padStart(3)} %  ${what}`;
    const counted = phases.reduce((sum, phase) => sum + this.ms(phase), 0);
    return [
      'timings (wall time, summed over runs):',
      ...phases
        .filter((phase) => this.#ms.has(phase))
        .map((phase) => row(phase, this.ms(phase), meaning[phase])),
      row('other', totalMs - counted, 'reading the scenario, planning, between phases'),
      row('total', totalMs, ''),
      '',
    ].join('\n');
  }
}

/** `work` timed as `phase` when there is a `timings`, else just run. */
export const timed = <T>(
  timings: Timings | undefined,
  phase: Phase,
  work: () => Promise<T>,
): Promise<T> => (timings ? timings.time(phase, work) : work());
