import { defineConfig } from 'vitest/config';

/**
 * Files that start a whole stack (Redis, four services, sometimes Prometheus or a browser)
 * run one at a time, after the rest: on a 2-core machine two of them at once would make
 * each other's timing, not the code, the thing under test.
 */
const stacks = [
  'test/e2e/**/*.test.ts',
  'test/integration/observability.test.ts',
  'test/integration/up.test.ts',
  'test/integration/redis-cluster.test.ts',
];

const shared = { pool: 'forks' as const, testTimeout: 30_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: stacks,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          name: 'stacks',
          include: stacks,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
