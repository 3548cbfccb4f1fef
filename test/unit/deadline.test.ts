import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideDeadline, parseDeadlineMs } from '../../services/downstream/deadline.ts';
import { Cancellation } from '../../services/shared/cancellation.ts';

describe('deadlines that travel', () => {
  it('reads whole non-negative ms from the header, and nothing else', () => {
    expect(parseDeadlineMs('0')).toBe(0);
    expect(parseDeadlineMs('120')).toBe(120);
    for (const bad of [undefined, '', '-1', '1.5', '1e3', ' 5', 'abc', '1234567890'])
      expect(parseDeadlineMs(bad), String(bad)).toBeUndefined();
  });

  it('refuses work with no time left, drops it at the deadline, and leaves it alone without one', () => {
    expect(decideDeadline(0, 10)).toEqual({ kind: 'refuse' });
    expect(decideDeadline(undefined, 10)).toEqual({ kind: 'work', ms: 10, dropped: false });
    expect(decideDeadline(50, 10)).toEqual({ kind: 'work', ms: 10, dropped: false });
    expect(decideDeadline(50, 50)).toEqual({ kind: 'work', ms: 50, dropped: false });
    expect(decideDeadline(50, 300)).toEqual({ kind: 'work', ms: 50, dropped: true });
  });

  it('never works past the deadline, and drops exactly the work that would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(20_000), (budget, work) => {
        const decision = decideDeadline(budget, work);
        if (decision.kind !== 'work') return false;
        return decision.ms === Math.min(budget, work) && decision.dropped === work > budget;
      }),
    );
  });

  it('a cancellation knows how long is left, so a caller can send it', () => {
    const { cancellation, clear } = Cancellation.after(200);
    const now = performance.now();
    expect(cancellation.remainingMs(now)).toBeGreaterThan(150);
    expect(cancellation.remainingMs(now)).toBeLessThanOrEqual(200);
    expect(cancellation.remainingMs(now + 500)).toBe(0);
    expect(new Cancellation().remainingMs()).toBeUndefined();
    clear();
  });
});
