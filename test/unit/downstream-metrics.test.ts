import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, Scrape } from '../../load/stack/prom-text.ts';
import { createDownstreamMetrics, maxCallerLabels } from '../../services/downstream/metrics.ts';

const noFaults = () => ({ error: 0, latency: 0, hang: 0, reset: 0 });

describe('the downstream’s caller label', () => {
  it('names each caller, `unknown` without one, and `other` past the bound or for what is not a name', async () => {
    const registry = new Registry();
    const metrics = createDownstreamMetrics(registry, noFaults);
    metrics.observe('ok', 'gateway');
    metrics.observe('ok', 'worker/billing');
    metrics.observe('ok', undefined);
    metrics.observe('ok', 'Robert"); DROP');
    for (let i = 0; i < maxCallerLabels + 5; i++) metrics.observe('ok', `caller-${i}`);
    metrics.duplicateEffect('worker/billing');
    const scrape = new Scrape(parsePrometheusText(await registry.metrics()));
    const callers = new Set(
      scrape.samples
        .filter((sample) => sample.name === 'downstream_requests_total' && sample.labels.caller)
        .map((sample) => sample.labels.caller),
    );
    expect(callers.size).toBe(maxCallerLabels + 2);
    expect(callers).toContain('unknown');
    expect(callers).not.toContain(`caller-${maxCallerLabels}`);
    expect(scrape.sum('downstream_requests_total', { caller: 'gateway' })).toBe(1);
    // The malformed one and the 7 past the bound (gateway and billing took two places).
    expect(scrape.sum('downstream_requests_total', { caller: 'other' })).toBe(8);
    expect(scrape.sum('downstream_requests_total')).toBe(maxCallerLabels + 9);
    expect(scrape.sum('downstream_duplicate_effects_total', { caller: 'worker/billing' })).toBe(1);
    // A caller with no duplicate yet has its series at 0, so a rate over it sees the first.
    const zero = scrape.samples.find(
      (sample) =>
        sample.name === 'downstream_duplicate_effects_total' && sample.labels.caller === 'gateway',
    );
    expect(zero?.value).toBe(0);
  });
});
