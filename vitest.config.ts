import { defineConfig } from 'vitest/config';

/**
 * The suite must pass on a busy machine (a CI run right after other work, a CPU hog beside it). expect.poll's own
 * default (1 s) fails there; a poll ends as soon as it holds, so a generous bound costs nothing when things go well.
 * Test and hook timeouts are likewise bounds for a machine several times slower than an idle one.
 */
const busyMachine = { expect: { poll: { timeout: 30_000, interval: 50 } } };

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 120_000,
          ...busyMachine,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          ...busyMachine,
        },
      },
      {
        test: {
          name: 'electron',
          include: ['test/electron/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 180_000,
          ...busyMachine,
        },
      },
    ],
  },
});
