import { describe, expect, it } from 'vitest';
import {
  backoffType,
  createBackoffStrategy,
  type EventJobData,
} from '../../services/shared/event-job.ts';

const base: EventJobData = {
  id: 'x',
  publishedAt: 0,
  publishToken: 't',
  backoff: { kind: 'exponential', baseMs: 20, capMs: 400, jitter: 'none' },
};

describe('the BullMQ backoff strategy', () => {
  it('grows exponentially from the job policy and stops at the cap', async () => {
    const strategy = createBackoffStrategy(() => 0.5);
    const delays = [];
    for (let attemptsMade = 1; attemptsMade <= 7; attemptsMade += 1) {
      delays.push(await strategy(attemptsMade, backoffType, undefined, { data: base }));
    }
    expect(delays).toEqual([20, 40, 80, 160, 320, 400, 400]);
  });

  it('applies the job policy jitter', async () => {
    const strategy = createBackoffStrategy(() => 0.25);
    const full = { ...base, backoff: { ...base.backoff, jitter: 'full' as const } };
    expect(await strategy(3, backoffType, undefined, { data: full })).toBe(20);
  });

  it('remembers the last delay in the job for decorrelated jitter', async () => {
    const strategy = createBackoffStrategy(() => 1);
    let data: EventJobData = { ...base, backoff: { ...base.backoff, jitter: 'decorrelated' } };
    const job = {
      get data() {
        return data;
      },
      updateData: async (next: EventJobData) => {
        data = next;
      },
    };
    expect(await strategy(1, backoffType, undefined, job)).toBe(60);
    expect(data.lastBackoffMs).toBe(60);
    expect(await strategy(2, backoffType, undefined, job)).toBe(180);
    expect(await strategy(3, backoffType, undefined, job)).toBe(400);
  });

  it('leaves other backoff types alone', async () => {
    expect(await createBackoffStrategy(Math.random)(1, 'other', undefined, { data: base })).toBe(0);
  });
});
