import type { Readable } from 'node:stream';
import type { Cancellation } from '../shared/cancellation.ts';
import type { AttemptResult } from '../shared/downstream-work.ts';

/** Mutable per request: the retry layer counts attempts here so the answer can report them. */
export interface RequestState {
  attempts: number;
}

/** A request the gateway forwards as it came (`/proxy/*`): sent again, whole, on each attempt. */
export interface ForwardRequest {
  method: string;
  /** Path and query on the upstream. */
  path: string;
  /** As they go to the upstream: hop-by-hop headers gone, `host` the upstream's. */
  headers: Record<string, string | string[]>;
  body?: Buffer | undefined;
}

export interface CallContext {
  readonly id: string;
  readonly state: RequestState;
  /** Set by the timeout layer for one attempt. */
  readonly cancellation?: Cancellation;
  /** What to forward, for the proxy route; `/rpc` calls have none. */
  readonly request?: ForwardRequest | undefined;
}

export interface DownstreamReply {
  statusCode: number;
  /** A forwarded call's answer, passed on to the client (its body streamed). */
  headers?: Record<string, string | string[]>;
  body?: Readable | Buffer;
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
  retryDenied(reason: 'budget' | 'tokens' | 'circuit_open' | 'overloaded'): void;
  timeout(): void;
  breakerTransition(to: BreakerState): void;
  breakerFastFail(): void;
  bulkheadRejected(): void;
  throttled(): void;
}
