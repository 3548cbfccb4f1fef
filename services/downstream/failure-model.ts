import { type Static, Type } from 'typebox';
import type { Rng } from '../shared/rng.ts';
import { defaultsOf, strictPartial } from '../shared/schemas.ts';

/** The downstream's load-dependent latency and failure model; defaults are the seed's. */
export const FailureModelParams = Type.Object(
  {
    baseLatencyMs: Type.Number({ minimum: 0, maximum: 60_000, default: 8 }),
    jitterMs: Type.Number({ minimum: 0, maximum: 60_000, default: 6 }),
    failProbability: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
    overloadLatencyMs: Type.Number({ minimum: 0, maximum: 60_000, default: 50 }),
    overloadFailProbability: Type.Number({ minimum: 0, maximum: 1, default: 0.4 }),
    maxFailProbability: Type.Number({ minimum: 0, maximum: 1, default: 0.95 }),
    capacityRps: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 250 }),
    /**
     * Idempotent by `Idempotency-Key`: a repeated key gets the first answer without the
     * work being done again; one still in progress gets 409. Off, as the seed models it.
     */
    idempotentReceiver: Type.Boolean({ default: false }),
    /**
     * Honour the caller's `x-cascade-deadline-ms`: refuse work whose deadline has passed
     * (504 deadline_exceeded) and drop work when its deadline passes. Off, as the seed.
     */
    honourDeadlines: Type.Boolean({ default: false }),
    /** Stop the work when the caller closes the connection, freeing its slot. Off, as the seed. */
    cancelOnDisconnect: Type.Boolean({ default: false }),
    /**
     * A worker pool: at most this many requests worked on at once (the load factor counts
     * only them), `poolQueueSize` more waiting, the rest refused with 503 overloaded and
     * Retry-After. 0: no pool, every request is worked on at once, as the seed.
     */
    poolConcurrency: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
    poolQueueSize: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
    /** Which waiting request gets a freed slot: the oldest (fifo) or the newest (lifo). */
    poolQueueOrder: Type.Enum(['fifo', 'lifo'], { default: 'fifo' }),
    /**
     * A contended resource of this many keys (0: none, as the seed): each `POST /work` writes
     * one key (its body's `key`, else one chosen from its id), reads the key's version when it
     * arrives and commits only if no other write committed it meanwhile; else 409 conflict.
     */
    conflictKeys: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
export type FailureModelParams = Static<typeof FailureModelParams>;

export const defaultFailureModel: FailureModelParams = defaultsOf(FailureModelParams);

export const downstreamPresetNames = ['seed', 'bounded', 'deadline-aware'] as const;
export type DownstreamPreset = (typeof downstreamPresetNames)[number];

/**
 * The server-side defences as a whole, over the latency and failure fields: `seed` has
 * none (as the article models it), `bounded` a worker pool at the default capacity (25
 * at once, load factor 1; 50 waiting, newest first; the rest shed), `deadline-aware`
 * stops work nobody waits for (deadlines honoured, cancelled on disconnect).
 */
export const downstreamPresets: Readonly<Record<DownstreamPreset, Partial<FailureModelParams>>> = {
  seed: {
    honourDeadlines: false,
    cancelOnDisconnect: false,
    poolConcurrency: 0,
    poolQueueSize: 0,
    poolQueueOrder: 'fifo',
  },
  bounded: { poolConcurrency: 25, poolQueueSize: 50, poolQueueOrder: 'lifo' },
  'deadline-aware': { honourDeadlines: true, cancelOnDisconnect: true },
};

/** A model change that may start from a preset: the preset's fields, then the rest. */
export const ModelUpdate = Type.Object(
  {
    preset: Type.Optional(Type.Enum([...downstreamPresetNames])),
    ...strictPartial(FailureModelParams).properties,
  },
  { additionalProperties: false },
);
export type ModelUpdate = Static<typeof ModelUpdate>;

/** `update` over `model`: its preset's fields first, then its own. */
export function applyModelUpdate(
  model: FailureModelParams,
  update: ModelUpdate = {},
): FailureModelParams {
  const { preset, ...fields } = update;
  return { ...model, ...(preset ? downstreamPresets[preset] : {}), ...fields };
}

/** The seed's load factor: in-flight requests against a tenth of a second of capacity, floored at 0.5. */
export function loadFactor(inflight: number, capacityRps: number): number {
  return Math.max(0.5, inflight / (capacityRps / 10));
}

/** Failure probability at a load factor: the base rate, plus `overloadFailProbability` per unit above 1, capped. */
export function failureProbability(factor: number, params: FailureModelParams): number {
  if (factor <= 1) return params.failProbability;
  return Math.min(
    params.maxFailProbability,
    params.failProbability + (factor - 1) * params.overloadFailProbability,
  );
}

export interface Outcome {
  latencyMs: number;
  fail: boolean;
  failProbability: number;
}

/** Samples one request's latency and fate at a load factor. Pure: all randomness comes from `rng`. */
export function sampleOutcome(factor: number, params: FailureModelParams, rng: Rng): Outcome {
  const overload = Math.max(0, factor - 1);
  const latencyMs =
    params.baseLatencyMs + rng() * params.jitterMs + overload * params.overloadLatencyMs;
  const failProbability = failureProbability(factor, params);
  return { latencyMs, fail: rng() < failProbability, failProbability };
}
