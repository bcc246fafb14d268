// Runs INSIDE the IPVS guest, after daemon-e2e.sh has built the LVS-NAT network: drives
// the whole ldirectord-ts daemon through its command line against the real kernel table and
// the real Debian ipvsadm, with real HTTP servers (busybox httpd) as real servers and a
// client sending requests through the VIP, and prints one JSON report that the host-side
// test (test/e2e/daemon.test.ts) asserts on. Nothing is asserted here: every scenario
// records what it saw and how long it took; a failure is recorded and the run goes on.
//   node test/e2e/guest/daemon-e2e.mjs <build dir holding bin/ldirectord and dist/>
// With E2E_VERBOSE=1 in the environment (ipvs-vm.sh -e E2E_VERBOSE=1), each step is announced
// on stderr and the report so far is written to <build dir>/partial.json after each step.
// Timing: in the guest (one CPU, ~2-3x slower than the host, every process traced) each
// `ldirectord` command takes ~5-10 s, nearly all of it node loading the program's modules.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const BIN = path.resolve(process.argv[2], 'bin/ldirectord');
const ROOT = process.cwd();
const VIP = '10.200.100.1';
const R1 = '10.200.1.2';
const R2 = '10.200.2.2';
const SVC = `tcp ${VIP}:80`;
const SVC2 = `tcp ${VIP}:8080`;
const UNMANAGED = ['-A -t 10.200.100.2:80 -s rr', '-a -t 10.200.100.2:80 -r 10.200.2.2:80 -m -w 5'];
const TUTORIAL_CF = '/etc/ha.d/ldirectord.cf';
const RELOAD_CF = '/tmp/e2e/reload.cf';
const W = '/tmp/e2e';

const out = { errors: [], timings: {}, cli: {} };
const T0 = Date.now();
const rel = (t) => (t === undefined || t === null ? null : t - T0);

// ------------------------------------------------------------------ processes --

/** Runs a program to its end without blocking the event loop (the samplers keep going). */
function run(file, args, o = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const c = spawn(file, args, {
      cwd: o.cwd ?? ROOT,
      stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(o.env ? { env: { ...process.env, ...o.env } } : {}),
    });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    if (o.input !== undefined) c.stdin.end(o.input);
    c.on('error', (err) => resolve({ exitCode: null, stdout, stderr: stderr + String(err), t0, ms: Date.now() - t0 }));
    c.on('close', (code, signal) => resolve({ exitCode: code ?? signal, stdout, stderr, t0, ms: Date.now() - t0 }));
  });
}

const ipvsadm = async (...args) => {
  const r = await run('ipvsadm', args);
  if (r.exitCode !== 0) throw new Error(`ipvsadm ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
};

/**
 * `ldirectord <args>` through the command line, as an admin or an init script runs it (with
 * node named, as test/cli does: once, on a heavily loaded machine, exec'ing the script
 * through its `#!/usr/bin/env node` line failed with ENOENT in the guest). A command that
 * could not be started at all is tried once more, and says so.
 */
// A daemon that dies has nobody to tell (its stderr is /dev/null): node writes a report of
// what killed it here (the daemon inherits the command's environment).
const NODE_REPORTS = `${W}/node-reports`;
const CLI_ENV = { NODE_OPTIONS: `--report-uncaught-exception --report-on-fatalerror --report-compact --report-directory=${NODE_REPORTS}` };
mkdirSync(NODE_REPORTS, { recursive: true });
async function cli(name, args, o = {}) {
  // The program itself, as an admin or heartbeat runs it (its #! line, with node's options)
  const go = () => run(BIN, args, { cwd: o.cwd ?? '/', env: CLI_ENV });
  let r = await go();
  let spawnError;
  if (r.exitCode === null) {
    spawnError = r.stderr;
    await sleep(500);
    r = await go();
  }
  const rec = {
    args: args.join(' '),
    exitCode: r.exitCode,
    stdout: r.stdout,
    stderr: r.stderr,
    ms: r.ms,
    at: rel(r.t0),
    ...(spawnError ? { spawnError } : {}),
  };
  out.cli[name] = rec;
  return rec;
}

// --------------------------------------------------------------- HTTP servers --

const servers = new Map();
/** busybox httpd: in a namespace for the reals, on the director itself for the fallback. */
async function serve(name, ns, port, body) {
  const dir = `${W}/www-${name}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/index.html`, `${body}\n`);
  writeFileSync(`${dir}/ping.html`, 'Hello World\n');
  // With E2E_VERBOSE, every request each server answers (`<client ip:port>: response:<code>`).
  const verbose = Boolean(process.env.E2E_VERBOSE);
  const httpd = ['busybox', 'httpd', '-f', ...(verbose ? ['-v'] : []), '-p', String(port), '-h', dir];
  const stdio = ['ignore', 'ignore', verbose ? 'pipe' : 'ignore'];
  const c = ns ? spawn('ip', ['netns', 'exec', ns, ...httpd], { stdio }) : spawn(httpd[0], httpd.slice(1), { stdio });
  if (verbose) {
    out.httpd ??= [];
    createInterface({ input: c.stderr }).on('line', (line) => out.httpd.push(`${Date.now() - T0} ${name} ${line}`));
  }
  const exited = new Promise((r) => c.on('exit', r));
  servers.set(name, { c, exited });
  return c;
}
async function kill(name) {
  const s = servers.get(name);
  s.c.kill('SIGKILL');
  await s.exited;
  servers.delete(name);
}
/** GET from the director (root namespace), straight to a server, not through IPVS. */
function get(host, port, p = '/') {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: p, agent: false, timeout: 2000 }, (res) => {
      let b = '';
      res
        .setEncoding('utf8')
        .on('data', (d) => (b += d))
        .on('end', () => resolve(b.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
  });
}
async function waitServing(host, port, body) {
  for (let i = 0; i < 100; i++) {
    if ((await get(host, port)) === body) return;
    await sleep(50);
  }
  throw new Error(`${host}:${port} does not serve "${body}"`);
}

// --------------------------------------------------- the kernel table, sampled --

/**
 * /proc/net/ip_vs is the kernel's own listing (what ipvsadm -L shows, without spawning a
 * process each time, which costs ~60 ms in the guest and would perturb the timings):
 * read every 50 ms, parsed to {"tcp <vip>:<port>": {s: scheduler, d: {"<rip>:<port>": [forward, weight]}}},
 * and kept whenever it changes. The connection counters are left out.
 */
function hexAddr(h) {
  const [a, p] = h.split(':');
  const n = parseInt(a, 16);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}:${parseInt(p, 16)}`;
}
function parseProc(text) {
  const t = {};
  let cur;
  for (const line of text.split('\n').slice(3)) {
    let m = /^(TCP|UDP)\s+([0-9A-F]{8}:[0-9A-F]{4})\s+(\S+)/.exec(line);
    if (m) {
      cur = t[`${m[1].toLowerCase()} ${hexAddr(m[2])}`] = { s: m[3], d: {} };
      continue;
    }
    m = /^\s+->\s+([0-9A-F]{8}:[0-9A-F]{4})\s+(\S+)\s+(\d+)/.exec(line);
    if (m && cur) cur.d[hexAddr(m[1])] = [m[2], Number(m[3])];
  }
  return t;
}
const history = [];
let sampler;
let procReads = 0;
/** When each read was made: what the kernel table's samples cover is judged from these. */
const procReadTimes = [];
let lastKey = '';
function sample() {
  procReadTimes.push(Date.now());
  const table = parseProc(readFileSync('/proc/net/ip_vs', 'utf8'));
  procReads++;
  const key = JSON.stringify(table);
  if (key !== lastKey) {
    lastKey = key;
    history.push({ t: Date.now(), table });
  }
}
const weight = (table, svc, dest) => table[svc]?.d[dest]?.[1];

/**
 * The first sampled state at or after `since` (the state current at `since` included)
 * for which `pred` holds: {t, table}, or null after `timeoutMs`.
 */
async function until(pred, since, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let i = history.length - 1;
    while (i > 0 && history[i].t > since) i--;
    for (; i < history.length; i++) {
      if (pred(history[i].table)) return { t: Math.max(history[i].t, since), table: history[i].table };
    }
    if (Date.now() > deadline) return null;
    await sleep(50);
    if (!sampler) sample();
  }
}
/**
 * How sample times (ascending) cover the window [from, to]: `fromMs`, the last sample at or
 * before `from` (relative to it, <= 0; null when none), `toMs`, the first at or after `to`
 * (relative to it, >= 0; null when none), and the longest gap between consecutive samples
 * from the one to the other: no state lasting longer than that can have gone unseen.
 */
function coverage(times, from, to) {
  let first = -1;
  for (let i = 0; i < times.length && times[i] <= from; i++) first = i;
  const last = times.findIndex((t) => t >= to);
  let maxGapMs = 0;
  const a = Math.max(first, 0);
  const b = last >= 0 ? last : times.length - 1;
  for (let i = a + 1; i <= b; i++) maxGapMs = Math.max(maxGapMs, times[i] - times[i - 1]);
  return {
    fromMs: first >= 0 ? times[first] - from : null,
    toMs: last >= 0 ? times[last] - to : null,
    maxGapMs,
    samples: b - a + 1,
  };
}

/** States sampled in [from, to], the one current at `from` included. */
function statesBetween(from, to) {
  let i = history.length - 1;
  while (i > 0 && history[i].t > from) i--;
  return history.slice(i).filter((h) => h.t <= to);
}

// ----------------------------------------------------------------- the client --

const requests = [];
let client;
async function startClient() {
  client = spawn(
    'ip',
    ['netns', 'exec', 'client', process.execPath, path.join(ROOT, 'test/e2e/guest/daemon-client.mjs'), VIP, '80', '20000'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let ready;
  const isReady = new Promise((r) => (ready = r));
  createInterface({ input: client.stdout }).on('line', (line) => {
    const rec = JSON.parse(line);
    if (rec.ready) ready();
    else if (rec.ack) clientAck?.();
    else requests.push(rec);
  });
  await isReady;
}
let clientAck;
/** Starts the client's requests, one every `everyMs` (or pauses them: 0); resolves once it has taken the command. */
function traffic(everyMs) {
  const acked = new Promise((r) => (clientAck = r));
  client.stdin.write(everyMs ? `go ${everyMs}\n` : 'stop\n');
  return acked;
}
/** The first request (by start) started at or after `since` whose result satisfies `pred`. */
async function firstRequest(pred, since, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = requests.filter((x) => x.t >= since && pred(x)).reduce((m, x) => (!m || x.t < m.t ? x : m), undefined);
    if (r) return r;
    if (Date.now() > deadline) return null;
    await sleep(20);
  }
}
const requestsBetween = (from, to) => requests.filter((r) => r.t >= from && r.t <= to);
const summary = (rs) => {
  const s = {};
  for (const r of rs) s[r.b ?? `error ${r.e}`] = (s[r.b ?? `error ${r.e}`] ?? 0) + 1;
  return s;
};

/** ipvsadm -Lnc: client port -> real server, for the client's connections. */
async function connectionEntries() {
  const m = {};
  for (const line of (await ipvsadm('-L', '-n', '-c')).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'TCP' && f[3]?.startsWith('10.200.0.2:')) m[f[3].split(':')[1]] = { state: f[2], real: f[5] };
  }
  return m;
}

// ---------------------------------------------------------------- scenarios --

async function step(name, fn) {
  const t0 = Date.now();
  if (process.env.E2E_VERBOSE) process.stderr.write(`daemon-e2e: ${name} at ${t0 - T0} ms\n`);
  try {
    await fn();
  } catch (err) {
    out.errors.push(`${name}: ${err.stack ?? err}`);
  } finally {
    out.timings[name] = Date.now() - t0;
    if (process.env.E2E_VERBOSE) writeFileSync(path.join(process.argv[2], 'partial.json'), JSON.stringify(out, null, 1));
  }
}

function must(v, what) {
  if (v === null || v === undefined) throw new Error(`timed out waiting for ${what}`);
  return v;
}

const realsUp = (t, ws) => Object.entries(ws).every(([d, w]) => weight(t, SVC, d) === w);

await step('setup', async () => {
  await Promise.all([
    serve('real1', 'real1', 80, 'real1'),
    serve('real2', 'real2', 80, 'real2'),
    serve('real1-8080', 'real1', 8080, 'real1:8080'),
    serve('fallback', null, 80, 'fallback'),
    startClient(),
  ]);
  await Promise.all([
    waitServing(R1, 80, 'real1'),
    waitServing(R2, 80, 'real2'),
    waitServing(R1, 8080, 'real1:8080'),
    waitServing('127.0.0.1', 80, 'fallback'),
  ]);
  // A service nobody told ldirectord about: it must survive every start, reload and stop.
  await run('ipvsadm', ['-R'], { input: `${UNMANAGED.join('\n')}\n` });
  out.ipvsadmVersion = (await ipvsadm('-v')).trim();
  out.kernel = (await run('uname', ['-r'])).stdout.trim();
  sampler = setInterval(sample, 50);
  sample();
});

// (a) The seed tutorial's LVS-NAT config with guest addresses, started as heartbeat does:
// `ldirectord ldirectord.cf start`, found in /etc/ha.d.
await step('a', async () => {
  const fixture = readFileSync(path.join(ROOT, 'fixtures/config/lenient/tutorial-nat-quiescent.cf'), 'utf8');
  const cf = fixture.replaceAll('192.168.1.20', VIP).replaceAll('192.168.22.4', R1).replaceAll('192.168.22.5', R2);
  mkdirSync('/etc/ha.d', { recursive: true });
  writeFileSync(TUTORIAL_CF, cf);
  out.a = { fixture, config: cf, before: await ipvsadm('-S', '-n') };
  const start = await cli('aStart', ['ldirectord.cf', 'start']);
  const full = must(await until((t) => realsUp(t, { [`${R1}:80`]: 1, [`${R2}:80`]: 1 }), start.at + T0, 15_000), 'both reals in the table');
  out.a.startToTableMs = full.t - (start.at + T0);
  out.a.returnedToTableMs = full.t - (start.at + T0 + start.ms);
  out.a.save = await ipvsadm('-S', '-n');
  out.a.list = await ipvsadm('-L', '-n');
  const pidFile = '/var/run/ldirectord.ldirectord.cf.pid';
  out.a.pidFile = existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : null;
  out.a.cmdline = out.a.pidFile ? readFileSync(`/proc/${out.a.pidFile.trim()}/cmdline`, 'utf8').split('\0').filter(Boolean) : null;
  out.a.mallocEnv = out.a.pidFile
    ? readFileSync(`/proc/${out.a.pidFile.trim()}/environ`, 'utf8')
        .split('\0')
        .filter((e) => e.startsWith('MALLOC_'))
    : null;
  await cli('aStatus', ['ldirectord.cf', 'status']);
  // A few requests through the VIP while both reals are up: the first ten that end (a
  // request is reported when it ends, which on the guest's one busy CPU can take seconds).
  await traffic(100);
  const t = Date.now();
  const deadline = t + 15_000;
  while (requests.filter((r) => r.t >= t).length < 10 && Date.now() < deadline) await sleep(50);
  out.a.requests = summary(requests.filter((r) => r.t >= t).slice(0, 10));
});

// (b) Failures of real servers under client traffic; tutorial: checkinterval=5,
// checktimeout=3, quiescent=yes, failurecount 1 (default).
/** CPU time (ms) a process has used so far, from /proc/<pid>/stat (utime + stime, 100 ticks/s). */
function cpuOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

await step('b', async () => {
  const b = (out.b = {});
  // Where the guest's one CPU goes during (b): this script (samplers), the daemon, the client.
  const daemonPid = Number(out.a?.pidFile);
  const cpu0 = { self: process.cpuUsage(), daemon: cpuOf(daemonPid), client: cpuOf(client.pid), t: Date.now() };
  // --- one real dies
  const tKill = Date.now(); // taken before the signal: bounds err on the safe side
  await kill('real1');
  const quiesced = must(await until((t) => weight(t, SVC, `${R1}:80`) === 0, tKill, 20_000), 'real1 quiesced');
  b.killToQuiescedMs = quiesced.t - tKill;
  b.tableAtQuiesce = quiesced.table;
  await sleep(2000); // traffic after the change: none of it may reach real1
  const tEnd = Date.now();
  const conns = await connectionEntries();
  const window = requestsBetween(tKill - 2000, tEnd);
  // Before the change, requests scheduled to the dead real fail (connection refused);
  // after it, every new connection goes to real2.
  const toDead = window.filter((r) => r.t >= tKill && (r.e !== undefined || conns[r.p]?.real === `${R1}:80`));
  const lastToDead = toDead.reduce((m, r) => (!m || r.t > m.t ? r : m), undefined); // the array is in order of completion
  b.lastConnectionToDeadMs = lastToDead ? lastToDead.t - tKill : null;
  b.afterChange = summary(window.filter((r) => r.t > quiesced.t));
  b.afterChangeToDead = window
    .filter((r) => r.t > quiesced.t && (r.e !== undefined || r.b === 'real1' || conns[r.p]?.real === `${R1}:80`))
    .map((r) => ({ ...r, conn: conns[r.p] }));
  b.afterChangeEntries = window.filter((r) => r.t > quiesced.t).map((r) => conns[r.p]?.real ?? null);
  b.duringFailure = summary(window.filter((r) => r.t >= tKill && r.t <= quiesced.t));
  b.saveWhileDown = await ipvsadm('-S', '-n');

  // --- it comes back
  // Timed from the moment it serves again: the daemon cannot see it before.
  await serve('real1', 'real1', 80, 'real1');
  await waitServing(R1, 80, 'real1');
  const tBack = Date.now();
  const restored = must(await until((t) => weight(t, SVC, `${R1}:80`) === 1, tBack, 20_000), 'real1 restored');
  b.backToRestoredMs = restored.t - tBack;
  const served = must(await firstRequest((r) => r.b === 'real1', restored.t, 10_000), 'a request served by real1');
  b.restoredToServedMs = served.t - restored.t;
  b.saveRestored = await ipvsadm('-S', '-n');

  // --- both die: the fallback (127.0.0.1:80 on the director, gate) takes the traffic
  const tKillBoth = Date.now();
  await Promise.all([kill('real1'), kill('real2')]);
  const fb = must(
    await until((t) => weight(t, SVC, '127.0.0.1:80') === 1 && realsUp(t, { [`${R1}:80`]: 0, [`${R2}:80`]: 0 }), tKillBoth, 20_000),
    'the fallback',
  );
  b.killBothToFallbackMs = fb.t - tKillBoth;
  b.firstQuiesceAfterKillBothMs =
    must(await until((t) => weight(t, SVC, `${R1}:80`) === 0 || weight(t, SVC, `${R2}:80`) === 0, tKillBoth, 1), 'a quiesce').t - tKillBoth;
  const fbServed = must(await firstRequest((r) => r.b === 'fallback', fb.t, 10_000), 'a request served by the fallback');
  b.fallbackToServedMs = fbServed.t - fb.t;
  await sleep(1000);
  b.saveFallback = await ipvsadm('-S', '-n');
  b.afterFallback = summary(requestsBetween(fb.t + 100, Date.now()));

  // --- both come back: the fallback leaves
  await Promise.all([serve('real1', 'real1', 80, 'real1'), serve('real2', 'real2', 80, 'real2')]);
  await Promise.all([waitServing(R1, 80, 'real1'), waitServing(R2, 80, 'real2')]);
  const tBackBoth = Date.now();
  b.tBackBoth = rel(tBackBoth);
  b.tKillBoth = rel(tKillBoth);
  const rec = must(
    await until((t) => realsUp(t, { [`${R1}:80`]: 1, [`${R2}:80`]: 1 }) && weight(t, SVC, '127.0.0.1:80') === undefined, tBackBoth, 20_000),
    'both reals back, no fallback',
  );
  b.backBothToRecoveredMs = rec.t - tBackBoth;
  b.saveRecovered = await ipvsadm('-S', '-n');
  await traffic(0);
  b.clientTotal = requests.length;
  const self = process.cpuUsage(cpu0.self);
  b.cpuMs = {
    wall: Date.now() - cpu0.t,
    orchestrator: Math.round((self.user + self.system) / 1000),
    daemon: cpuOf(daemonPid) - cpu0.daemon,
    client: cpuOf(client.pid) - cpu0.client,
  };
});

// (e) cleanstop=yes (the default): the tutorial's virtual goes, the hand-made one stays.
await step('e1', async () => {
  const before = await ipvsadm('-S', '-n');
  const stop = await cli('aStop', ['ldirectord.cf', 'stop']);
  out.e1 = { before, after: await ipvsadm('-S', '-n'), pidFileAfter: existsSync('/var/run/ldirectord.ldirectord.cf.pid') };
  out.e1.stopMs = stop.ms;
});

// (c) reload through the command line: a real removed, a weight changed, a virtual added.
const reloadConfig = (v2) => `# ldirectord-ts e2e: reload, drift repair and cleanstop=no
checktimeout=2
checkinterval=3
autoreload=no
logfile="${W}/reload.log"
quiescent=no
cleanstop=no

virtual=${VIP}:80
	real=${R1}:80 masq 1
	real=${R2}:80 masq ${v2 ? 3 : 2}
${v2 ? '' : `	real=${R1}:8080 masq 1\n`}	service=http
	request="ping.html"
	receive="Hello World"
	scheduler=wrr
	protocol=tcp
	checktype=negotiate
${
  v2
    ? `
virtual=${VIP}:8080
	real=${R1}:8080 masq 2
	real=${R2}:80 masq 1
	service=http
	request="ping.html"
	receive="Hello World"
	scheduler=rr
	protocol=tcp
	checktype=negotiate
`
    : ''
}`;

await step('c', async () => {
  const c = (out.c = {});
  writeFileSync(RELOAD_CF, reloadConfig(false));
  c.config1 = reloadConfig(false);
  c.config2 = reloadConfig(true);
  const start = await cli('cStart', [RELOAD_CF, 'start']);
  const v1 = (t) => realsUp(t, { [`${R1}:80`]: 1, [`${R2}:80`]: 2, [`${R1}:8080`]: 1 });
  const full = must(await until(v1, start.at + T0, 15_000), 'the first table');
  c.startToTableMs = full.t - (start.at + T0);
  c.save1 = await ipvsadm('-S', '-n');
  c.pidFile = existsSync('/var/run/ldirectord.reload.cf.pid') ? readFileSync('/var/run/ldirectord.reload.cf.pid', 'utf8') : null;
  await sleep(500);

  // The /proc sampler (every 50 ms) runs throughout. ipvsadm -S -n: once before the reload
  // command, then every 50 ms (plus the ~60 ms an ipvsadm takes here) from the moment that
  // command has sent its HUP (it exits right after; the daemon's reload reads the table
  // before it changes anything) until after the table is right. Not while the command
  // starts: node needs the guest's one CPU for ~5 s to load it.
  const saves = [];
  const save = async () => {
    const r = await run('ipvsadm', ['-S', '-n']);
    saves.push({ t: r.t0 + r.ms, text: r.stdout, exitCode: r.exitCode });
  };
  await traffic(200);
  await save();
  writeFileSync(RELOAD_CF, reloadConfig(true));
  const tReload = Date.now();
  const reads0 = procReads;
  const reload = await cli('cReload', [RELOAD_CF, 'reload']);
  const savesBeforeHup = saves.length;
  let sampling = true;
  const saver = (async () => {
    while (sampling) {
      await save();
      await sleep(50);
    }
  })();
  const v2 = (t) =>
    realsUp(t, { [`${R1}:80`]: 1, [`${R2}:80`]: 3, [`${R1}:8080`]: undefined }) &&
    weight(t, SVC2, `${R1}:8080`) === 2 &&
    weight(t, SVC2, `${R2}:80`) === 1;
  const done = must(await until(v2, tReload, 15_000), 'the reloaded table');
  c.reloadCommandMs = reload.ms;
  c.procReadsToTable = procReads - reads0;
  c.reloadToTableMs = done.t - tReload;
  await sleep(700);
  sampling = false;
  await saver;
  // From before the reload began to the reloaded table: how densely the kernel table was
  // watched, whatever the number of reads a fast or slow reload left room for.
  c.procCoverage = coverage(procReadTimes, tReload, done.t);
  const tEnd = Date.now();
  c.save2 = await ipvsadm('-S', '-n');
  // Every sample from the one before the reload command to the end.
  const from = Math.min(tReload - 300, saves[0].t);
  const proc = statesBetween(from, tEnd);
  const live = (t) => (weight(t, SVC, `${R1}:80`) ?? 0) > 0 && (weight(t, SVC, `${R2}:80`) ?? 0) > 0;
  c.procStates = proc.length;
  c.procStatesWithoutLiveReals = proc.filter((h) => !live(h.table)).map((h) => ({ at: h.t - tReload, table: h.table }));
  c.procSequence = proc.map((h) => ({ at: h.t - tReload, svc: h.table[SVC]?.d ?? null, svc2: h.table[SVC2]?.d ?? null }));
  const inWindow = saves.filter((s) => s.t >= from);
  c.saves = inWindow.length;
  c.savesAfterReloadCommand = saves.length - savesBeforeHup;
  const after = saves.slice(savesBeforeHup);
  c.savesAfterIntervalMs = after.length > 1 ? Math.round((after.at(-1).t - after[0].t) / (after.length - 1)) : null;
  // From the first ipvsadm -S -n after the command to 500 ms after the reloaded table.
  c.savesCoverage = after.length
    ? coverage(
        after.map((s) => s.t),
        after[0].t,
        done.t + 500,
      )
    : null;
  c.reloadCommandEndToTableMs = done.t - (reload.at + T0 + reload.ms);
  c.savesSpanMs = inWindow.length ? inWindow.at(-1).t - inWindow[0].t : 0;
  const liveLine = (text, r, w) => text.split('\n').some((l) => new RegExp(`^-a -t ${VIP}:80 -r ${r} -m -w ${w}$`).test(l));
  c.savesWithoutLiveReals = inWindow
    .filter(
      (s) => s.exitCode !== 0 || !(liveLine(s.text, `${R1}:80`, 1) && (liveLine(s.text, `${R2}:80`, 2) || liveLine(s.text, `${R2}:80`, 3))),
    )
    .map((s) => ({ at: s.t - tReload, text: s.text }));
  c.distinctSaves = [...new Set(inWindow.map((s) => s.text))];
  c.requestsDuringReload = summary(requestsBetween(tReload - 300, tEnd));
});

// (d) someone clears the table behind the daemon's back.
await step('d', async () => {
  const d = (out.d = {});
  const full = (t) =>
    realsUp(t, { [`${R1}:80`]: 1, [`${R2}:80`]: 3 }) && weight(t, SVC2, `${R1}:8080`) === 2 && weight(t, SVC2, `${R2}:80`) === 1;
  const tCmd = Date.now();
  await ipvsadm('-C');
  const empty = must(await until((t) => Object.keys(t).length === 0, tCmd, 5000), 'the empty table');
  const repaired = must(await until(full, empty.t, 15_000), 'the repaired table');
  d.commandToEmptyMs = empty.t - tCmd;
  d.emptyToRepairedMs = repaired.t - empty.t;
  d.commandToRepairedMs = repaired.t - tCmd;
  d.save = await ipvsadm('-S', '-n');
  await sleep(500);
  await traffic(0);
  d.requests = summary(requestsBetween(tCmd, repaired.t + 500));
  await run('ipvsadm', ['-R'], { input: `${UNMANAGED.join('\n')}\n` });
});

// (d2) drift seen through /proc/net/ip_vs: while the table stays as wanted the daemon's drift
// checks run (nearly) no ipvsadm; an admin's weight change and deletion of a managed real
// are put back within about one interval; a change to a service it does not manage is left
// alone. Every ipvsadm the daemon starts is logged by a wrapper bound over the program.
await step('d2', async () => {
  const d2 = (out.d2 = {});
  const calls = `${W}/ipvsadm-calls.log`;
  const real = `${W}/ipvsadm.real`;
  writeFileSync(real, readFileSync('/usr/sbin/ipvsadm'), { mode: 0o755 });
  writeFileSync(`${W}/ipvsadm-logged`, `#!/bin/sh\necho "$(date +%s%3N) $PPID $*" >> ${calls}\nexec ${real} "$@"\n`, { mode: 0o755 });
  const procLog = [];
  const procWatch = process.env.E2E_VERBOSE
    ? setInterval(() => procLog.push([Date.now(), readFileSync('/proc/net/ip_vs', 'latin1')]), 200)
    : undefined;
  writeFileSync(calls, '');
  const bind = await run('mount', ['--bind', `${W}/ipvsadm-logged`, '/usr/sbin/ipvsadm']);
  d2.bind = bind.exitCode;
  const pid = readFileSync('/var/run/ldirectord.reload.cf.pid', 'utf8').trim();
  /** The daemon's ipvsadm runs in [from, to]: their arguments. */
  const daemonCalls = (from, to) =>
    readFileSync(calls, 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([t, ppid]) => ppid === pid && Number(t) >= from && Number(t) <= to)
      .map(([, , ...args]) => args.join(' '));
  try {
    // two intervals (3 s) for a drift check to find the table right after (d), then three quiet ones
    await sleep(7000);
    const q0 = Date.now();
    await sleep(9000);
    d2.quietCalls = daemonCalls(q0, Date.now());
    const want = (w1, w2) => (t) => weight(t, SVC, `${R1}:80`) === w1 && weight(t, SVC, `${R2}:80`) === w2;
    const tEdit = Date.now();
    await ipvsadm('-e', '-t', `${VIP}:80`, '-r', `${R1}:80`, '-m', '-w', '7');
    const changed = must(await until(want(7, 3), tEdit, 5000), 'the edited weight');
    const edited = must(await until(want(1, 3), changed.t, 15_000), 'the weight put back');
    d2.editToRepairedMs = edited.t - tEdit;
    d2.editCalls = daemonCalls(tEdit, edited.t);
    await sleep(1000);
    const tDel = Date.now();
    await ipvsadm('-d', '-t', `${VIP}:80`, '-r', `${R2}:80`);
    const deleted = must(await until((t) => weight(t, SVC, `${R2}:80`) === undefined, tDel, 5000), 'the deleted real');
    const readded = must(await until(want(1, 3), deleted.t, 15_000), 'the real put back');
    d2.deleteToRepairedMs = readded.t - tDel;
    // the drift check after a repair reads in full once more (and finds the table right)
    await sleep(6500);
    const tOther = Date.now();
    await ipvsadm('-e', '-t', '10.200.100.2:80', '-r', '10.200.2.2:80', '-m', '-w', '9');
    await sleep(7000);
    d2.unmanagedAfter = weight(parseProc(readFileSync('/proc/net/ip_vs', 'utf8')), 'tcp 10.200.100.2:80', '10.200.2.2:80');
    d2.unmanagedCalls = daemonCalls(tOther, Date.now());
    d2.save = await ipvsadm('-S', '-n');
    await ipvsadm('-e', '-t', '10.200.100.2:80', '-r', '10.200.2.2:80', '-m', '-w', '5');
    if (process.env.E2E_VERBOSE) {
      d2.callLog = readFileSync(calls, 'utf8');
      const bare = (text) => text.replace(/ +\d+ +\d+ *$/gm, '');
      d2.procLog = procLog.filter((p, i) => i === 0 || bare(p[1]) !== bare(procLog[i - 1][1])).map(([t, text]) => [t - T0, bare(text)]);
      d2.t0 = T0;
    }
  } finally {
    clearInterval(procWatch);
    await run('umount', ['/usr/sbin/ipvsadm']);
  }
});

// (e) cleanstop=no: the table stays exactly as it is.
await step('e2', async () => {
  const before = await ipvsadm('-S', '-n');
  const stop = await cli('cStop', [RELOAD_CF, 'stop']);
  await sleep(300);
  out.e2 = { before, after: await ipvsadm('-S', '-n'), pidFileAfter: existsSync('/var/run/ldirectord.reload.cf.pid'), stopMs: stop.ms };
  await cli('cStatusStopped', [RELOAD_CF, 'status']);
});

// (f) syncdaemon=both on the guest's veth c0: the kernel's sync daemons started with the
// daemon, a master stopped behind its back started again, a reload's new syncid applied to
// both roles, and at the stop the master gone while the backup keeps running.
await step('f', async () => {
  const f = (out.f = {});
  const cf = `${W}/sync.cf`;
  const config = (syncid) =>
    `checkinterval=1\nlogfile="${W}/sync.log"\nsyncdaemon=both\nsyncinterface=c0\nsyncid=${syncid}\n` +
    `virtual=10.200.100.3:80\n\treal=${R1}:80 masq 1\n\tchecktype=on\n`;
  /** `ipvsadm -L --daemon` until `pred` holds: {text, ms} (ms from `since`), or null. */
  const daemonsUntil = async (pred, since, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await ipvsadm('-L', '--daemon');
      if (pred(text)) return { text, ms: Date.now() - since };
      if (Date.now() > deadline) return null;
      await sleep(100);
    }
  };
  writeFileSync(cf, config(5));
  f.before = await ipvsadm('-L', '--daemon');
  await cli('fStart', [cf, 'start']);
  f.afterStart = await ipvsadm('-L', '--daemon');
  const tKill = Date.now();
  await ipvsadm('--stop-daemon', 'master');
  f.afterKill = await ipvsadm('-L', '--daemon');
  const back = must(await daemonsUntil((t) => t.startsWith('master '), tKill, 15_000), 'the master started again');
  f.restarted = back.text;
  f.killToRestartedMs = back.ms;
  writeFileSync(cf, config(6));
  const tReload = Date.now();
  await cli('fReload', [cf, 'reload']);
  const both6 = (t) => /^master .*syncid=6,/m.test(t) && /^backup .*syncid=6,/m.test(t);
  const reloaded = must(await daemonsUntil(both6, tReload, 15_000), 'the new syncid');
  f.reloaded = reloaded.text;
  f.reloadToAppliedMs = reloaded.ms;
  await cli('fStatusJson', [cf, 'status', '--json']);
  await cli('fStop', [cf, 'stop']);
  f.afterStop = await ipvsadm('-L', '--daemon');
  f.log = existsSync(`${W}/sync.log`)
    ? readFileSync(`${W}/sync.log`, 'utf8')
        .split('\n')
        .filter((l) => l.includes('sync daemon'))
        .map((l) => l.replace(/^\[[^\]]*\] /, ''))
    : null;
  // (the backup was left running on purpose; the guest is thrown away anyway)
  await run('ipvsadm', ['--stop-daemon', 'backup']);
});

// The logs, once both daemons are gone (a daemon removes its pid file, which ends `stop`,
// just before it flushes its last lines).
await sleep(300);
out.syslog = existsSync(`${W}/syslog.log`)
  ? readFileSync(`${W}/syslog.log`, 'utf8')
      .split('\n')
      .filter((l) => l.includes('ldirectord'))
  : null;
out.reloadLog = existsSync(`${W}/reload.log`) ? readFileSync(`${W}/reload.log`, 'utf8').split('\n').filter(Boolean) : null;

// Processes that died: node's reports, and the kernel's OOM killer.
out.nodeReports = (existsSync(NODE_REPORTS) ? readdirSync(NODE_REPORTS) : []).map((f) => {
  try {
    const r = JSON.parse(readFileSync(path.join(NODE_REPORTS, f), 'utf8'));
    return { file: f, event: r.header?.event, trigger: r.header?.trigger, argv: r.header?.commandLine, stack: r.javascriptStack };
  } catch (err) {
    return { file: f, error: String(err) };
  }
});
out.oom = (await run('dmesg', [])).stdout.split('\n').filter((l) => /out of memory|oom|killed process/i.test(l));
out.procReads = procReads;
out.cpuMs = Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000);
out.historyLength = history.length;
out.totalMs = Date.now() - T0;
client?.stdin.end();
for (const name of [...servers.keys()]) await kill(name);
process.stdout.write(JSON.stringify(out), () => process.exit(0));
