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
  'test/integration/processes.test.ts',
  'test/integration/redis-cluster.test.ts',
];

/**
 * testcontainers through the engine scripts/container-engine.sh makes (or any Docker):
 * Ryuk, its reaper, is an image no registry here serves, so the tests stop their own
 * containers (test/support/container-cleanup.ts catches what a failed test left), and
 * published ports are reached on 127.0.0.1, never another address.
 */
const containerEnv = {
  TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? 'true',
  TESTCONTAINERS_HOST_OVERRIDE: process.env.TESTCONTAINERS_HOST_OVERRIDE ?? '127.0.0.1',
};

const shared = {
  pool: 'forks' as const,
  testTimeout: 30_000,
  hookTimeout: 60_000,
  env: containerEnv,
};

export default defineConfig({
  test: {
    globalSetup: ['test/support/container-cleanup.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Two files at once: vitest's default is the cores less one, a file at a time here.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/config/**/*.test.ts'],
          exclude: stacks,
          maxWorkers: 2,
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
      {
        // The compose stack: its own engine's containers, last and alone.
        test: {
          ...shared,
          name: 'containers',
          include: ['test/containers/**/*.test.ts'],
          maxWorkers: 1,
          testTimeout: 600_000,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
