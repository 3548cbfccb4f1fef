import type { PolicyEvents } from '../../services/gateway/call.ts';

/** Policy events that note retries and denials in `seen` (`retry`, `denied:<reason>`) and ignore the rest. */
export function recordingEvents() {
  const seen: string[] = [];
  const events: PolicyEvents = {
    attempt: () => {},
    retry: () => seen.push('retry'),
    retryDenied: (reason) => seen.push(`denied:${reason}`),
    timeout: () => {},
    breakerTransition: () => {},
    breakerFastFail: () => {},
    bulkheadRejected: () => {},
    throttled: () => {},
  };
  return { events, seen };
}
