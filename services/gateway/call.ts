import type { Cancellation } from '../shared/cancellation.ts';
import type { AttemptResult } from '../shared/downstream-work.ts';

/** Mutable per request: the retry layer counts attempts here so the answer can report them. */
export interface RequestState {
  attempts: number;
}

export interface CallContext {
  readonly id: string;
  readonly state: RequestState;
  /** Set by the timeout layer for one attempt. */
  readonly cancellation?: Cancellation;
}

export interface DownstreamReply {
  statusCode: number;
}

export type Call = (ctx: CallContext) => Promise<DownstreamReply>;
export type Layer = (next: Call) => Call;

/** `compose(a, b, c)(call)` is `a(b(c(call)))`: the first layer is the outermost. */
export function compose(...layers: Layer[]): Layer {
  return (call) => layers.reduceRight((next, layer) => layer(next), call);
}

export type BreakerState = 'closed' | 'half_open' | 'open';

/** What the policy reports as it works; the gateway's metrics implement it. */
export interface PolicyEvents {
  /** One downstream call; `serviceSeconds` is the downstream's own share, when it said. */
  attempt(result: AttemptResult, seconds: number, serviceSeconds?: number): void;
  retry(): void;
  retryDenied(reason: 'budget' | 'circuit_open' | 'overloaded'): void;
  timeout(): void;
  breakerTransition(to: BreakerState): void;
  breakerFastFail(): void;
  bulkheadRejected(): void;
  throttled(): void;
}
