// Runs INSIDE the IPVS guest (test/e2e/vm/ipvs-vm.sh), against the real kernel table and
// the real Debian ipvsadm, and prints one JSON object with everything the host-side test
// (test/e2e/ipvs.test.ts) asserts on. Started by ipvs-e2e.sh (from the project root):
//   node test/e2e/guest/ipvs-e2e.mjs <build dir holding lib/ipvs/*.js and test/support/ipvs-listing.js> <dir of step outputs>
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { STEPS } from './ipvsadm-steps.mjs';
import { DESIRED_1, DESIRED_2, MANAGED, UNMANAGED_SETUP } from './scenarios.mjs';

const lib = path.resolve(process.argv[2] ?? 'dist');
const load = (m) => import(pathToFileURL(path.join(lib, 'lib/ipvs', m)).href);
const { converge } = await load('converge.js');
const { createIpvsadmRunner } = await load('ipvsadm-runner.js');
const { locateIpvsadm } = await load('locate.js');
const { readTable } = await load('read-table.js');
const { parseSave, parseListing } = await import(pathToFileURL(path.join(lib, 'test/support/ipvs-listing.js')).href);
const { diffTable } = await load('diff.js');
const { commandArgs } = await load('commands.js');
const { serviceKey } = await load('table.js');

const IPVSADM = locateIpvsadm();
const sh = (args, input) => {
  const r = spawnSync('ipvsadm', args, { input: input ?? '', encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status };
};
const must = (args, input) => {
  const r = sh(args, input);
  if (r.exitCode !== 0 || (input !== undefined && r.stderr !== '')) throw new Error(`ipvsadm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** Several commands in one ipvsadm -R (each ipvsadm start costs ~0.1 s in the guest). */
const mustAll = (cmds) => must(['-R'], cmds.map((a) => a.join(' ')).join('\n') + '\n');
const runner = createIpvsadmRunner(IPVSADM);
const out = { ipvsadm: IPVSADM, kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(), timings: {} };
const timed = async (name, fn) => {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    out.timings[name] = Math.round(performance.now() - t0);
  }
};
const lines = (cmds) => cmds.map((c) => commandArgs(c).join(' '));
const unmanaged = (t) => t.services.filter((s) => !MANAGED.includes(serviceKey(s)));
/** What the host needs of a ConvergeResult. */
const summary = (r) => ({
  ok: r.ok,
  error: r.error ? { kind: r.error.kind, message: r.error.message } : undefined,
  planned: lines(r.planned),
  applied: lines(r.applied),
  remaining: lines(r.remaining),
  failures: r.failures.map((f) => ({ args: f.args.join(' '), exitCode: f.exitCode, stderr: f.stderr, pass: f.pass })),
  skipped: lines(r.skipped),
  batchStderr: r.batchStderr,
  passes: r.passes,
  runs: r.runs,
  unmanagedBefore: r.before ? unmanaged(r.before) : undefined,
  unmanagedAfter: r.after ? unmanaged(r.after) : undefined,
});

must(['-C']); // loads ip_vs

// 1. The real ipvsadm's answers to the fake-vs-real sequence: ipvs-e2e.sh ran it before
// starting node, and left the outputs in the directory given as the second argument.
const stepsDir = process.argv[3];
out.steps = await timed('steps', () =>
  STEPS.map((_, i) => {
    const f = (ext) => readFileSync(path.join(stepsDir, `${i}.${ext}`), 'utf8');
    return { stdout: f('out'), stderr: f('err'), exitCode: Number(f('rc')) };
  }),
);

// 2. Reading tables built by hand.
must(['-C']);
const HAND = [
  ['-A', '-t', '10.0.0.1:80', '-s', 'wrr'],
  ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.2', '-g', '-w', '3'],
  ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.3:8080', '-m', '-w', '2', '-x', '100', '-y', '10'],
  ['-a', '-t', '10.0.0.1:80', '-r', '10.0.0.4:0', '-i', '-w', '0'],
  ['-a', '-t', '10.0.0.1:80', '-r', '127.0.0.1:80', '-g', '-w', '1'],
  ['-A', '-t', '10.0.0.1:443', '-s', 'sh', '-p', '300', '-M', '255.255.255.0', '-b', 'sh-port'],
  ['-A', '-u', '10.0.0.1:53', '-s', 'rr', '-o'],
  ['-a', '-u', '10.0.0.1:53', '-r', '10.0.0.5:53', '-m'],
  ['-A', '-f', '7', '-s', 'lc', '-p'],
  ['-a', '-f', '7', '-r', '10.0.0.6:0', '-g', '-w', '5', '-x', '8', '-y', '2'],
  ['-A', '-f', '8', '-6', '-s', 'rr', '-p', '30', '-M', '48'],
  ['-a', '-f', '8', '-6', '-r', '[2001:db8::10]:80', '-m', '-w', '1'],
  ['-A', '-t', '[2001:db8::1]:80', '-s', 'wlc', '-p', '60', '-M', '64'],
  ['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8::2]:0', '-g', '-w', '4'],
  ['-a', '-t', '[2001:db8::1]:80', '-r', '[2001:db8::3]:81', '-m', '-w', '4', '-x', '5', '-y', '2'],
];
mustAll(HAND);
out.read = await timed('read', async () => ({
  table: await readTable(runner),
  save: parseSave(must(['-S', '-n'])),
  list: parseListing(must(['-L', '-n'])),
}));

// 3. Converging from empty, with services someone else owns in the table.
must(['-C']);
mustAll(UNMANAGED_SETUP);
out.unmanagedInitial = unmanaged(await readTable(runner));
out.fromEmpty = await timed('fromEmpty', async () => summary(await converge(runner, DESIRED_1, MANAGED)));
out.again = await timed('again', async () => summary(await converge(runner, DESIRED_1, MANAGED)));
out.tableAfterEmpty = await readTable(runner);
out.residualAfterEmpty = lines(diffTable(out.tableAfterEmpty, DESIRED_1, MANAGED));

// 4. Drift: someone deletes a real and changes a weight by hand; then clears the table.
must(['-d', '-t', '192.0.2.10:80', '-r', '198.51.100.3:8080']);
must(['-e', '-f', '7', '-r', '198.51.100.6:0', '-g', '-w', '1']);
out.drift = await timed('drift', async () => summary(await converge(runner, DESIRED_1, MANAGED)));
must(['-C']);
out.cleared = await timed('cleared', async () => summary(await converge(runner, DESIRED_1, MANAGED)));
out.residualAfterCleared = lines(diffTable(await readTable(runner), DESIRED_1, MANAGED));

// 5. A reload: weights, thresholds, scheduler, ops, persistence changed, a virtual dropped.
must(['-C']);
mustAll(UNMANAGED_SETUP);
await converge(runner, DESIRED_1, MANAGED);
out.reload = await timed('reload', async () => summary(await converge(runner, DESIRED_2, MANAGED)));
out.residualAfterReload = lines(diffTable(await readTable(runner), DESIRED_2, MANAGED));
out.unmanagedFinal = unmanaged(await readTable(runner));

// 6. A command the kernel refuses: the real ipvsadm's own message comes back.
const bad = { services: [{ ...DESIRED_1.services[1], scheduler: 'nosuch' }, DESIRED_1.services[0]] };
must(['-C']);
out.refused = await timed('refused', async () => summary(await converge(runner, bad, MANAGED)));

process.stdout.write(JSON.stringify(out));
