import { type Static, Type } from 'typebox';
import { ModelUpdate } from '../../services/downstream/failure-model.ts';
import { failureStatusesPattern } from '../../services/gateway/forward-transport.ts';
import { thresholdPattern } from './thresholds.ts';
import { ScheduleSpec } from '../schedule/schedule.ts';
import { defaultMaxOutstanding } from '../generator/recording.ts';
import { HttpRequestSpec } from '../generator/http-target.ts';
import { SweepSpec } from './sweep-spec.ts';
import { TuneSpec } from './tune-spec.ts';
import { name, Run, TimedFault } from './runs.ts';

/** A window the load itself makes (a spike): nothing is injected; it is shaded and recovery is timed from its end. */
export const Trigger = Type.Object(
  {
    at: Type.Number({ minimum: 0, maximum: 3_600_000 }),
    durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
  },
  { additionalProperties: false },
);

/** The scales `auto` may choose, smallest first (load/experiment/choose-scale.ts). */
export const autoTimeScales = [1, 2, 3, 4, 6, 8, 12, 16] as const;
export const TimeScale = Type.Union([
  Type.Number({ minimum: 1, maximum: 100 }),
  Type.Literal('auto'),
]);
export const Repeat = Type.Integer({ minimum: 1, maximum: 50 });

/** A service of yours behind the stack's gateway and proxy (docs/own-service.md). */
export const OwnService = Type.Object(
  {
    /** Its origin, with a base path if it has one: `http://127.0.0.1:3000`. */
    url: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' }),
    /** What each arrival asks of it (the path is its own; the gateway's `/proxy` goes before it). */
    request: HttpRequestSpec,
    /** The gateway's FAILURE_STATUSES: which of its answers are failures (retried). */
    failureStatuses: Type.Optional(Type.String({ pattern: failureStatusesPattern })),
    /** The downstream's PROXY_MODEL: its load-dependent model on top of the service's own behaviour. */
    model: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type OwnService = Static<typeof OwnService>;

export const ScenarioShape = Type.Object(
  {
    name,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    downstream: Type.Optional(ModelUpdate),
    faults: Type.Optional(Type.Array(TimedFault, { maxItems: 100 })),
    trigger: Type.Optional(Trigger),
    /** Every time constant × k (wall time), reported back ÷ k (model time); `auto` picks k. */
    timeScale: Type.Optional(TimeScale),
    /** Each run this many times, interleaved; medians and 95 % intervals. */
    repeat: Type.Optional(Repeat),
    load: Type.Unknown(),
    maxOutstanding: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, default: defaultMaxOutstanding }),
    ),
    drainTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 3_600_000 })),
    runs: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 20 }),
    thresholds: Type.Optional(
      Type.Array(Type.String({ pattern: thresholdPattern }), { maxItems: 100 }),
    ),
    /** `cascade-lab sweep`: the fields it varies, and the verdict rule (ignored by `experiment`). */
    sweep: Type.Optional(SweepSpec),
    /** `cascade-lab tune`: the policy fields it searches and what it optimises (ignored by `experiment`). */
    tune: Type.Optional(TuneSpec),
    /**
     * Your own service: each rpc run's load goes through the gateway (`/proxy`) and the
     * downstream in proxy mode (its faults) to it, instead of to the downstream's model.
     */
    service: Type.Optional(OwnService),
  },
  { additionalProperties: false },
);
export type Scenario = Omit<Static<typeof ScenarioShape>, 'runs' | 'load'> & {
  runs: Run[];
  load: ScheduleSpec;
};

/** The generator's cap on requests in flight for a scenario's runs (its default from the schema). */
export const maxOutstandingOf = (scenario: Pick<Scenario, 'maxOutstanding'>): number =>
  scenario.maxOutstanding ?? defaultMaxOutstanding;
