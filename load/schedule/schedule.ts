import { type Static, Type } from 'typebox';
import { createRng, type Rng } from '../../services/shared/rng.ts';

/**
 * How arrivals of a rate are spaced: `even` (the i-th when the expected count reaches i)
 * or `poisson` (a Poisson process of that rate, seeded by `seed`: the same arrivals every
 * run and repeat of the scenario unless the seed changes).
 */
const arrivals = {
  arrivals: Type.Optional(Type.Enum(['even', 'poisson'])),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
};

/** Arrival schedules: when each request is due, in ms from the start, ascending. */
export const ScheduleSpec = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('bursts'),
      total: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      burst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      gapMs: Type.Number({ minimum: 0, maximum: 3_600_000 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('constant'),
      ratePerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
      durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
      ...arrivals,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('ramp'),
      fromRps: Type.Number({ minimum: 0, maximum: 1_000_000 }),
      toRps: Type.Number({ minimum: 0, maximum: 1_000_000 }),
      durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
      ...arrivals,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('stages'),
      startRps: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })),
      stages: Type.Array(
        Type.Object(
          {
            durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
            targetRps: Type.Number({ minimum: 0, maximum: 1_000_000 }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 100 },
      ),
      ...arrivals,
    },
    { additionalProperties: false },
  ),
  /**
   * A steady rate with one spike: the metastable trigger as one shape, so a sweep can vary
   * the base load and the spike's size as two fields. The spike is the run's load trigger.
   */
  Type.Object(
    {
      kind: Type.Literal('spike'),
      ratePerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
      durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
      spike: Type.Object(
        {
          at: Type.Number({ minimum: 0, maximum: 3_600_000 }),
          durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
          ratePerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
        },
        { additionalProperties: false },
      ),
      ...arrivals,
    },
    { additionalProperties: false },
  ),
  /**
   * A closed loop, as k6's virtual users: `users` each send a request, wait for its answer,
   * think for `thinkTimeMs`, and send again, until `durationMs`. The load follows the
   * answers: a slow target gets fewer requests (what an open loop would not let it hide).
   */
  Type.Object(
    {
      kind: Type.Literal('closed'),
      users: Type.Integer({ minimum: 1, maximum: 10_000 }),
      thinkTimeMs: Type.Number({ minimum: 0, maximum: 3_600_000 }),
      durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
    },
    { additionalProperties: false },
  ),
]);
export type ScheduleSpec = Static<typeof ScheduleSpec>;

/** The seed's pattern: `burst` requests at once, every `gapMs`, until `total`. */
export function bursts(total: number, burst: number, gapMs: number): number[] {
  return Array.from({ length: total }, (_, i) => Math.floor(i / burst) * gapMs);
}

/** `ratePerSecond` evenly spaced arrivals for `durationMs`: the i-th at i / rate. */
export function constant(ratePerSecond: number, durationMs: number): number[] {
  const count = Math.floor((ratePerSecond * durationMs) / 1000 + 1e-9);
  return Array.from({ length: count }, (_, i) => (i * 1000) / ratePerSecond);
}

/** A closed loop's loop: how long each user thinks, and until when they send. */
export interface ClosedLoop {
  thinkTimeMs: number;
  durationMs: number;
  /** The loop also ends once this many requests were sent in all (the runner's warm-up). */
  requests?: number;
}

export function closedLoopOf(spec: ScheduleSpec): ClosedLoop | undefined {
  return spec.kind === 'closed'
    ? { thinkTimeMs: spec.thinkTimeMs, durationMs: spec.durationMs }
    : undefined;
}

interface Segment {
  durationMs: number;
  fromRps: number;
  toRps: number;
}

/** One unit-rate exponential gap: where the next Poisson arrival falls on the count scale. */
const exponential = (rng: Rng) => -Math.log(1 - rng());

/**
 * Arrivals of a piecewise-linear rate: the i-th request is due when the
 * cumulative expected count ∫rate reaches i (so a rate of r/s gives arrivals
 * at 0, 1/r, 2/r, …). Exact, not sampled. With `rng`, a Poisson process of that
 * rate instead: the count targets are sums of exponential gaps (time rescaling).
 */
export function piecewiseLinear(segments: Segment[], rng?: Rng): number[] {
  const offsets: number[] = [];
  let startMs = 0;
  let countBefore = 0;
  let next = rng ? exponential(rng) : 0;
  for (const { durationMs, fromRps, toRps } of segments) {
    const seconds = durationMs / 1000;
    const slope = (toRps - fromRps) / seconds;
    const area = ((fromRps + toRps) / 2) * seconds;
    while (next < countBefore + area - 1e-9) {
      const needed = next - countBefore;
      // Solve fromRps·t + slope·t²/2 = needed for t in [0, seconds].
      const t =
        Math.abs(slope) < 1e-12
          ? needed / fromRps
          : (-fromRps + Math.sqrt(fromRps * fromRps + 2 * slope * needed)) / slope;
      offsets.push(startMs + t * 1000);
      next += rng ? exponential(rng) : 1;
    }
    startMs += durationMs;
    countBefore += area;
  }
  return offsets;
}

export function ramp(fromRps: number, toRps: number, durationMs: number, rng?: Rng): number[] {
  return piecewiseLinear([{ durationMs, fromRps, toRps }], rng);
}

/** k6-style stages: each ramps linearly from the previous target (or `startRps`) to its own. */
export function stages(
  list: Array<{ durationMs: number; targetRps: number }>,
  startRps = 0,
  rng?: Rng,
): number[] {
  let from = startRps;
  return piecewiseLinear(
    list.map(({ durationMs, targetRps }) => {
      const segment = { durationMs, fromRps: from, toRps: targetRps };
      from = targetRps;
      return segment;
    }),
    rng,
  );
}

/** The base rate, the spike's rate from `at` for its duration (a step each way), the base rate to the end. */
export function spike(spec: Extract<ScheduleSpec, { kind: 'spike' }>, rng?: Rng): number[] {
  const { ratePerSecond: base, durationMs, spike: peak } = spec;
  const end = Math.min(durationMs, peak.at + peak.durationMs);
  const segments = [
    { durationMs: Math.min(peak.at, durationMs), fromRps: base, toRps: base },
    { durationMs: end - peak.at, fromRps: peak.ratePerSecond, toRps: peak.ratePerSecond },
    { durationMs: durationMs - end, fromRps: base, toRps: base },
  ];
  return piecewiseLinear(
    segments.filter((segment) => segment.durationMs > 0),
    rng,
  );
}

/** A spike schedule's spike, as a load trigger window (what `trigger` says for other schedules). */
export function spikeTrigger(spec: ScheduleSpec): { at: number; durationMs: number } | undefined {
  return spec.kind === 'spike'
    ? { at: spec.spike.at, durationMs: spec.spike.durationMs }
    : undefined;
}

/** How long the schedule offers load, ms: its last arrival may come a little before. */
export function scheduleDurationMs(spec: ScheduleSpec): number {
  switch (spec.kind) {
    case 'bursts':
      return Math.floor((spec.total - 1) / spec.burst) * spec.gapMs;
    case 'stages':
      return spec.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
    default:
      return spec.durationMs;
  }
}

/**
 * When each request is due. A closed loop's schedule is its users' first requests, all at
 * 0; the generator sends the rest as answers come back (LoadOptions.closed).
 */
export function buildSchedule(spec: ScheduleSpec): number[] {
  const rng =
    'arrivals' in spec && spec.arrivals === 'poisson' ? createRng(spec.seed ?? 1) : undefined;
  switch (spec.kind) {
    case 'bursts':
      return bursts(spec.total, spec.burst, spec.gapMs);
    case 'constant':
      return rng
        ? piecewiseLinear(
            [
              {
                durationMs: spec.durationMs,
                fromRps: spec.ratePerSecond,
                toRps: spec.ratePerSecond,
              },
            ],
            rng,
          )
        : constant(spec.ratePerSecond, spec.durationMs);
    case 'ramp':
      return ramp(spec.fromRps, spec.toRps, spec.durationMs, rng);
    case 'stages':
      return stages(spec.stages, spec.startRps ?? 0, rng);
    case 'spike':
      return spike(spec, rng);
    case 'closed':
      return Array.from({ length: spec.users }, () => 0);
  }
}
