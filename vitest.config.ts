import { defineConfig } from 'vitest/config';

const HEAVY = ['test/bench/**/*.test.ts', 'test/status/page-browser.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Real servers bind fixed 127.0.0.x ports; files own distinct address ranges,
    // so they may run in parallel, but the machine has only 2 cores.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/package/**', 'test/cluster/**', ...HEAVY],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Files that load both cores for a minute (the side-by-side ratio benches, Chromium
        // on a 10,000-real page): one at a time, after the unit tests, so that their load
        // does not eat into the time bounds of the unit tests beside them.
        extends: true,
        test: { name: 'heavy', include: HEAVY, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        // The IPVS guest's scenarios measure detection and repair times against bounds
        // taken from the config; they run after everything else, one guest at a time, so
        // that no CPU-heavy unit test competes with the guest's single traced CPU.
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 2 } },
      },
      {
        // Two directors under the real heartbeat and Pacemaker in one IPVS guest
        // (test/cluster/cluster.test.ts): after the e2e guest, never beside it (both time
        // what the guest's one CPU does).
        extends: true,
        test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 3 } },
      },
      {
        // The Debian package on clean Debian roots (test/package/deb.test.ts): minutes of
        // CPU and disk, run last so that it slows no timed test.
        extends: true,
        test: { name: 'package', include: ['test/package/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 4 } },
      },
    ],
  },
});
