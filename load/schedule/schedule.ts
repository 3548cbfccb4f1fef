import { type Static, Type } from 'typebox';

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
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('ramp'),
      fromRps: Type.Number({ minimum: 0, maximum: 1_000_000 }),
      toRps: Type.Number({ minimum: 0, maximum: 1_000_000 }),
      durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
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

interface Segment {
  durationMs: number;
  fromRps: number;
  toRps: number;
}

/**
 * Arrivals of a piecewise-linear rate: the i-th request is due when the
 * cumulative expected count ∫rate reaches i (so a rate of r/s gives arrivals
 * at 0, 1/r, 2/r, …). Exact, not sampled.
 */
export function piecewiseLinear(segments: Segment[]): number[] {
  const offsets: number[] = [];
  let startMs = 0;
  let countBefore = 0;
  let next = 0;
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
      next += 1;
    }
    startMs += durationMs;
    countBefore += area;
  }
  return offsets;
}

export function ramp(fromRps: number, toRps: number, durationMs: number): number[] {
  return piecewiseLinear([{ durationMs, fromRps, toRps }]);
}

/** k6-style stages: each ramps linearly from the previous target (or `startRps`) to its own. */
export function stages(
  list: Array<{ durationMs: number; targetRps: number }>,
  startRps = 0,
): number[] {
  let from = startRps;
  return piecewiseLinear(
    list.map(({ durationMs, targetRps }) => {
      const segment = { durationMs, fromRps: from, toRps: targetRps };
      from = targetRps;
      return segment;
    }),
  );
}

/** The base rate, the spike's rate from `at` for its duration (a step each way), the base rate to the end. */
export function spike(spec: Extract<ScheduleSpec, { kind: 'spike' }>): number[] {
  const { ratePerSecond: base, durationMs, spike: peak } = spec;
  const end = Math.min(durationMs, peak.at + peak.durationMs);
  const segments = [
    { durationMs: Math.min(peak.at, durationMs), fromRps: base, toRps: base },
    { durationMs: end - peak.at, fromRps: peak.ratePerSecond, toRps: peak.ratePerSecond },
    { durationMs: durationMs - end, fromRps: base, toRps: base },
  ];
  return piecewiseLinear(segments.filter((segment) => segment.durationMs > 0));
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

export function buildSchedule(spec: ScheduleSpec): number[] {
  switch (spec.kind) {
    case 'bursts':
      return bursts(spec.total, spec.burst, spec.gapMs);
    case 'constant':
      return constant(spec.ratePerSecond, spec.durationMs);
    case 'ramp':
      return ramp(spec.fromRps, spec.toRps, spec.durationMs);
    case 'stages':
      return stages(spec.stages, spec.startRps ?? 0);
    case 'spike':
      return spike(spec);
  }
}
