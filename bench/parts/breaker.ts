import CircuitBreaker from 'opossum';
import { alternate, type PartResult, type Row } from '../harness.ts';
import { log, median, round, summarize } from '../lib.ts';

/**
 * opossum as the breaker layer configures it, with rolling percentiles as opossum
 * defaults them (before) and off (after), 30 % of calls failing, 1 s per measurement.
 */
export async function breakerCost(rounds: number): Promise<PartResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  log(
    'breaker: opossum per call at 30 % failures, rolling percentiles on (opossum default) vs off (ours)',
  );
  const perCallUs = async (rollingPercentilesEnabled: boolean) => {
    const breaker = new CircuitBreaker(
      async (fail: boolean) => {
        if (fail) throw new Error('downstream_error');
        return 1;
      },
      {
        timeout: false,
        resetTimeout: 500,
        rollingCountTimeout: 1000,
        rollingCountBuckets: 10,
        volumeThreshold: 20,
        errorThresholdPercentage: 40 - 1e-9,
        rollingPercentilesEnabled,
      },
    );
    let calls = 0;
    const started = performance.now();
    while (performance.now() - started < 1000) {
      await breaker.fire(calls % 10 < 3).catch(() => undefined);
      calls += 1;
    }
    breaker.shutdown();
    return ((performance.now() - started) / calls) * 1000;
  };
  const [before, after] = await alternate(rounds, [() => perCallUs(true), () => perCallUs(false)]);
  rows.push({
    what: 'gateway breaker (opossum) per call at 30 % failures (µs)',
    ours: `${round(median(after!), 2)} (percentiles off)`,
    baseline: `${round(median(before!), 2)} (opossum default)`,
    ratio: `${round(median(after!.map((a, i) => a / before![i]!)), 4)}×`,
    target: 'before/after',
    met: null,
  });
  details.breaker = { beforeUs: summarize(before!), afterUs: summarize(after!) };
  return { rows, details };
}
