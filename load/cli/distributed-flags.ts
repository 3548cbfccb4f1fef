import { runIdPattern } from '../distributed/results-store.ts';
import { parseSegment, type Segment } from '../distributed/segment.ts';
import type { Flags } from './command.ts';

/** The flags that make a generator one of several (load and experiment take them). */
export const distributedFlagSpecs = {
  segment: {
    type: 'string',
    value: 'i/n',
    help: "send only generator i's share of the schedule (of n, from 0): every arrival k with k mod n = i, so n generators send it all, bursts shared out",
  },
  'start-at': {
    type: 'string',
    value: 'MS',
    help: 'start the schedule at this instant (epoch ms), the same for every generator (their clocks must agree: NTP)',
  },
  'results-redis': {
    type: 'string',
    value: 'URL',
    help: "write this generator's result to this Redis under --run-id instead of a file; without --start-at the generators agree on a start there",
  },
  'run-id': {
    type: 'string',
    value: 'ID',
    help: 'the run id every generator of the run shares, with --results-redis (letters, digits, . _ -)',
  },
  'start-delay': {
    type: 'string',
    value: 'MS',
    help: 'with --results-redis and no --start-at: the start is this long after the first generator arrives (default 15000)',
  },
} as const satisfies Flags;

/** The flags of one generator of a distributed run, as typed (`load` and `experiment` take them). */
export interface DistributedFlags {
  segment?: string | undefined;
  startAt?: string | undefined;
  startDelay?: string | undefined;
  out?: string | undefined;
  resultsRedis?: string | undefined;
  runId?: string | undefined;
  name?: string | undefined;
}

/** The distributed flags, checked: what this generator sends, when, and where its part goes. */
export function distributedFlags(
  options: DistributedFlags,
  /** How the flag for a part's destination is written: `--out FILE` or `--out DIR`. */
  outFlag: string,
  problems: string[],
) {
  let segment: Segment = { index: 0, count: 1 };
  if (options.segment !== undefined) {
    const parsed = parseSegment(options.segment);
    if (parsed.segment) segment = parsed.segment;
    else problems.push(`--segment: ${parsed.problem}`);
  }
  let startAt: number | undefined;
  if (options.startAt !== undefined) {
    startAt = Number(options.startAt);
    if (!Number.isInteger(startAt) || startAt < 1e12)
      problems.push(
        `--start-at: must be an instant in epoch ms, e.g. ${Date.now() + 30_000} for 30 s from now (got "${options.startAt}")`,
      );
    else if (startAt < Date.now())
      problems.push(
        `--start-at: ${startAt} is ${((Date.now() - startAt) / 1000).toFixed(1)} s in the past; give every generator the same instant in the future`,
      );
  }
  const startDelayMs = Number(options.startDelay ?? 15_000);
  if (!Number.isInteger(startDelayMs) || startDelayMs < 0 || startDelayMs > 3_600_000)
    problems.push(`--start-delay: must be ms from 0 to 3600000 (got "${options.startDelay}")`);
  if ((options.out === undefined) === (options.resultsRedis === undefined))
    problems.push(
      `${outFlag} or --results-redis URL: a generator with --segment or --start-at writes its result to one of them, for cascade-lab merge`,
    );
  if (options.resultsRedis !== undefined) {
    if (!/^rediss?:\/\//.test(options.resultsRedis))
      problems.push('--results-redis: must be a URL such as redis://redis:6379');
    if (options.runId === undefined || !runIdPattern.test(options.runId))
      problems.push(
        '--run-id: --results-redis needs the run id every generator of the run shares (letters, digits, . _ -)',
      );
  }
  const name = options.name ?? 'load';
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name))
    problems.push(
      `--name: lower-case letters, digits, _ and -, as a scenario's run names (got "${name}")`,
    );
  return { segment, startAt, startDelayMs, name };
}
