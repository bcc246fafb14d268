#!/usr/bin/env node
// Benchmark: converging 10,000 destination changes with the REAL ipvsadm on the REAL kernel
// table (in the IPVS guest: the machine's own kernel has no IPVS), and the cost of one change.
//
//   node bench/ipvs-converge.mjs [--lib DIR] [--per-service N] [--json]
//   (after `npm run build`; DIR defaults to dist; 10 services x N destinations, N = 1000)
//
// On the host it boots one guest (test/e2e/vm/ipvs-vm.sh) and re-runs itself inside with
// --guest. Each scenario is timed end to end (read, diff, one ipvsadm -R batch that also
// reads the table back, verify) and split into ipvsadm time and our own time; the raw
// cost of ipvsadm -R and of one system call in the guest are measured for comparison.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { reloadConfigText, reloadDirector } from './reload-fixture.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const lib = opt('--lib', 'dist');
const TARGET_MS = 2000;

if (!argv.includes('--guest')) {
  if (!existsSync(path.join(ROOT, lib, 'lib/ipvs/converge.js'))) {
    console.error(`bench/ipvs-converge: ${lib}/lib/ipvs/converge.js is missing: run \`npm run build\` first (or pass --lib DIR)`);
    process.exit(2);
  }
  const vm = path.join(ROOT, 'test/e2e/vm/ipvs-vm.sh');
  const r = spawnSync(
    vm,
    [
      '-q',
      '-C',
      ROOT,
      '--',
      'node',
      'bench/ipvs-converge.mjs',
      '--guest',
      '--lib',
      lib,
      '--per-service',
      opt('--per-service', '1000'),
      ...argv.filter((a) => a === '--json'),
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
  process.exit(r.status ?? 1);
}

// ------------------------------------------------------------------ in the guest ----
const load = (m) => import(pathToFileURL(path.join(ROOT, lib, 'lib/ipvs', m)).href);
const { converge } = await load('converge.js');
const { createIpvsadmRunner } = await load('ipvsadm-runner.js');
const { locateIpvsadm } = await load('locate.js');
const { diffTable } = await load('diff.js');
const { parseListings } = await load('listing-parser.js');
const { readTable } = await load('read-table.js');
const { restoreLine } = await load('commands.js');
const { serviceKey } = await load('table.js');

const IPVSADM = locateIpvsadm();
const base = createIpvsadmRunner(IPVSADM, { timeoutMs: 600_000 });
/** Every ipvsadm run with its duration. */
let runs = [];
const runner = {
  path: base.path,
  async run(args, input, onStdout) {
    const t0 = performance.now();
    try {
      return await base.run(args, input, onStdout);
    } finally {
      runs.push({ what: input === undefined ? args.join(' ') : `-R (${input.split('\n').length - 1} lines)`, ms: performance.now() - t0 });
    }
  },
};
const now = () => performance.now();
const ms = (x) => Math.round(x);
const sh = (args, input) => spawnSync(IPVSADM, args, { input: input ?? '', encoding: 'utf8', maxBuffer: 1 << 28 });

const SERVICES = 10,
  PER = Number(opt('--per-service', '1000'));
const svcId = (s) => ({ protocol: 'tcp', family: 4, address: `192.0.2.${s + 1}`, port: 80 });
const dest = (s, i, weight) => ({
  address: `10.${s}.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  port: 8080,
  forward: 'masq',
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
});
const table = (fn) => ({
  services: Array.from({ length: SERVICES }, (_, s) => ({ ...svcId(s), scheduler: 'wrr', ops: false, destinations: fn(s) })),
});
const MANAGED = Array.from({ length: SERVICES }, (_, s) => serviceKey(svcId(s)));
const range = (n) => Array.from({ length: n }, (_, i) => i);

const FULL_1 = table((s) => range(PER).map((i) => dest(s, i, 1)));
const FULL_2 = table((s) => range(PER).map((i) => dest(s, i, 2)));
// a third of the reals replaced by new ones, a third re-weighted, a third unchanged... and then deleted below
const MIXED = table((s) =>
  range(PER).flatMap((i) => (i % 3 === 0 ? [dest(s, i + PER, 1)] : i % 3 === 1 ? [dest(s, i, 5)] : [dest(s, i, 2)])),
);
const EMPTY_SERVICES = table(() => []);

async function scenario(name, desired) {
  runs = [];
  const t0 = now();
  const r = await converge(runner, desired, MANAGED);
  const total = now() - t0;
  const changes = r.planned.filter((c) => c.op.endsWith('destination')).length;
  const ipvsadmMs = runs.reduce((a, x) => a + x.ms, 0);
  process.stderr.write(`  ${name}: ${ms(total)} ms\n`);
  return {
    name,
    ok: r.ok,
    changes,
    commands: r.planned.length,
    passes: r.passes,
    totalMs: ms(total),
    ipvsadmMs: ms(ipvsadmMs),
    ownMs: ms(total - ipvsadmMs),
    runs: runs.map((x) => `${x.what}: ${ms(x.ms)} ms`),
  };
}

const results = { guest: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(), scenarios: [] };
sh(['-C']);
// services first, so that every scenario below changes exactly 10,000 destinations
await converge(runner, EMPTY_SERVICES, MANAGED);
results.scenarios.push(await scenario('add 10,000 destinations', FULL_1));
results.scenarios.push(await scenario('re-weight 10,000 destinations', FULL_2));
results.scenarios.push(await scenario('mixed: 1/3 added, 1/3 deleted, 1/3 re-weighted', MIXED));
results.scenarios.push(await scenario('delete 10,000 destinations', EMPTY_SERVICES));

// one change: on a full table (10,000 destinations) and on a small one (10)
await converge(runner, FULL_1, MANAGED);
const one = async (big) => {
  const samples = [];
  for (let k = 0; k < 5; k++) {
    const want = big ? FULL_1 : table((s) => (s === 0 ? range(10).map((i) => dest(s, i, 1)) : []));
    const changed = {
      services: want.services.map((s, i) =>
        i === 0 ? { ...s, destinations: s.destinations.map((d, j) => (j === 0 ? { ...d, weight: 10 + k } : d)) } : s,
      ),
    };
    samples.push(
      await scenario(big ? 'one change, 10,000 destinations in the table' : 'one change, 10 destinations in the table', changed),
    );
  }
  samples.sort((a, b) => a.totalMs - b.totalMs);
  return { ...samples[2], name: `${samples[2].name} (median of 5)`, minMs: samples[0].totalMs, maxMs: samples[4].totalMs };
};
results.scenarios.push(await one(true));
results.scenarios.push(await one(false));

// A reload of a 10,000-real config (1,000 virtuals x 10) in which one real's weight
// changed, through the daemon's Director (what SIGHUP runs): the table work it does and
// what it sends. checktype=on puts every real up without a probe: the guest has no real
// servers, and this measures the table work only.
async function reloadScenario() {
  const { assembleDirector } = await import(pathToFileURL(path.join(ROOT, lib, 'lib/daemon/assemble-director.js')).href);
  const { parseConfig } = await import(pathToFileURL(path.join(ROOT, lib, 'lib/config/parse.js')).href);
  const cfg = async (changed) =>
    (await parseConfig(reloadConfigText({}, changed), { file: 'reload.cf', openForAppend: () => null })).config;
  const logged = [];
  const director = reloadDirector(assembleDirector, await cfg(false), runner, logged);
  sh(['-C']);
  await director.start();
  await director.run();
  const next = await cfg(true);
  const samples = [];
  for (let k = 0; k < 3; k++) {
    runs = [];
    logged.length = 0;
    const t0 = now();
    await director.reload(k % 2 === 0 ? next : await cfg(false));
    const total = now() - t0;
    const ipvsadmMs = runs.reduce((a, x) => a + x.ms, 0);
    samples.push({
      totalMs: ms(total),
      ipvsadmMs: ms(ipvsadmMs),
      ownMs: ms(total - ipvsadmMs),
      runs: runs.map((x) => `${x.what}: ${ms(x.ms)} ms`),
      logged: [...logged],
    });
  }
  await director.stop();
  const table = await readTable(base);
  samples.sort((a, b) => a.totalMs - b.totalMs);
  const m = samples[1];
  process.stderr.write(`  reload, one line changed: ${m.totalMs} ms\n`);
  return {
    name: 'reload of a 10,000-real config, one weight changed (median of 3)',
    ok: table.services.length >= 1000,
    changes: m.logged.length,
    commands: m.logged.length,
    passes: 1,
    totalMs: m.totalMs,
    ipvsadmMs: m.ipvsadmMs,
    ownMs: m.ownMs,
    runs: m.runs,
    logged: m.logged,
    minMs: samples[0].totalMs,
    maxMs: samples[2].totalMs,
  };
}

// what the time is made of
const listing = sh(['-R'], '-L -n\n-L -n --thresholds\n').stdout;
const t1 = now();
const parsed = parseListings(listing);
const parseMs = now() - t1;
const t2 = now();
const cmds = diffTable(parsed, FULL_2, MANAGED);
const diffMs = now() - t2;
const t3 = now();
const lines = cmds.map(restoreLine).join('\n');
const renderMs = now() - t3;
const t4 = now();
const raw = sh(['-R'], lines + '\n');
const rawMs = now() - t4;
const t5 = now();
sh(['-R'], '');
const spawnMs = now() - t5;
const t6 = now();
for (let i = 0; i < 2000; i++) void process.ppid;
const syscallUs = ((now() - t6) / 2000) * 1000;
results.parts = {
  parse10kMs: ms(parseMs),
  diff10kMs: ms(diffMs),
  render10kMs: ms(renderMs),
  rawIpvsadmRestore10kEditsMs: ms(rawMs),
  rawOk: raw.status === 0 && raw.stderr === '',
  ipvsadmStartMs: ms(spawnMs),
  syscallUs: Number(syscallUs.toFixed(1)),
};
const tableAfter = await readTable(runner);
results.finalDestinations = tableAfter.services.reduce((a, s) => a + s.destinations.length, 0);
results.scenarios.push(await reloadScenario());

if (argv.includes('--json')) {
  process.stdout.write(JSON.stringify(results) + '\n');
} else {
  console.log(`ipvs-converge benchmark: real ipvsadm (${IPVSADM}) on the real kernel table, guest kernel ${results.guest}`);
  console.log(`target: 10,000 destination changes converged in <= ${TARGET_MS} ms\n`);
  console.log('scenario'.padEnd(58) + 'changes  total ms  ipvsadm ms  own ms  ok');
  for (const s of results.scenarios) {
    console.log(
      `${s.name.padEnd(58)}${String(s.changes).padStart(7)}${String(s.totalMs).padStart(10)}${String(s.ipvsadmMs).padStart(12)}${String(s.ownMs).padStart(8)}  ${s.ok ? 'yes' : 'NO'}`,
    );
  }
  const reload = results.scenarios.find((x) => x.name.startsWith('reload'));
  console.log(`\nreload, one line changed: ${reload.runs.join('; ')}; logged: ${reload.logged.join(' | ')}`);
  console.log('\nbreakdown of "add 10,000":');
  for (const r of results.scenarios[0].runs) console.log(`  ${r}`);
  const p = results.parts;
  console.log(`\nown code on 10,000 destinations: parse listings ${p.parse10kMs} ms, diff ${p.diff10kMs} ms, render ${p.render10kMs} ms`);
  console.log(`raw ipvsadm -R with 10,000 edit lines (no ldirectord-ts code): ${p.rawIpvsadmRestore10kEditsMs} ms`);
  console.log(`one ipvsadm start (empty -R): ${p.ipvsadmStartMs} ms; one system call in this guest: ${p.syscallUs} us`);
  const worst = Math.max(...results.scenarios.slice(0, 4).map((s) => s.totalMs));
  console.log(`\n10,000 changes: worst ${worst} ms -> target ${worst <= TARGET_MS ? 'MET' : 'NOT MET'} in this guest`);
}
