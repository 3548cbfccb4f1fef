import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { executeDirectRun, executeRun, executeSegment } from './execute-run.ts';
import { type RunHooks, type SegmentHook } from './run-hooks.ts';
import { type RunObservations } from './observations.ts';
import { RunningStack, type StackUrls } from './target.ts';
import { scaleBySchema } from './time-scale.ts';
import { type LoadResult } from '../generator/recording.ts';
import { maxOutstandingOf, type Scenario } from '../scenario/shape.ts';
import { onTopic } from '../scenario/scenario.ts';
import { buildSchedule, ScheduleSpec } from '../schedule/schedule.ts';
import { toPart } from '../distributed/part.ts';
import { ResultsStore, savePart } from '../distributed/results-store.ts';
import { type Segment, scheduleFacts, segmentLabel } from '../distributed/segment.ts';

/** One generator of an experiment's run split across machines, as the command checked it. */
export interface ExperimentSegmentOptions {
  segment: Segment;
  /** The shared start, or undefined to agree on one in `resultsRedis`. */
  startAt: number | undefined;
  startDelayMs: number;
  runName: string;
  timeScale: number;
  urls: StackUrls | undefined;
  adminToken: string | undefined;
  /** Where the part goes: a directory, or a Redis under a run id. */
  outDir?: string | undefined;
  resultsRedis?: string | undefined;
  runId?: string | undefined;
  onProgress?: RunHooks['onProgress'];
}

/**
 * `experiment --segment i/n`: generator i of one run of the scenario. Segment 0 of an rpc
 * or events run is the coordinator, on the running stack: it resets the stack, applies the
 * policies, warms up, injects the faults from the shared start and reads the services
 * before and after, as a run of `experiment --urls` does, and sends its share. Every other
 * generator sends its share from the shared start, and touches nothing else. A run
 * straight at a service has no coordinator. Each writes a part; `cascade-lab merge` makes
 * the run's table and report of them. Answers its load and where its part went.
 */
export async function runExperimentSegment(
  scenario: Scenario,
  options: ExperimentSegmentOptions,
  err: (text: string) => void,
): Promise<{ load: LoadResult; savedTo: string }> {
  const store =
    options.resultsRedis === undefined
      ? undefined
      : new ResultsStore(options.resultsRedis, options.runId as string);
  try {
    const startAt = options.startAt ?? (await store!.agreeStart(options.startDelayMs));
    err(
      `segment ${segmentLabel(options.segment)} of ${options.runName}, starting at ${new Date(startAt).toISOString()}\n`,
    );
    let load: LoadResult | undefined;
    let rows: Array<Omit<RunObservations, 'load'>> | undefined;
    const hook: SegmentHook = {
      segment: options.segment,
      startAt,
      onLoad: (result) => (load = result),
      onRows: (observed) => (rows = observed),
    };
    const k = options.timeScale;
    let ran = scenario;
    const run = scenario.runs.find((candidate) => candidate.name === options.runName)!;
    const hooks = {
      segment: hook,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    if (run.target === 'http') await executeDirectRun(scenario, run, hooks, k);
    else if (options.segment.index === 0) {
      const running = await RunningStack.connect(options.urls!, options.adminToken);
      ran = onTopic(scenario, running.subscribers);
      const topicRun = ran.runs.find((candidate) => candidate.name === run.name)!;
      await running.reset();
      try {
        await executeRun(ran, topicRun, running.targetFor(run.name), hooks, k);
      } finally {
        await running.reset().catch(() => undefined);
      }
    } else await executeSegment(scenario, run, options.urls!, hook, k);
    const schedule = buildSchedule(scaleBySchema(ScheduleSpec, scenario.load, k));
    const part = {
      ...toPart(
        {
          name: run.name,
          segment: options.segment,
          schedule: scheduleFacts(schedule, scenario.load),
          startAt,
          target: load!.target,
          url:
            run.target === 'http'
              ? scenario.service!.url
              : run.target === 'rpc'
                ? options.urls!.gateway
                : options.urls!.producer,
          timeScale: k,
          maxOutstanding: maxOutstandingOf(scenario),
        },
        load!,
      ),
      scenario: ran,
      ...(rows ? { rows } : {}),
    };
    const file = () => {
      mkdirSync(options.outDir!, { recursive: true });
      const { index, count } = options.segment;
      return path.join(options.outDir!, `${run.name}-part-${index}-of-${count}.json`);
    };
    return { load: load!, savedTo: await savePart(part, store ?? file()) };
  } finally {
    await store?.close();
  }
}
