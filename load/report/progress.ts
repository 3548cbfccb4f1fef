import type { LoadProgress } from '../generator/options.ts';

/**
 * A load's progress as one line, the same for `load`, `experiment` and `sweep`: elapsed
 * time, sent of scheduled, how they ended, and what else the caller knows (requests in
 * flight, the queue's depth).
 */
export function progressLine(
  p: LoadProgress,
  { label, queueDepth }: { label?: string; queueDepth?: number | null } = {},
): string {
  return [
    ...(label === undefined ? [] : [`  ${label}`]),
    `${(p.elapsedMs / 1000).toFixed(1)}s`,
    `sent ${p.sent}/${p.scheduled}`,
    `ok ${p.ok}`,
    `failed ${p.failed}`,
    `dropped ${p.dropped}`,
    queueDepth === undefined || queueDepth === null
      ? `in flight ${p.outstanding}`
      : `queue ${queueDepth}`,
  ].join('  ');
}

/** Shows a progress line: rewritten in place on a terminal, one line each time otherwise. */
export const showProgress = (err: (text: string) => void, interactive: boolean, line: string) =>
  err(interactive ? `\r${line}\u001b[K` : `${line}\n`);

/** Ends a line rewritten in place, before other output. */
export const endProgress = (err: (text: string) => void, interactive: boolean) => {
  if (interactive) err('\n');
};

/** A duration as m:ss, for the progress of a long command. */
export const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
