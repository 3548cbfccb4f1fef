import type { Policy } from '../../services/gateway/policy.ts';

/** A preset as the cells of docs/resilience.md's client presets table, in its column order. */
export function presetCells(p: Policy): string[] {
  const { backoff: b, breaker: c, bulkhead: h, retryBudget: r, retryTokens: t } = p;
  const jitter = b.jitter === 'none' ? 'no jitter' : `${b.jitter} jitter`;
  return [
    String(p.maxRetries),
    String(p.perAttemptTimeoutMs),
    b.kind === 'none'
      ? 'none'
      : b.kind === 'fixed'
        ? `fixed ${b.baseMs}, ${jitter}`
        : `${b.baseMs} → ${b.capMs}, ${jitter}`,
    p.retryOnOverload ? 'yes' : 'no',
    c.enabled
      ? `${c.failureThreshold} of ≥ ${c.windowSize} in ${c.rollingWindowMs} ms, open ${c.openMs} ms`
      : 'off',
    h.enabled ? `${h.maxConcurrent}, queue ${h.maxQueue}` : 'off',
    !r.enabled
      ? 'off'
      : r.kind === 'window'
        ? `${r.ratio * 100} % + ${r.minRetriesPerSecond}/s over ${r.windowMs} ms`
        : r.kind === 'concurrent'
          ? `${r.ratio * 100} % of requests in flight, min ${r.minRetryConcurrency}`
          : `none above ${r.ratio * 100} % failed over ${r.windowMs} ms`,
    t.enabled
      ? `${t.maxTokens}: retry −${t.retryCost}, after timeout −${t.timeoutRetryCost}, after 503 −${t.overloadRetryCost}, failure −${t.failureCost}, success +${t.successTokens}${t.refundOnSuccess ? ' or its retry back' : ''}${t.retryThreshold > 0 ? `, none at ≤ ${t.retryThreshold * 100} %` : ''}`
      : 'off',
  ];
}
