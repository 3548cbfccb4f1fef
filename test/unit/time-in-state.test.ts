import { describe, expect, it } from 'vitest';
import { TimeInState } from '../../services/shared/time-in-state.ts';

describe('TimeInState', () => {
  it('adds up every stretch the condition held, the current one included', () => {
    let now = 0;
    const state = new TimeInState(() => now);
    state.set(true);
    now = 300;
    state.set(true); // already holding: nothing restarts
    now = 500;
    state.set(false);
    now = 900;
    expect(state.seconds()).toBeCloseTo(0.5, 9);
    state.set(true);
    now = 1000;
    expect(state.seconds()).toBeCloseTo(0.6, 9);
    state.set(false);
    state.set(false);
    now = 5000;
    expect(state.seconds()).toBeCloseTo(0.6, 9);
  });
});
