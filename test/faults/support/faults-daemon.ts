// The real daemon under fault: the CLI sandbox (test/cli/ns.ts), real HTTP servers as
// real servers whose health a test switches, the fake ipvsadm's table and call log, and
// the daemon's pid and CPU time. Everything a test starts is stopped by cleanup().
import http from 'node:http';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, sandbox, type Sandbox } from '../../cli/ns.js';
import { runFakeIpvsadm } from '../../support/fake-ipvsadm.mjs';

export { BIN };

export const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until ok(value) or ms pass; returns the last value either way. */
export async function eventually<T>(what: () => T | Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let v = await what();
  while (!ok(v) && Date.now() < until) {
    await sleep(100);
    v = await what();
  }
  return v;
}

/** HTTP real servers answering "OK" while healthy, 503 otherwise. */
export class Reals {
  private readonly servers: http.Server[] = [];
  readonly healthy = new Map<string, boolean>();

  static async listen(ips: readonly string[], port: number): Promise<Reals> {
    const r = new Reals();
    for (const ip of ips) {
      r.healthy.set(ip, true);
      const s = http.createServer((_q, res) => {
        if (r.healthy.get(ip)) res.end('OK\n');
        else res.writeHead(503).end('sick\n');
      });
      await new Promise<void>((ok, fail) => s.once('error', fail).listen(port, ip, ok));
      r.servers.push(s);
    }
    return r;
  }

  async close(): Promise<void> {
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }
}

export interface IpvsCall {
  readonly args: readonly string[];
  readonly stdin: string;
}

/** A sandbox with its fake ipvsadm's call log, and helpers on the daemon it runs. */
export class Faulty {
  readonly sb: Sandbox;
  readonly callLog: string;

  constructor() {
    this.sb = sandbox();
    this.callLog = join(this.sb.dir, 'ipvsadm-calls.jsonl');
  }

  /** `node bin/ldirectord ...args` in the sandbox, the fake logging every ipvsadm run. */
  cli(args: readonly string[], opts: { timeout?: number; env?: Record<string, string> } = {}) {
    return this.sb.run(['node', BIN, ...args], { ...opts, env: { FAKE_IPVSADM_LOG: this.callLog, ...opts.env } });
  }

  pidFile(cfgName: string): string {
    return join(this.sb.piddir, `ldirectord.${cfgName}.pid`);
  }

  /** The pid in the pid file, or undefined. */
  pid(cfgName: string): number | undefined {
    try {
      const n = Number(readFileSync(this.pidFile(cfgName), 'utf8').trim());
      return n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /** Real -> weight, from the fake's table. */
  weights(): Record<string, number> {
    return parseWeights(this.save());
  }

  /**
   * ipvsadm -S -n of the fake's table, run in this process: an ipvsadm process started
   * synchronously would stall this process, and with it the real servers' answers, for as
   * long as a loaded machine takes to start node, long enough to fail the daemon's checks.
   */
  save(): string {
    if (!existsSync(this.sb.state)) return '';
    const r = runFakeIpvsadm({ args: ['-S', '-n'], env: { FAKE_IPVSADM_STATE: this.sb.state }, stdin: '' });
    if (r.exitCode !== 0) throw new Error(`fake ipvsadm -S -n: ${r.stderr}`);
    return r.stdout;
  }

  /** Every ipvsadm run so far, in order. */
  calls(): IpvsCall[] {
    if (!existsSync(this.callLog)) return [];
    return readFileSync(this.callLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as IpvsCall);
  }

  /** The table-changing commands among the runs (-R batches split into their lines). */
  changes(from = 0): string[] {
    const out: string[] = [];
    for (const c of this.calls().slice(from)) {
      const op = c.args[0] ?? '';
      if (op === '-R') out.push(...c.stdin.split('\n').filter((l) => /^-[AEDaedCZ]\b/.test(l)));
      else if (/^-[AEDaedCZ]$/.test(op)) out.push(c.args.join(' '));
    }
    return out;
  }

  /** Kills, hard, every process named by a pid file here, then removes the sandbox. */
  cleanup(): void {
    for (const f of existsSync(this.sb.piddir) ? readdirSync(this.sb.piddir) : []) {
      if (!f.endsWith('.pid')) continue;
      const pid = Number(readFileSync(join(this.sb.piddir, f), 'utf8'));
      try {
        if (pid > 0 && isLdirectord(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.sb.dir, { recursive: true, force: true });
  }
}

export function parseWeights(save: string): Record<string, number> {
  const reals: Record<string, number> = {};
  for (const line of save.split('\n')) {
    const m = /^-a .* -r (\S+) .* -w (\d+)/.exec(line);
    if (m) reals[m[1]!] = Number(m[2]);
  }
  return reals;
}

export function isLdirectord(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ldirectord');
  } catch {
    return false;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return isLdirectord(pid);
  } catch {
    return false;
  }
}

/** Pids of processes whose command line contains `needle` (ours only: the sandbox dir names them). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after "(comm) "
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The fault tests' usual config: one virtual with two http reals (weights `weight1` and 1),
 * checked every second, removed when down (quiescent=no), logging to `log`.
 */
export function twoRealConfig(o: { vip: string; r1: string; r2: string; log: string; checktimeout: number; weight1?: number }): string {
  return `checktimeout=${o.checktimeout}
checkinterval=1
quiescent=no
logfile="${o.log}"
virtual=${o.vip}
    real=${o.r1} masq ${o.weight1 ?? 2}
    real=${o.r2} masq 1
    service=http
    request="/"
    receive="OK"
`;
}
