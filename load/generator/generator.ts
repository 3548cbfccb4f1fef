import { LoadRun } from './load-run.ts';
import type { LoadOptions } from './options.ts';
import { defaultMaxOutstanding, type LoadResult } from './recording.ts';

/**
 * Fires an open-loop schedule: each request leaves at its scheduled time whatever
 * earlier ones are doing, so a slow system cannot slow the arrivals down (no
 * coordinated omission). A timer wakes the generator for the next due arrival and it
 * sends everything due in one go, so a burst leaves as fast as the event loop writes it.
 * Latency is recorded from the scheduled time and from the moment of writing; how late
 * each request was written is reported, with a warning when the generator, not the
 * system under test, shaped the arrivals.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const run = new LoadRun(options);
  const progressEveryMs = options.progressEveryMs ?? 1000;
  let lastReported = '';
  const report = () => {
    // Waiting for a shared start: nothing to say yet.
    if (!run.started) return;
    const progress = run.progress();
    lastReported = `${progress.sent}/${progress.ok}/${progress.failed}/${progress.dropped}`;
    options.onProgress?.(progress);
  };
  const progressTimer = options.onProgress ? setInterval(report, progressEveryMs) : undefined;
  let durationMs: number;
  try {
    durationMs = await run.run();
  } finally {
    clearInterval(progressTimer);
  }
  const { sent, ok, failed, dropped } = run.recording.tally;
  if (options.onProgress && lastReported !== `${sent}/${ok}/${failed}/${dropped}`) report();
  return run.recording.result({
    target: options.target,
    durationMs,
    bursts: run.bursts.summary(),
    maxOutstanding: options.maxOutstanding ?? defaultMaxOutstanding,
    timeScale: options.timeScale ?? 1,
    record: options.record ? run.bursts.encode() : undefined,
  });
}
