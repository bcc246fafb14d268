// ipvsadm that hangs, is slow, fails, or leaves a process holding its output: the daemon
// must not wait for it beyond its deadline (its whole process group is killed, pipes
// included), must go on checking the reals, and must log and mail only what the kernel
// table read back shows. The stand-in is test/faults/support/ipvsadm-faults.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyFileSync, writeFileSync } from 'node:fs';
import { execa, execaSync } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIpvsadmRunner, type IpvsadmOutput } from '../../lib/ipvs/ipvsadm-runner.js';
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import { BIN, FAKE_IPVSADM, sandbox, type Sandbox } from '../cli/ns.js';
import { FAULTY_IPVSADM, alive, faultControl, killAll, type FaultControl } from './support/ipvsadm-faults.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The run's outcome, or 'still waiting' after `ms`: a wait that never ends fails the test instead of hanging it. */
async function bounded<T>(p: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<'still waiting'>((r) => {
        timer = setTimeout(r, ms, 'still waiting');
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function eventually<T>(what: () => T, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  let v = what();
  while (!ok(v) && Date.now() < until) {
    await sleep(100);
    v = what();
  }
  return v;
}

describe('the ipvsadm runner bounds ipvsadm as a process group', () => {
  let dir: string;
  let fc: FaultControl;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ipvsadm-faults-'));
    fc = faultControl(dir, join(dir, 'ipvs.json'));
  });
  afterEach(() => {
    killAll(fc.pids());
    rmSync(dir, { recursive: true, force: true });
  });

  const attempt = (timeoutMs: number, args: string[]): Promise<IpvsadmOutput | IpvsadmError | 'still waiting'> =>
    bounded(
      createIpvsadmRunner(FAULTY_IPVSADM, { timeoutMs, env: fc.env })
        .run(args)
        .catch((e: IpvsadmError) => e),
      15_000,
    );

  it('a wrapper that hangs while its child holds stdout: the timeout ends the wait, the whole group is killed, later runs work', async () => {
    fc.set('leave-child all hang');
    const t0 = Date.now();
    const r = await attempt(1000, ['-L', '-n']);
    const took = Date.now() - t0;
    expect(r).toBeInstanceOf(IpvsadmError);
    expect((r as IpvsadmError).kind).toBe('timeout');
    // 1 s deadline, then SIGTERM (which both obey): far below the sleeper's hour
    expect(took).toBeLessThan(8000);
    const pids = fc.pids();
    expect(pids).toHaveLength(2); // the sleeper and the wrapper
    for (const p of pids) expect(alive(p), `pid ${p} left running`).toBe(false);

    fc.set('ok');
    const runner = createIpvsadmRunner(FAULTY_IPVSADM, { timeoutMs: 10_000, env: fc.env });
    expect((await runner.run(['-A', '-t', '127.0.134.1:80', '-s', 'wrr'])).exitCode).toBe(0);
    expect((await runner.run(['-L', '-n'])).stdout).toContain('127.0.134.1:80 wrr');
  }, 30_000);

  it('a wrapper that exits while its child holds stdout: no waiting for the child, which is killed', async () => {
    fc.set('leave-child all exit');
    const t0 = Date.now();
    const r = await attempt(30_000, ['-L', '-n']);
    expect(r).toBeInstanceOf(IpvsadmError);
    expect((r as IpvsadmError).message).toMatch(/kept its output open/);
    // the pipes' grace after the exit, not the 30 s deadline
    expect(Date.now() - t0).toBeLessThan(15_000);
    const pids = fc.pids();
    expect(pids).toHaveLength(2);
    for (const p of pids) expect(alive(p), `pid ${p} left running`).toBe(false);
  }, 30_000);

  it("a hang, a slow run and a failure: timeout and kill, success, ipvsadm's status and message", async () => {
    fc.set('hang all');
    const hung = await attempt(1000, ['-L', '-n']);
    expect((hung as IpvsadmError).kind).toBe('timeout');
    for (const p of fc.pids()) expect(alive(p)).toBe(false);

    fc.set('slow all 1');
    const slow = await attempt(10_000, ['-L', '-n']);
    expect((slow as IpvsadmOutput).exitCode).toBe(0);

    fc.set('fail list');
    const failed = await attempt(10_000, ['-L', '-n']);
    expect(failed).toMatchObject({ exitCode: 2, stderr: 'Memory allocation problem\n' });
  }, 30_000);
});

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;

describe.skipIf(!canUnshare)('the daemon with a faulty ipvsadm (bin/ldirectord -d, real HTTP reals)', () => {
  const VIP = '127.0.134.1';
  const R1 = '127.0.134.2';
  const R2 = '127.0.134.3';
  const PORT = 18134;
  const rip = (ip: string): string => `${ip}:${PORT}`;
  const healthy = new Map([
    [R1, true],
    [R2, true],
  ]);
  /** When each real was checked. */
  const hits = new Map<string, number[]>([
    [R1, []],
    [R2, []],
  ]);
  const servers: http.Server[] = [];
  let sb: Sandbox;
  let fc: FaultControl;
  let daemon: ReturnType<Sandbox['run']> | undefined;
  let out = '';

  const table = (): { reals: Record<string, number>; services: number } => {
    const r = execaSync(FAKE_IPVSADM, ['-S', '-n'], { env: { FAKE_IPVSADM_STATE: sb.state }, reject: false });
    const reals: Record<string, number> = {};
    let services = 0;
    for (const line of String(r.stdout).split('\n')) {
      if (/^-A /.test(line)) services++;
      const m = /^-a .* -r (\S+) .* -w (\d+)/.exec(line);
      if (m) reals[m[1]!] = Number(m[2]);
    }
    return { reals, services };
  };
  const checksBetween = (ip: string, from: number, to: number): number => hits.get(ip)!.filter((t) => t >= from && t <= to).length;
  /** Log lines from `mark` on (-d logs to stderr, each message also as a "DEBUG2: " line). */
  const logSince = (mark: number): string[] => out.slice(mark).split('\n');

  beforeAll(async () => {
    for (const ip of [R1, R2]) {
      const s = http.createServer((_q, res) => {
        hits.get(ip)!.push(Date.now());
        res.end(healthy.get(ip) ? 'OK\n' : 'DOWN\n');
      });
      await new Promise<void>((r, j) => s.once('error', j).listen(PORT, ip, r));
      servers.push(s);
    }
    sb = sandbox();
    fc = faultControl(sb.dir, sb.state);
    // -d runs ./ipvsadm when there is one (as the original), and the sandbox's cwd has it
    copyFileSync(fc.launcher, join(sb.dir, 'ipvsadm'));
    const cfg = join(sb.dir, 'faults.cf');
    writeFileSync(
      cfg,
      `checktimeout=2
checkinterval=1
quiescent=no
virtual=${VIP}:80
    real=${rip(R1)} masq 1
    real=${rip(R2)} masq 1
    service=http
    request="/"
    receive="OK"
`,
    );
    const started = sb.run(['node', BIN, '-d', cfg, 'start'], {
      timeout: 240_000,
      env: { ...fc.env, SANDBOX_IPVSADM: fc.launcher, LDIRECTORD_IPVSADM_TIMEOUT: '2' },
    });
    daemon = started;
    started.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    started.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
  });
  afterAll(async () => {
    if (daemon && daemon.exitCode === undefined) daemon.kill('SIGKILL');
    await daemon;
    killAll(fc.pids());
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    rmSync(sb.dir, { recursive: true, force: true });
  });

  it('starts and converges the table', async () => {
    const t = await eventually(table, (x) => Object.keys(x.reals).length === 2);
    expect(t, out).toEqual({ services: 1, reals: { [rip(R1)]: 1, [rip(R2)]: 1 } });
  }, 30_000);

  it('ipvsadm hangs with a child holding stdout: checks go on, the failure is logged, no false line, and the table converges once ipvsadm works', async () => {
    const mark = out.length;
    fc.set('leave-child all hang');
    healthy.set(R2, false);
    const t0 = Date.now();
    await sleep(8000);
    const t1 = Date.now();
    // checkinterval=1: about 8 checks each; a loaded machine still does 4
    expect(checksBetween(R1, t0, t1)).toBeGreaterThanOrEqual(4);
    expect(checksBetween(R2, t0, t1)).toBeGreaterThanOrEqual(4);
    // Logged after the failed check, the change's 2 s deadline and the kill, and after any
    // hung table read ahead of the change: on a loaded machine, later than the 8 s above.
    const hungLine = /IPVS table (not changed|changes not confirmed): ipvsadm did not finish within 2000 ms/;
    const during = await eventually(
      () => logSince(mark),
      (d) => d.some((l) => hungLine.test(l)),
      8000,
    );
    expect(
      during.some((l) => hungLine.test(l)),
      out.slice(mark),
    ).toBe(true);
    expect(during.filter((l) => l.includes('Deleted real server'))).toEqual([]);
    expect(table().reals).toEqual({ [rip(R1)]: 1, [rip(R2)]: 1 }); // nothing changed

    const healed = out.length;
    fc.set('ok');
    const t = await eventually(table, (x) => !(rip(R2) in x.reals));
    expect(t.reals, out.slice(mark)).toEqual({ [rip(R1)]: 1 });
    const deleted = `Deleted real server: ${rip(R2)} (${VIP}:80)`;
    await eventually(
      () => out,
      (o) => o.slice(healed).includes(deleted),
      5000,
    );
    expect(logSince(healed).filter((l) => l === deleted)).toHaveLength(1);
    // every run that hung was killed with its sleeper
    const pids = fc.pids();
    expect(pids.length).toBeGreaterThanOrEqual(2);
    const left = await eventually(
      () => pids.filter(alive),
      (l) => l.length === 0,
      5000,
    );
    expect(left).toEqual([]);
  }, 60_000);

  it('ipvsadm refuses changes: the refusal and what the table shows are logged, the Added line only once the table shows the real', async () => {
    const mark = out.length;
    fc.set('fail change');
    healthy.set(R2, true);
    const t0 = Date.now();
    await sleep(6000);
    expect(checksBetween(R1, t0, Date.now())).toBeGreaterThanOrEqual(3);
    const added = `Added real server: ${rip(R2)} (${VIP}:80) (Weight set to 1)`;
    const during = logSince(mark);
    expect(during.filter((l) => l.includes(added) && !l.includes('IPVS change not made'))).toEqual([]);
    expect(
      during.some(
        (l) =>
          /system\(\S*ipvsadm -a -t /.test(l) && l.includes(`${VIP}:80 -r ${rip(R2)}`) && l.endsWith('failed: Memory allocation problem'),
      ),
      out.slice(mark),
    ).toBe(true);
    expect(
      during.some((l) => l.endsWith(`IPVS change not made: ${added}; the kernel table shows no server ${rip(R2)} in ${VIP}:80`)),
      out.slice(mark),
    ).toBe(true);
    expect(table().reals).toEqual({ [rip(R1)]: 1 });

    const healed = out.length;
    fc.set('ok');
    const t = await eventually(table, (x) => rip(R2) in x.reals);
    expect(t.reals).toEqual({ [rip(R1)]: 1, [rip(R2)]: 1 });
    await eventually(
      () => out,
      (o) => o.slice(healed).includes(added),
      5000,
    );
    expect(logSince(healed).filter((l) => l === added)).toHaveLength(1);
  }, 60_000);

  it('stop while ipvsadm refuses the purge: no "Purged" line, an error naming the service left, a non-zero exit', async () => {
    const mark = out.length;
    fc.set('fail delete');
    daemon!.kill('SIGTERM');
    const r = await bounded(daemon!, 60_000);
    expect(r).not.toBe('still waiting');
    const stopLog = out.slice(mark);
    expect(stopLog).not.toMatch(/Purged (real|virtual) server \(stop\)/);
    expect(stopLog).toMatch(
      new RegExp(
        `IPVS purge at stop failed \\(Memory allocation problem\\): virtual server\\(s\\) still in the kernel table: ${VIP.replace(/\./g, '\\.')}:80`,
      ),
    );
    expect((r as { exitCode?: number }).exitCode, stopLog).not.toBe(0);
    expect(table().services).toBe(1);
  }, 90_000);
});
