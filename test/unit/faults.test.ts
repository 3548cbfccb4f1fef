import { describe, expect, it } from 'vitest';
import { FaultSpecError, FaultTable } from '../../services/downstream/faults.ts';

function fakeClock() {
  let now = 0;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('FaultTable', () => {
  it('lists active faults with their remaining time and drops them when they expire', () => {
    const time = fakeClock();
    const table = new FaultTable(time.clock);
    table.add({ kind: 'error', durationMs: 1000 });
    table.add({ kind: 'latency', durationMs: 3000, latencyMs: 50, fraction: 0.5 });
    time.advance(400);
    expect(table.active()).toEqual([
      { id: 1, kind: 'error', fraction: 1, durationMs: 1000, remainingMs: 600 },
      { id: 2, kind: 'latency', fraction: 0.5, latencyMs: 50, durationMs: 3000, remainingMs: 2600 },
    ]);
    time.advance(600);
    expect(table.active().map((fault) => fault.kind)).toEqual(['latency']);
    expect(table.countByKind()).toEqual({ error: 0, latency: 1, hang: 0, reset: 0 });
    time.advance(2000);
    expect(table.active()).toEqual([]);
  });

  it('decides reset over hang over error, and adds every latency fault that applies', () => {
    const time = fakeClock();
    const table = new FaultTable(time.clock);
    table.add({ kind: 'error', durationMs: 1000 });
    table.add({ kind: 'latency', durationMs: 1000, latencyMs: 30 });
    table.add({ kind: 'latency', durationMs: 1000, latencyMs: 20 });
    expect(table.decide(() => 0)).toEqual({ action: 'error', addedLatencyMs: 50 });
    table.add({ kind: 'hang', durationMs: 1000 });
    expect(table.decide(() => 0).action).toBe('hang');
    table.add({ kind: 'reset', durationMs: 1000 });
    expect(table.decide(() => 0).action).toBe('reset');
    table.clear();
    expect(table.decide(() => 0)).toEqual({ action: 'none', addedLatencyMs: 0 });
  });

  it('applies a fault to about `fraction` of requests', () => {
    const table = new FaultTable(() => 0);
    table.add({ kind: 'error', durationMs: 1000, fraction: 0.25 });
    let state = 1;
    const rng = () => {
      state = (state * 16807) % 2147483647;
      return state / 2147483647;
    };
    let hits = 0;
    for (let i = 0; i < 10_000; i += 1) if (table.decide(rng).action === 'error') hits += 1;
    expect(hits / 10_000).toBeGreaterThan(0.23);
    expect(hits / 10_000).toBeLessThan(0.27);
  });

  it('refuses a latency fault without latencyMs and latencyMs on other kinds', () => {
    const table = new FaultTable(() => 0);
    expect(() => table.add({ kind: 'latency', durationMs: 10 })).toThrowError(FaultSpecError);
    expect(() => table.add({ kind: 'hang', durationMs: 10, latencyMs: 5 })).toThrowError(
      /only applies/,
    );
  });
});
