import type { Scenario } from '../scenario/shape.ts';
import type { ServiceRun } from '../scenario/runs.ts';
import { Scrape } from '../stack/prom-text.ts';
import { type Stack, startStack } from '../stack/stack.ts';
import { killedWorkerEnv } from './run-hooks.ts';
import { localTarget, RunningStack, type StackUrls, type Target, urlsOf } from './target.ts';
import { timed, type Timings } from './timings.ts';

/** Whether the downstream still works on calls (unreadable counts as busy). */
const busy = (downstreamUrl: string) =>
  Scrape.of(downstreamUrl).then(
    (scrape) => scrape.sum('downstream_inflight_requests') > 0,
    () => true,
  );

/** How an experiment's runs get their stack. */
export type StackMode = 'running' | 'shared' | 'fresh';

export interface RunStacksOptions {
  /** A running stack (docker compose, `cascade-lab up`): every run on it, reset around each. */
  urls?: StackUrls | undefined;
  adminToken?: string | undefined;
  redisUrl?: string | undefined;
  redisClusterNodes?: string | undefined;
  /** A fresh local stack for every run, even where one shared stack would do. */
  freshStacks?: boolean | undefined;
  timings?: Timings | undefined;
}

/**
 * Why a scenario's runs cannot share one local stack, or undefined when they can: a
 * topic's subscribers and a killed worker are set when the stack starts.
 */
export function whyFreshStacks(scenario: Scenario): string | undefined {
  for (const run of scenario.runs) {
    if (run.target !== 'events') continue;
    if (run.subscribers) return `run ${run.name} names its subscribers`;
    if (run.killWorker) return `run ${run.name} kills a worker`;
  }
  return undefined;
}

/**
 * The stacks of one experiment: a running one reset around each run; else one local stack
 * shared by every run, reset between them like a running one (the default where the runs
 * allow it: test/e2e/shared-stack.test.ts holds their independence, docs/performance.md
 * compares its figures with fresh stacks'); else a fresh local stack per run, stopped after it.
 */
export class RunStacks {
  readonly mode: StackMode;
  readonly #scenario: Scenario;
  readonly #options: RunStacksOptions;
  #running: RunningStack | undefined;
  #shared: Promise<{ stack: Stack; running: RunningStack }> | undefined;

  private constructor(scenario: Scenario, options: RunStacksOptions, mode: StackMode) {
    this.#scenario = scenario;
    this.#options = options;
    this.mode = mode;
  }

  static async open(scenario: Scenario, options: RunStacksOptions): Promise<RunStacks> {
    const why = whyFreshStacks(scenario);
    if (options.urls) {
      // On a running stack the producer's SUBSCRIBERS are the topic, and nothing is restarted.
      if (why) throw new Error(`${why}: that needs a fresh local stack (leave out --urls)`);
      const stacks = new RunStacks(scenario, options, 'running');
      stacks.#running = await RunningStack.connect(options.urls, options.adminToken);
      return stacks;
    }
    const fresh = options.freshStacks || why !== undefined;
    return new RunStacks(scenario, options, fresh ? 'fresh' : 'shared');
  }

  /** The running stack's topic subscribers (none for a local stack). */
  get subscribers(): string[] {
    return this.#running?.subscribers ?? [];
  }

  /** Runs `work` on a stack ready for `run` (repeat `repeat`, counted from 0). */
  async use<T>(run: ServiceRun, repeat: number, work: (target: Target) => Promise<T>) {
    const timings = this.#options.timings;
    const running =
      this.#running ??
      (this.mode === 'shared' ? (await (this.#shared ??= this.#startShared())).running : undefined);
    if (running) {
      await timed(timings, 'reset', () => running.reset());
      try {
        return await work(running.targetFor(run.name));
      } finally {
        await timed(timings, 'reset', () => running.reset()).catch(() => undefined);
        // A run that ended metastable leaves the downstream calls deep past the wait after
        // it: the next run gets a stack of its own rather than start inside that state.
        if (this.mode === 'shared' && (await busy(running.downstreamUrl))) await this.close();
      }
    }
    const seed = this.#scenario.seed;
    const stack = await timed(timings, 'stack start', () =>
      startStack({
        ...this.#local(),
        seed: seed === undefined ? undefined : seed + repeat,
        queueName: `events-${run.name}`,
        subscribers:
          run.target === 'events'
            ? run.subscribers?.map((subscriber) => subscriber.name)
            : undefined,
        ...(run.target === 'events' && run.killWorker
          ? { serviceEnv: { worker: killedWorkerEnv } }
          : {}),
      }),
    );
    try {
      return await work(localTarget(stack, run.name));
    } finally {
      // Its figures are read: nothing is gained by letting a backlog finish (a metastable
      // run leaves thousands of calls in the downstream).
      await stack.stop(3000);
    }
  }

  /** Stops the shared stack, if one was started; the next run starts another. */
  async close(): Promise<void> {
    const shared = await this.#shared?.catch(() => undefined);
    this.#shared = undefined;
    await shared?.stack.stop(3000);
  }

  #local() {
    return {
      redisUrl: this.#options.redisUrl,
      redisClusterNodes: this.#options.redisClusterNodes,
      ownService: this.#scenario.service,
      adminToken: this.#options.adminToken,
    };
  }

  async #startShared() {
    const stack = await timed(this.#options.timings, 'stack start', () =>
      startStack({
        ...this.#local(),
        seed: this.#scenario.seed,
        queueName: `events-${this.#scenario.name}`,
      }),
    );
    try {
      return { stack, running: await RunningStack.connect(urlsOf(stack), stack.adminToken) };
    } catch (error) {
      await stack.stop(3000);
      throw error;
    }
  }
}
