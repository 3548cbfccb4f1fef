import { describe, expect, it } from 'vitest';
import { EffectLedger } from '../../services/downstream/effects.ts';
import { callerMatches, FaultTable } from '../../services/downstream/faults.ts';

describe('EffectLedger', () => {
  it('calls the second completed effect for a key a duplicate, and the first not', () => {
    const ledger = new EffectLedger();
    expect(ledger.applied('a')).toBe(false);
    expect(ledger.applied('b')).toBe(false);
    expect(ledger.applied('a')).toBe(true);
    expect(ledger.applied('a')).toBe(true);
  });

  it('as an idempotent receiver: goes on once, refuses the key while in progress, replays the outcome after', () => {
    const ledger = new EffectLedger();
    expect(ledger.check('k')).toEqual({ kind: 'proceed' });
    expect(ledger.check('k')).toEqual({ kind: 'in_progress' });
    ledger.release('k', { id: 'k', latencyMs: 9 });
    expect(ledger.check('k')).toEqual({ kind: 'replay', outcome: { id: 'k', latencyMs: 9 } });
  });

  it('lets a key whose work failed go on again: nothing was applied to replay', () => {
    const ledger = new EffectLedger();
    expect(ledger.check('k').kind).toBe('proceed');
    ledger.release('k');
    expect(ledger.check('k').kind).toBe('proceed');
  });

  it('forgets the oldest keys past its bound', () => {
    const ledger = new EffectLedger(2);
    ledger.applied('a');
    ledger.applied('b');
    ledger.applied('c');
    // `a` was forgotten: a repeat of it counts as new.
    expect(ledger.applied('a')).toBe(false);
    expect(ledger.applied('c')).toBe(true);
  });
});

describe('faults aimed at a caller', () => {
  it('match the caller named, the callers under it, and everyone when no caller is named', () => {
    expect(callerMatches(undefined, 'gateway')).toBe(true);
    expect(callerMatches(undefined, undefined)).toBe(true);
    expect(callerMatches('worker/billing', 'worker/billing')).toBe(true);
    expect(callerMatches('worker', 'worker/billing')).toBe(true);
    expect(callerMatches('worker/billing', 'worker/audit')).toBe(false);
    expect(callerMatches('work', 'worker/billing')).toBe(false);
    expect(callerMatches('gateway', undefined)).toBe(false);
  });

  it('leave every other caller alone', () => {
    const table = new FaultTable(() => 0);
    table.add({ kind: 'error', durationMs: 1000, caller: 'worker/billing' });
    const never = () => 0;
    expect(table.decide(never, { caller: 'worker/billing' }).action).toBe('error');
    expect(table.decide(never, { caller: 'worker/audit' }).action).toBe('none');
    expect(table.decide(never, { caller: 'gateway' }).action).toBe('none');
    expect(table.active()[0]).toMatchObject({ caller: 'worker/billing' });
  });
});
