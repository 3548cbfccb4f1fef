import { describe, expect, it } from 'vitest';
import { poll } from '../../services/shared/poll.ts';

describe('poll', () => {
  it('reads until done holds, and answers that value', async () => {
    let reads = 0;
    const polled = await poll(
      async () => ++reads,
      (n) => n === 3,
      { timeoutMs: 10_000, everyMs: 1 },
    );
    expect(polled).toEqual({ value: 3, done: true });
  });

  it('reads at least once, and answers the last value when the time runs out', async () => {
    let reads = 0;
    const polled = await poll(
      async () => ++reads,
      () => false,
      { timeoutMs: 0, everyMs: 1 },
    );
    expect(polled).toEqual({ value: 1, done: false });
  });

  it('ends with the error of a read that throws', async () => {
    await expect(
      poll(
        () => Promise.reject(new Error('gone')),
        () => true,
        { timeoutMs: 1000 },
      ),
    ).rejects.toThrow('gone');
  });
});
