import { type Static, Type } from 'typebox';
import type { Clock } from '../shared/clock.ts';
import type { Rng } from '../shared/rng.ts';

export const faultKinds = ['error', 'latency', 'hang', 'reset'] as const;
export type FaultKind = (typeof faultKinds)[number];

/** A timed fault as a client asks for it: it expires by itself after `durationMs`. */
export const FaultSpec = Type.Object(
  {
    kind: Type.Enum([...faultKinds]),
    durationMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
    fraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    latencyMs: Type.Optional(Type.Number({ minimum: 0, maximum: 60_000 })),
    /**
     * Only calls from this caller (their `x-cascade-caller`): `gateway`, `worker/billing`,
     * or `worker` for every worker. Unset: every call.
     */
    caller: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** An error fault's answer: its status (default 503) and body (default a JSON error). */
    status: Type.Optional(Type.Integer({ minimum: 400, maximum: 599 })),
    body: Type.Optional(Type.String({ maxLength: 4096 })),
    /** Only requests with this method (proxy mode; `POST /work` is always POST). */
    method: Type.Optional(Type.String({ pattern: '^[A-Z]{1,16}$' })),
    /** Only requests whose path starts with this (proxy mode). */
    pathPrefix: Type.Optional(Type.String({ pattern: '^/', maxLength: 1024 })),
    /** Only requests carrying this header with this value (the name in any case). */
    header: Type.Optional(
      Type.Object(
        {
          name: Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$" }),
          value: Type.String({ maxLength: 1024 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type FaultSpec = Static<typeof FaultSpec>;

/** Whether a fault aimed at `target` applies to a call from `caller` (the same, or a name under it). */
export const callerMatches = (target: string | undefined, caller: string | undefined) =>
  target === undefined ||
  (caller !== undefined && (caller === target || caller.startsWith(`${target}/`)));

/** Which faults a request is exposed to: who sent it, and (in proxy mode) what it is. */
export interface FaultTarget {
  caller?: string | undefined;
  method?: string;
  path?: string;
  /** A request header's value (the name in lower case). */
  header?: (name: string) => string | undefined;
}

/** Whether a fault's matchers (caller, method, path prefix, header) all hold for a request. */
export function faultMatches(spec: FaultSpec, target: FaultTarget): boolean {
  if (!callerMatches(spec.caller, target.caller)) return false;
  if (spec.method !== undefined && spec.method !== target.method) return false;
  if (spec.pathPrefix !== undefined && !(target.path ?? '').startsWith(spec.pathPrefix))
    return false;
  if (spec.header !== undefined)
    return target.header?.(spec.header.name.toLowerCase()) === spec.header.value;
  return true;
}

export type ActiveFault = Pick<
  FaultSpec,
  'kind' | 'latencyMs' | 'caller' | 'status' | 'body' | 'method' | 'pathPrefix' | 'header'
> & { id: number; fraction: number; durationMs: number; remainingMs: number };

/** What the active faults decided for one request. */
export interface FaultDecision {
  /** `reset` wins over `hang`, which wins over `error`. */
  action: 'none' | 'error' | 'hang' | 'reset';
  addedLatencyMs: number;
  /** The deciding error fault's status and body, when it set them. */
  status?: number;
  body?: string;
}

interface StoredFault {
  id: number;
  spec: FaultSpec;
  startedAt: number;
  endsAt: number;
}

export class FaultSpecError extends Error {}

/** What a schema can't say: `latencyMs` belongs to latency faults and only to them. */
export function faultSpecProblem(spec: FaultSpec): string | undefined {
  if (spec.kind === 'latency' && spec.latencyMs === undefined)
    return 'a latency fault needs latencyMs';
  if (spec.kind !== 'latency' && spec.latencyMs !== undefined) {
    return `latencyMs only applies to latency faults, not ${spec.kind}`;
  }
  if (spec.kind !== 'error' && (spec.status !== undefined || spec.body !== undefined))
    return `status and body only apply to error faults, not ${spec.kind}`;
  return undefined;
}

/** Timed faults with an injected clock; expired faults are dropped on every read. */
export class FaultTable {
  readonly #clock: Clock;
  #faults: StoredFault[] = [];
  #nextId = 1;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  add(spec: FaultSpec): ActiveFault {
    const problem = faultSpecProblem(spec);
    if (problem !== undefined) throw new FaultSpecError(problem);
    const now = this.#clock();
    const stored = { id: this.#nextId++, spec, startedAt: now, endsAt: now + spec.durationMs };
    this.#faults.push(stored);
    return this.#describe(stored, now);
  }

  clear(): void {
    this.#faults = [];
  }

  active(): ActiveFault[] {
    const now = this.#expire();
    return this.#faults.map((fault) => this.#describe(fault, now));
  }

  countByKind(): Record<FaultKind, number> {
    const counts = { error: 0, latency: 0, hang: 0, reset: 0 };
    this.#expire();
    for (const fault of this.#faults) counts[fault.spec.kind] += 1;
    return counts;
  }

  /**
   * Each active fault whose matchers hold for this request applies independently with
   * probability `fraction` (default 1).
   */
  decide(rng: Rng, target: FaultTarget = {}): FaultDecision {
    this.#expire();
    const decision: FaultDecision = { action: 'none', addedLatencyMs: 0 };
    const rank = { none: 0, error: 1, hang: 2, reset: 3 } as const;
    for (const { spec } of this.#faults) {
      if (!faultMatches(spec, target)) continue;
      if (rng() >= (spec.fraction ?? 1)) continue;
      if (spec.kind === 'latency') decision.addedLatencyMs += spec.latencyMs ?? 0;
      else if (rank[spec.kind] > rank[decision.action]) {
        decision.action = spec.kind;
        if (spec.kind === 'error') {
          if (spec.status !== undefined) decision.status = spec.status;
          if (spec.body !== undefined) decision.body = spec.body;
        }
      }
    }
    return decision;
  }

  #expire(): number {
    const now = this.#clock();
    if (this.#faults.some((fault) => fault.endsAt <= now)) {
      this.#faults = this.#faults.filter((fault) => fault.endsAt > now);
    }
    return now;
  }

  #describe(fault: StoredFault, now: number): ActiveFault {
    return {
      id: fault.id,
      kind: fault.spec.kind,
      fraction: fault.spec.fraction ?? 1,
      ...(fault.spec.latencyMs !== undefined ? { latencyMs: fault.spec.latencyMs } : {}),
      ...(fault.spec.caller !== undefined ? { caller: fault.spec.caller } : {}),
      ...(fault.spec.status !== undefined ? { status: fault.spec.status } : {}),
      ...(fault.spec.body !== undefined ? { body: fault.spec.body } : {}),
      ...(fault.spec.method !== undefined ? { method: fault.spec.method } : {}),
      ...(fault.spec.pathPrefix !== undefined ? { pathPrefix: fault.spec.pathPrefix } : {}),
      ...(fault.spec.header !== undefined ? { header: fault.spec.header } : {}),
      durationMs: fault.spec.durationMs,
      remainingMs: Math.max(0, Math.round(fault.endsAt - now)),
    };
  }
}
