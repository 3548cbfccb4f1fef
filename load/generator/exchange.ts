import type { WireHandler } from './wire-pool.ts';
import { type Answer, classify, type LoadTarget } from './series.ts';
import { capLabel } from './recording.ts';

/** What a run does with one request's moments: the generator's LoadRun. */
export interface ExchangeOwner {
  readonly target: LoadTarget;
  readonly isOk: (status: number) => boolean;
  written(exchange: Exchange): number;
  answered(exchange: Exchange, answer: Answer): void;
}

/**
 * One request, as the wire pool reports it: an answer costs no promise, no body stream and
 * no header object. The body is kept only when the status alone does not classify it.
 */
export class Exchange implements WireHandler {
  readonly run: ExchangeOwner;
  readonly index: number;
  sentAtMs = -1;
  statusCode = 0;
  chunks: Buffer[] | undefined;

  constructor(run: ExchangeOwner, index: number) {
    this.run = run;
    this.index = index;
  }

  onRequestStart(): void {
    if (this.sentAtMs < 0) this.sentAtMs = this.run.written(this);
  }

  onResponseStart(statusCode: number): void {
    this.statusCode = statusCode;
    if (!this.run.isOk(statusCode)) this.chunks = [];
  }

  onResponseData(chunk: Buffer): void {
    // Error answers are small JSON; a runaway body is cut off rather than buffered.
    if (this.chunks && this.chunks.length < 16) this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.run.answered(
      this,
      classify(this.run.target, this.statusCode, parseBody(this.chunks), this.run.isOk),
    );
  }

  onResponseError(): void {
    this.run.answered(this, connectionError);
  }
}

export const connectionError: Answer = Object.freeze({ kind: 'failed', label: 'connection_error' });
export const cappedAnswer: Answer = Object.freeze({ kind: 'dropped', label: capLabel });

function parseBody(chunks: Buffer[] | undefined): unknown {
  if (!chunks) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
