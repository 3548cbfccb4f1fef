import { describe, expect, it } from 'vitest';
import { DepthEstimate } from '../../services/producer/depth-estimate.ts';

describe('DepthEstimate', () => {
  it('reads at most once per ttl and adds what this producer added since', async () => {
    let now = 0;
    let reads = 0;
    let depth = 10;
    const estimate = new DepthEstimate(
      async () => {
        reads += 1;
        return depth;
      },
      100,
      () => now,
    );
    expect(await estimate.current()).toBe(10);
    estimate.reserve();
    estimate.reserve();
    now = 50;
    expect(await estimate.current()).toBe(12);
    expect(reads).toBe(1);
    depth = 40;
    now = 151;
    expect(await estimate.current()).toBe(40);
    expect(reads).toBe(2);
  });

  it('shares one read between concurrent callers', async () => {
    let reads = 0;
    const estimate = new DepthEstimate(
      async () => {
        reads += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return 5;
      },
      0,
      () => reads * 1000,
    );
    const values = await Promise.all([estimate.current(), estimate.current(), estimate.current()]);
    expect(values).toEqual([5, 5, 5]);
    expect(reads).toBe(1);
  });

  it('counts a reservation at once, so concurrent checks cannot all pass the same bound', async () => {
    const estimate = new DepthEstimate(
      async () => 0,
      60_000,
      () => 0,
    );
    const maxDepth = 10;
    // 50 requests check at the same moment, each awaiting the (shared) depth first.
    const admitted = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const { cancel } = await estimate.admit(maxDepth);
        if (!cancel) return false;
        await new Promise((resolve) => setTimeout(resolve, 1)); // the add
        return true;
      }),
    );
    expect(admitted.filter(Boolean)).toHaveLength(10);
    expect(await estimate.current()).toBe(10);
  });

  it('gives a cancelled place back, unless a refresh has already counted without it', async () => {
    let now = 0;
    let depth = 0;
    const estimate = new DepthEstimate(
      async () => depth,
      100,
      () => now,
    );
    await estimate.current();
    const cancelA = estimate.reserve();
    const cancelB = estimate.reserve();
    expect(await estimate.current()).toBe(2);
    cancelA();
    cancelA();
    expect(await estimate.current()).toBe(1);
    // B's job never reached Redis; a refresh reads 0 and drops B's place by itself.
    now = 200;
    expect(await estimate.current()).toBe(0);
    cancelB();
    expect(await estimate.current()).toBe(0);
    depth = 7;
    now = 400;
    expect(await estimate.current()).toBe(7);
  });

  it('rejects when the depth cannot be read, and recovers on the next read', async () => {
    let now = 0;
    let up = false;
    const estimate = new DepthEstimate(
      async () => {
        if (!up) throw new Error('redis down');
        return 3;
      },
      10,
      () => now,
    );
    await expect(estimate.current()).rejects.toThrow('redis down');
    up = true;
    now = 20;
    expect(await estimate.current()).toBe(3);
  });
});
