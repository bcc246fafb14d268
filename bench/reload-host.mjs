// A reload of a 10,000-real config with one weight changed, on this machine (no IPVS
// kernel here): the daemon's Director with the benches' fake ipvsadm run as a separate
// process, as the real ipvsadm is (bench/fake-ipvsadm-timed, the test suite's fake, answers
// reads of an unchanged table from a cache). "Table work" is the CPU time of this process
// during the reload (reading and diffing the table, the check runner's update, spawning
// ipvsadm and reading its output); ipvsadm's own CPU is in its process and not counted.
// The same scenario with the real ipvsadm runs in the IPVS guest (bench/ipvs-converge.mjs).
//   node bench/reload-host.mjs      (bench/ci-ratios.mjs runs a smaller one for CI)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleDirector } from '../dist/lib/daemon/assemble-director.js';
import { parseConfig } from '../dist/lib/config/parse.js';
import { createIpvsadmRunner } from '../dist/lib/ipvs/ipvsadm-runner.js';
import { reloadConfigText, reloadDirector } from './reload-fixture.mjs';

/**
 * `virtuals` x `perVirtual` reals (checktype=on), started and converged, then `reloads`
 * reloads that alternately change one real's weight and change it back.
 */
export async function benchReload({ virtuals = 1000, perVirtual = 10, reloads = Number(process.env.BENCH_RELOADS ?? 21) } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ldirectord-reload-'));
  const fake = createIpvsadmRunner(fileURLToPath(new URL('./fake-ipvsadm-timed', import.meta.url)), {
    env: { FAKE_IPVSADM_STATE: join(dir, 'state.json') },
  });
  let runs = [];
  const runner = {
    path: fake.path,
    async run(args, input, onStdout) {
      const t0 = performance.now();
      const r = await fake.run(args, input, onStdout);
      runs.push({ lines: (input ?? '').split('\n').filter((l) => l && !l.startsWith('-L')).length, ms: performance.now() - t0 });
      return r;
    },
  };
  const shape = { virtuals, perVirtual, changedReal: Math.floor(virtuals * perVirtual * 0.4321) };
  const cfg = async (changed) =>
    (await parseConfig(reloadConfigText(shape, changed), { file: 'reload.cf', openForAppend: () => null })).config;
  const logged = [];
  const director = reloadDirector(assembleDirector, await cfg(false), runner, logged);
  const samples = [];
  const bareRead = [];
  try {
    await director.start();
    await director.run();
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    // For scale: what one ipvsadm run that lists the whole table costs this process (spawning
    // it, reading the listing from the pipe) with none of our table code.
    for (let k = 0; k < 5; k++) {
      const c0 = cpuMs();
      await fake.run(['-R'], '-L -n\n-L -n --thresholds\n');
      bareRead.push(cpuMs() - c0);
    }
    bareRead.sort((a, b) => a - b);
    for (let k = 0; k < reloads; k++) {
      runs = [];
      logged.length = 0;
      // A fresh parse each time, as a reload reads the file again (the parse is not table work:
      // bench/run.mjs times it).
      const next = await cfg(k % 2 === 0);
      const t0 = performance.now();
      const c0 = cpuMs();
      await director.reload(next);
      const cpu = cpuMs() - c0;
      const total = performance.now() - t0;
      const ipvsadm = runs.reduce((a, r) => a + r.ms, 0);
      samples.push({
        cpuMs: cpu,
        wallMs: total,
        ipvsadmWallMs: ipvsadm,
        runs: runs.length,
        commands: runs.reduce((a, r) => a + r.lines, 0),
        logged: [...logged],
      });
    }
  } finally {
    await director.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const stats = (f) => {
    const x = samples.map(f).sort((a, b) => a - b);
    // the first reload also compiles the code only reloads use (planning, comparing configs)
    return {
      median: +x[x.length >> 1].toFixed(1),
      min: +x[0].toFixed(1),
      max: +x.at(-1).toFixed(1),
      first: +f(samples[0]).toFixed(1),
      reloads: x.length,
    };
  };
  return {
    reals: virtuals * perVirtual,
    tableWorkCpuMs: stats((s) => s.cpuMs),
    bareListingReadCpuMs: { median: +bareRead[2].toFixed(1), min: +bareRead[0].toFixed(1), max: +bareRead[4].toFixed(1) },
    wallMs: stats((s) => s.wallMs),
    ipvsadmWallMs: stats((s) => s.ipvsadmWallMs),
    ipvsadmRuns: samples.map((s) => s.runs),
    commandsSent: samples.map((s) => s.commands),
    logged: samples[0].logged,
    load: loadavg()[0],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchReload(), null, 1));
}
