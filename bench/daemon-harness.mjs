// Shared by bench/scale.mjs, bench/rss.mjs, bench/compare-original.mjs and the CI ratio
// checks: generated configs on 127.x.y.z addresses, the real servers' process
// (bench/scale-servers.mjs), a daemon (ours or the original) run in -d mode in a directory
// with the timed fake ipvsadm as ./ipvsadm, its CPU and memory read from /proc, and the
// start-up, steady window, stop and command-line pieces the benches have in common.
import { fork, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// BENCH_BIN: another build to measure (e.g. the main checkout's, for a before/after run).
export const BIN = process.env.BENCH_BIN ?? fileURLToPath(new URL('../bin/ldirectord', import.meta.url));
export const ORIGINAL = '/usr/sbin/ldirectord';
const FAKE = fileURLToPath(new URL('./fake-ipvsadm-timed', import.meta.url));
const LOOP_STATS = fileURLToPath(new URL('./loop-stats.cjs', import.meta.url));
const CLK_TCK = 100; // USER_HZ on Linux
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Real i at 127.<second>.<third + i/250>.<1 + i%250>, port 8080. */
export function realAddresses(count, { second, third = 0 }) {
  return Array.from({ length: count }, (_, i) => ({ ip: `127.${second}.${third + Math.floor(i / 250)}.${1 + (i % 250)}`, port: 8080 }));
}

/**
 * `perVirtual` reals per virtual; check 'connect' or 'http' (negotiate, GET /health, receive OK).
 * Virtuals are 10.<n>.1:80 from n = firstVirtual; `globals: false` leaves out the global lines
 * (for a second set of virtuals appended to a config).
 */
export function generateConfig(
  reals,
  { perVirtual = 10, check = 'connect', interval = 5, timeout = 3, firstVirtual = 0, globals = true } = {},
) {
  const out = globals ? [`checktimeout=${timeout}`, `negotiatetimeout=${timeout}`, `checkinterval=${interval}`, 'quiescent=yes', ''] : [];
  for (let v = 0; v * perVirtual < reals.length; v++) {
    const n = firstVirtual + v;
    out.push(`virtual=10.${(n >> 8) & 255}.${n & 255}.1:80`);
    for (const r of reals.slice(v * perVirtual, (v + 1) * perVirtual)) out.push(`    real=${r.ip}:${r.port} masq 1`);
    if (check === 'connect') out.push('    checktype=connect');
    else out.push('    checktype=negotiate', '    service=http', '    request="/health"', '    receive="OK"');
    out.push('    scheduler=wlc', '');
  }
  return out.join('\n');
}

export async function startServers(reals, kind, hung = []) {
  const child = fork(fileURLToPath(new URL('./scale-servers.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // The servers get the daemon's priority (BENCH_NICE): their accept times are what
  // "checked on time" is measured by.
  if (process.env.BENCH_NICE) setPriority(child.pid, Number(process.env.BENCH_NICE));
  const pending = [];
  child.on('message', (m) => pending.shift()?.(m));
  const ask = (m) =>
    new Promise((resolve) => {
      pending.push(resolve);
      child.send(m);
    });
  await ask({ cmd: 'start', reals, kind, hung });
  return {
    pid: child.pid,
    kill: (i, how = 'refuse') => ask({ cmd: 'kill', i, how }),
    /** Listens again on a real killed with 'refuse'. */
    revive: (i) => ask({ cmd: 'revive', i }),
    checks: (o) => ask({ cmd: 'checks', ...o }).then((m) => m.checks),
    times: (indices) => ask({ cmd: 'times', indices }).then((m) => m.times),
    /** Resolves once the process is gone (its addresses are free for the next run). */
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
        child.kill();
      }),
  };
}

/** utime+stime and the waited-for children's, in seconds; RSS now and peak, in MB. */
export function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return {
    user: Number(f[11]) / CLK_TCK,
    system: Number(f[12]) / CLK_TCK,
    cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK,
    childCpu: (Number(f[13]) + Number(f[14])) / CLK_TCK,
    rssMB: kb('VmRSS') / 1024,
    peakRssMB: kb('VmHWM') / 1024,
  };
}

/** The variables a `#!/usr/bin/env -S NAME=value ... node` line sets for node. */
export function launcherEnv(shebang) {
  const words = /^#!\S*env -S (.*)$/.exec(shebang)?.[1].split(' ') ?? [];
  const set = {};
  for (const w of words) {
    const m = /^([A-Za-z_]\w*)=(.*)$/.exec(w);
    if (!m) break;
    set[m[1]] = m[2];
  }
  return set;
}

/**
 * Starts `which` ('ours' or 'original') with `-d <cfg> start` in a fresh directory whose
 * ./ipvsadm is the timed fake. Ours runs with bench/loop-stats.cjs preloaded, sampling every
 * `loopResolutionMs` (default: $BENCH_LOOP_RESOLUTION_MS, else its own 10 ms).
 */
export function startDaemon(configText, which = 'ours', { beforeStart, loopResolutionMs } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `ldirectord-${which}-`));
  const cfg = join(dir, 'bench.cf');
  writeFileSync(cfg, configText);
  symlinkSync(FAKE, join(dir, 'ipvsadm'));
  const env = {
    ...process.env,
    FAKE_IPVSADM_STATE: join(dir, 'state.json'),
    BENCH_IPVSADM_LOG: join(dir, 'ipvsadm.jsonl'),
    BENCH_LOOP_STATS: join(dir, 'loop.json'),
    ...(loopResolutionMs === undefined ? {} : { BENCH_LOOP_RESOLUTION_MS: String(loopResolutionMs) }),
    // The fake's table as /proc/net/ip_vs shows it, which our drift check reads (test-only
    // variable; this kernel has no IPVS).
    FAKE_IPVSADM_PROC: join(dir, 'ip_vs'),
    LDIRECTORD_TEST_IPVS_PROC: join(dir, 'ip_vs'),
  };
  beforeStart?.(env.FAKE_IPVSADM_STATE);
  // BENCH_DAEMON_NODE_ARGS: extra node options for our daemon (e.g. --cpu-prof when profiling).
  // The launcher's own node options (its #! line, e.g. --max-semi-space-size) are passed
  // too, and the variables it sets before node (MALLOC_MMAP_THRESHOLD_), so that the bench
  // measures the daemon as installed.
  const shebang = readFileSync(BIN, 'utf8').split('\n')[0];
  const launcherOpts = (/[/ ]node( .*)?$/.exec(shebang)?.[1] ?? '').split(' ').filter(Boolean);
  if (which === 'ours') Object.assign(env, launcherEnv(shebang));
  const extra = [...launcherOpts, ...(process.env.BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const cmd =
    which === 'ours' ? [process.execPath, ...extra, '--require', LOOP_STATS, BIN, '-d', cfg, 'start'] : [ORIGINAL, '-d', cfg, 'start'];
  const errFd = openSync(join(dir, 'daemon.log'), 'w');
  // The machine's hard limit of open files (20,000 here) is enough: 10,000 listeners
  // live in the servers' process, the daemon holds only the checks in flight.
  // BENCH_NICE=-10: run the daemon at that priority, as a director's one service would
  // be; on this shared machine other tenants' test runs otherwise starve it (load 10+ on
  // 2 cores). Its CPU-seconds do not depend on it; timeliness does (RESULTS.md says which).
  const nice = process.env.BENCH_NICE ? ['nice', '-n', process.env.BENCH_NICE] : [];
  const argv = [...nice, ...cmd];
  const child = spawn(argv[0], argv.slice(1), { cwd: dir, env, stdio: ['ignore', errFd, errFd] });
  closeSync(errFd);
  let exited = false;
  child.on('exit', () => (exited = true));
  return {
    dir,
    pid: child.pid,
    get exited() {
      return exited;
    },
    /** Destinations in the fake table with weight > 0. */
    upCount() {
      try {
        const t = JSON.parse(readFileSync(env.FAKE_IPVSADM_STATE, 'utf8'));
        return t.services.reduce((n, s) => n + s.dests.filter((d) => d.weight > 0).length, 0);
      } catch {
        return 0;
      }
    },
    /** Destinations in the fake table with weight 0. */
    zeroCount() {
      try {
        const t = JSON.parse(readFileSync(env.FAKE_IPVSADM_STATE, 'utf8'));
        return t.services.reduce((n, s) => n + s.dests.filter((d) => d.weight === 0).length, 0);
      } catch {
        return 0;
      }
    },
    /** Every ipvsadm run so far: {t, end, args, stdin}. */
    ipvsadmCalls() {
      if (!existsSync(env.BENCH_IPVSADM_LOG)) return [];
      return readFileSync(env.BENCH_IPVSADM_LOG, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    /** Event-loop delay and memory since the previous call (ours only). */
    async loopStats() {
      try {
        rmSync(env.BENCH_LOOP_STATS);
      } catch {
        /* none yet */
      }
      process.kill(child.pid, 'SIGUSR2');
      for (let i = 0; i < 50 && !existsSync(env.BENCH_LOOP_STATS); i++) await sleep(100);
      try {
        return JSON.parse(readFileSync(env.BENCH_LOOP_STATS, 'utf8'));
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        for (let i = 0; i < 200 && !exited; i++) await sleep(100);
        if (!exited) child.kill('SIGKILL');
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(what, predicate, timeoutMs, everyMs = 250) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await predicate()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Until the daemon has `count` reals up in the table; a daemon that exits fails it at once. */
export function waitAllUp(daemon, count, timeoutMs, everyMs) {
  return waitFor(
    'all reals up in the table',
    () => {
      if (daemon.exited) throw new Error(`daemon exited; see ${daemon.dir}/daemon.log`);
      return daemon.upCount() >= count;
    },
    timeoutMs,
    everyMs,
  );
}

/**
 * A steady window of `steadyS` seconds: the daemon's /proc figures at both ends, its loop
 * statistics over the window (bench/loop-stats.cjs) and what the servers saw of its checks.
 */
export async function steadyWindow(daemon, servers, { steadyS, interval, slackMs = 500 }) {
  await daemon.loopStats();
  const s0 = procStat(daemon.pid);
  const from = Date.now();
  await sleep(steadyS * 1000);
  const to = Date.now();
  const s1 = procStat(daemon.pid);
  const loop = await daemon.loopStats();
  const seen = await servers.checks({ from, to, intervalMs: interval * 1000, slackMs });
  return { s0, s1, wall: (to - from) / 1000, loop, seen };
}

/** Stops the daemon, then the servers; the daemon's directory is kept with BENCH_KEEP set. */
export async function stopAll(daemon, servers) {
  await daemon.stop();
  await servers.close();
  if (!process.env.BENCH_KEEP) daemon.cleanup();
}

/** The value after `--<name>` on the command line, or `dflt`. */
export function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

/** `runs` runs of `run(log)`, each announced on stderr with `what` and the load; their results. */
export async function runsAnnounced(runs, what, run) {
  const results = [];
  for (let r = 0; r < runs; r++) {
    console.error(
      `run ${r + 1}/${runs}: ${what}, load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    results.push(await run((m) => console.error(m)));
  }
  return results;
}

/**
 * When the daemon first asked ipvsadm to take `real` out (weight 0 or delete) at or after
 * `since`: the start time of that ipvsadm process, or undefined.
 */
export function changeTime(calls, real, since) {
  const needle = `-r ${real.ip}:${real.port}`;
  for (const c of calls) {
    if (c.t < since) continue;
    const lines = [c.args.join(' '), ...(c.stdin ?? '').split('\n')];
    for (const l of lines) {
      if (!l.includes(`${needle} `) && !l.endsWith(needle)) continue;
      if (/^-d\b/.test(l) || /(^|\s)-w 0(\s|$)/.test(l)) return c.t;
    }
  }
  return undefined;
}

export function summary(xs) {
  const s = xs.filter((x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: at(0.5), p99: at(0.99), min: s[0], max: s[s.length - 1] };
}
