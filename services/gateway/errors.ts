import type { DownstreamReply } from './call.ts';

/** Why a call failed; stable, sent to clients as `error`. */
export type GatewayErrorKind =
  | 'downstream_error'
  | 'downstream_rejected'
  | 'downstream_busy'
  | 'downstream_conflict'
  | 'downstream_overloaded'
  | 'deadline_exceeded'
  | 'connection_error'
  | 'timeout'
  | 'circuit_open'
  | 'bulkhead_full'
  | 'concurrency_limited'
  | 'throttled';

interface KindInfo {
  code: string;
  statusCode: number;
  /** A retry may succeed: the downstream was reached or tried and failed transiently. */
  retryable: boolean;
  /** Counts against the breaker's failure ratio. */
  breakerFailure: boolean;
}

export const gatewayErrorKinds: Record<GatewayErrorKind, KindInfo> = {
  downstream_error: {
    code: 'GW_ERR_DOWNSTREAM_5XX',
    statusCode: 502,
    retryable: true,
    breakerFailure: true,
  },
  downstream_rejected: {
    code: 'GW_ERR_DOWNSTREAM_4XX',
    statusCode: 502,
    retryable: false,
    breakerFailure: false,
  },
  downstream_busy: {
    code: 'GW_ERR_DOWNSTREAM_IN_PROGRESS',
    statusCode: 409,
    retryable: true,
    breakerFailure: false,
  },
  // A write that lost to another on a contended key: read again and retry (Brooker 2015).
  downstream_conflict: {
    code: 'GW_ERR_DOWNSTREAM_CONFLICT',
    statusCode: 409,
    retryable: true,
    breakerFailure: false,
  },
  // The server's own "don't retry now" (the SRE book): retried only with `retryOnOverload`.
  downstream_overloaded: {
    code: 'GW_ERR_DOWNSTREAM_OVERLOADED',
    statusCode: 503,
    retryable: false,
    breakerFailure: true,
  },
  deadline_exceeded: {
    code: 'GW_ERR_DEADLINE_EXCEEDED',
    statusCode: 504,
    retryable: false,
    breakerFailure: true,
  },
  connection_error: {
    code: 'GW_ERR_CONNECTION',
    statusCode: 502,
    retryable: true,
    breakerFailure: true,
  },
  timeout: {
    code: 'GW_ERR_UPSTREAM_TIMEOUT',
    statusCode: 504,
    retryable: true,
    breakerFailure: true,
  },
  circuit_open: {
    code: 'GW_ERR_CIRCUIT_OPEN',
    statusCode: 503,
    retryable: false,
    breakerFailure: false,
  },
  concurrency_limited: {
    code: 'GW_ERR_CONCURRENCY_LIMITED',
    statusCode: 503,
    retryable: false,
    breakerFailure: false,
  },
  bulkhead_full: {
    code: 'GW_ERR_BULKHEAD_FULL',
    statusCode: 503,
    retryable: false,
    breakerFailure: false,
  },
  throttled: { code: 'GW_ERR_THROTTLED', statusCode: 503, retryable: false, breakerFailure: false },
};

export class GatewayError extends Error {
  readonly kind: GatewayErrorKind;
  readonly code: string;
  readonly statusCode: number;
  /** A forwarded call's failing answer: passed on as it was when no retry is left. */
  readonly reply: DownstreamReply | undefined;

  constructor(
    kind: GatewayErrorKind,
    message: string,
    options?: { cause?: unknown; reply?: DownstreamReply },
  ) {
    super(message, options);
    this.name = 'GatewayError';
    this.kind = kind;
    this.code = gatewayErrorKinds[kind].code;
    this.statusCode = gatewayErrorKinds[kind].statusCode;
    this.reply = options?.reply;
  }

  get retryable(): boolean {
    return gatewayErrorKinds[this.kind].retryable;
  }

  get breakerFailure(): boolean {
    return gatewayErrorKinds[this.kind].breakerFailure;
  }
}

/** Anything thrown below the policy that is not already a GatewayError is a connection problem. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError('connection_error', `downstream connection failed: ${message}`, {
    cause: error,
  });
}
