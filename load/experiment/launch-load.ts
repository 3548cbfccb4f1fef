import { type LoadOptions } from '../generator/options.ts';
import { type LoadResult } from '../generator/recording.ts';
import { runLoad } from '../generator/generator.ts';
import { startLocalGenerators } from '../distributed/local-generators.ts';
import type { GeneratorShare } from '../distributed/merge.ts';
import { segmentOf } from '../distributed/segment.ts';
import { type ServiceRun } from '../scenario/runs.ts';
import { type Scenario } from '../scenario/shape.ts';
import type { RunSummary } from './result.ts';
import type { SegmentHook } from './run-hooks.ts';

/** A measured load ready to go: in this process, or from local generator processes already connected. */
export interface LaunchedLoad {
  run(): Promise<{ load: LoadResult; generators?: GeneratorShare[] }>;
  stop(): Promise<void>;
}

/**
 * With one generator, `runLoad` here on the run's pool; with n, n local processes (each
 * connected for its share before the clock starts) sending segment i/n each, merged.
 */
export async function launchLoad(
  options: LoadOptions,
  name: string,
  count: number,
  holdMs: number,
  segment?: SegmentHook,
): Promise<LaunchedLoad> {
  if (options.closed && (segment || count > 1))
    throw new Error(
      `${name}: a closed loop (load kind closed) runs in one generator: each user's next request follows its own answer`,
    );
  if (segment) {
    const share = segmentOf(options.offsetsMs, segment.segment);
    const run = async () => {
      const load = await runLoad({
        ...options,
        offsetsMs: share.offsetsMs,
        indices: share.indices,
        startAt: segment.startAt,
        record: true,
      });
      segment.onLoad(load);
      return { load };
    };
    return { run, stop: async () => undefined };
  }
  if (count <= 1)
    return { run: async () => ({ load: await runLoad(options) }), stop: async () => undefined };
  // Each process opens its own connections and keeps its own counters.
  const local = await startLocalGenerators({
    ...options,
    pool: undefined,
    metrics: undefined,
    name,
    count,
    holdMs,
  });
  return {
    run: async () => {
      const merged = await local.run();
      return { load: merged.load, generators: merged.generators };
    },
    stop: () => local.stop(),
  };
}

/** The rows of a run whose load came from several generators say so, with each one's share. */
export const withGenerators = <T extends RunSummary>(
  summary: T,
  generators?: GeneratorShare[],
): T => (generators ? { ...summary, generators } : summary);

/**
 * What a run's load asks: `/rpc` of the gateway, `/events` of the producer, or, with the
 * scenario's own service, its request through the gateway's `/proxy` route.
 */
export function loadTarget(
  scenario: Scenario,
  run: ServiceRun,
): Pick<LoadOptions, 'target' | 'request'> {
  const service = scenario.service;
  if (!service || run.target !== 'rpc') return { target: run.target };
  return {
    target: 'http',
    request: { ...service.request, path: `/proxy${service.request.path ?? '/'}` },
  };
}
