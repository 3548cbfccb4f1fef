import { describe, expect, it } from 'vitest';
import { parsePrometheusText, quantileBetween, Scrape } from '../../load/stack/prom-text.ts';

const text = (okCount: number, buckets: [string, number][]) => `# HELP x_total help
# TYPE x_total counter
x_total{outcome="ok",service="s"} ${okCount}
x_total{outcome="error",service="s"} 2
${buckets.map(([le, count]) => `lat_seconds_bucket{le="${le}",service="s"} ${count}`).join('\n')}
lat_seconds_count{service="s"} ${buckets.at(-1)![1]}
`;

describe('Prometheus text', () => {
  it('parses samples with labels', () => {
    expect(parsePrometheusText('a_total{x="1",y="two words"} 3\nb 4.5\n# comment')).toEqual([
      { name: 'a_total', labels: { x: '1', y: 'two words' }, value: 3 },
      { name: 'b', labels: {}, value: 4.5 },
    ]);
  });

  it('sums matching series', () => {
    const scrape = new Scrape(parsePrometheusText(text(5, [['+Inf', 0]])));
    expect(scrape.sum('x_total')).toBe(7);
    expect(scrape.sum('x_total', { outcome: 'ok' })).toBe(5);
  });

  it('computes quantiles of what happened between two scrapes, like histogram_quantile', () => {
    const before = new Scrape(
      parsePrometheusText(
        text(0, [
          ['0.1', 10],
          ['0.2', 10],
          ['+Inf', 10],
        ]),
      ),
    );
    // 100 new observations: 50 in (0, 0.1], 50 in (0.1, 0.2].
    const after = new Scrape(
      parsePrometheusText(
        text(0, [
          ['0.1', 60],
          ['0.2', 110],
          ['+Inf', 110],
        ]),
      ),
    );
    expect(quantileBetween(before, after, 'lat_seconds', 0.5)).toBeCloseTo(0.1, 9);
    expect(quantileBetween(before, after, 'lat_seconds', 0.25)).toBeCloseTo(0.05, 9);
    expect(quantileBetween(before, after, 'lat_seconds', 0.99)).toBeCloseTo(0.198, 9);
    expect(quantileBetween(after, after, 'lat_seconds', 0.5)).toBeNull();
  });
});
