import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Real servers bind fixed 127.0.0.x ports; files own distinct address ranges,
    // so they may run in parallel, but the machine has only 2 cores.
    maxWorkers: 2,
  },
});
