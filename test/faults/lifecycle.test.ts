// The daemon's life cycle under faults, through the real CLI in a mount-namespace
// sandbox: concurrent starts, SIGTERM and SIGHUP at many points of start-up, a stop
// that cannot finish, reloads of a config that is missing, a directory or unreadable,
// and autoreload of a file rewritten in place in chunks. Real HTTP servers are the
// real servers; ipvsadm is the test fake, slowed down or hanging where a test says.
import http from 'node:http';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, lifecycleSandbox, sleep, until, type LifecycleSandbox } from './support/lifecycle-sandbox.js';

const REAL = '127.0.135.2';
const PORT = 8135;
const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
const servers: http.Server[] = [];
const boxes: LifecycleSandbox[] = [];

function box(): LifecycleSandbox {
  const sb = lifecycleSandbox();
  boxes.push(sb);
  return sb;
}

beforeAll(async () => {
  const s = http.createServer((_q, res) => res.end('OK\n'));
  await new Promise<void>((r, j) => s.once('error', j).listen(PORT, REAL, r));
  servers.push(s);
});
afterAll(async () => {
  // Every box is cleaned even when one fails, so no daemon outlives the run.
  const errors: unknown[] = [];
  for (const sb of boxes) {
    try {
      sb.cleanup();
    } catch (e) {
      errors.push(e);
    }
  }
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  if (errors.length > 0) throw errors[0];
});

/** Virtual services 192.0.2.(60+i):80, each with the one real. */
function virtuals(n: number, weight = 1): string[] {
  return Array.from({ length: n }, (_, i) => `virtual=192.0.2.${60 + i}:80\n    real=${REAL}:${PORT} masq ${weight}\n    receive="OK"\n`);
}

function configText(sb: LifecycleSandbox, o: { weight?: number; n?: number; extra?: string } = {}): string {
  return `checktimeout=2\ncheckinterval=1\nquiescent=no\nlogfile="${join(sb.dir, 'ldirectord.log')}"\n${o.extra ?? ''}${virtuals(o.n ?? 1, o.weight).join('')}`;
}

const logOf = (sb: LifecycleSandbox) =>
  existsSync(join(sb.dir, 'ldirectord.log')) ? readFileSync(join(sb.dir, 'ldirectord.log'), 'utf8') : '';
const pidFileOf = (sb: LifecycleSandbox, name: string) => join(sb.piddir, `ldirectord.${name}.pid`);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!canUnshare)('one daemon per config', () => {
  for (const n of [2, 5]) {
    it(`${n} concurrent starts: one daemon, named by the pid file; all exit 0; stop leaves none`, async () => {
      const sb = box();
      const cfg = join(sb.dir, 'race.cf');
      writeFileSync(cfg, configText(sb));
      const results = await Promise.all(Array.from({ length: n }, () => sb.run(['node', BIN, cfg, 'start'])));
      for (const r of results) expect(r.exitCode, String(r.stderr)).toBe(0);
      // Every launcher has returned: what is left are daemons.
      await sleep(500);
      const daemons = sb.daemons(cfg);
      expect(daemons).toHaveLength(1);
      expect(Number(readFileSync(pidFileOf(sb, 'race.cf'), 'utf8'))).toBe(daemons[0]);
      const stop = await sb.run(['node', BIN, cfg, 'stop']);
      expect(stop.exitCode, String(stop.stderr)).toBe(0);
      expect(sb.daemons(cfg)).toEqual([]);
      expect(sb.services()).toEqual([]);
      const status = await sb.run(['node', BIN, cfg, 'status']);
      expect(status.exitCode).toBe(3);
    }, 90_000);
  }
});

describe.skipIf(!canUnshare)('SIGTERM during start-up', () => {
  // Measured from the moment the pid file appears (the daemon's first step); with every
  // ipvsadm run slowed to 0.3 s, start-up takes a second or more, so the sweep covers
  // reading the table, adding the virtual, the execute= child and the time after ready.
  const delays = [0, 200, 500, 1000, 2000, 3500, 8000];
  it('at any point: no daemon left, no virtual left behind, and start never reports success for a start-up cut short', async () => {
    const sb = box();
    const cfg = join(sb.dir, 'term.cf');
    const child = join(sb.dir, 'child.cf');
    writeFileSync(
      child,
      `logfile="${join(sb.dir, 'child.log')}"\nvirtual=192.0.2.90:80\n    real=${REAL}:${PORT} masq\n    receive="OK"\n`,
    );
    writeFileSync(cfg, configText(sb, { n: 2, extra: `execute=${child}\n` }));
    sb.delay(0.3);
    const outcomes: string[] = [];
    for (const d of delays) {
      rmSync(join(sb.dir, 'ldirectord.log'), { force: true });
      const start = sb.run(['node', BIN, cfg, 'start'], { timeout: 60_000 });
      await until(() => existsSync(pidFileOf(sb, 'term.cf')), 20_000, 'the pid file');
      const pid = Number(readFileSync(pidFileOf(sb, 'term.cf'), 'utf8'));
      await sleep(d);
      process.kill(pid, 'SIGTERM');
      const r = await start;
      const log = logOf(sb);
      outcomes.push(`${d} ms: start exit ${r.exitCode}`);
      if (r.exitCode === 0) {
        // Success is reported only for a start-up that was over before the signal.
        expect(log, `at ${d} ms`).not.toMatch(/Start-up abandoned/);
      } else {
        expect(r.exitCode, `at ${d} ms: ${r.stderr}`).toBe(1);
        expect(String(r.stderr), `at ${d} ms`).toMatch(/^ldirectord failed to start: stopped by signal TERM during start-up$/m);
      }
      await until(() => !alive(pid), 30_000, `daemon ${pid} to exit (TERM at ${d} ms)`);
      await until(() => !existsSync(pidFileOf(sb, 'child.cf')), 30_000, 'the child to stop');
      // Nothing is added after the stop: the table stays empty.
      await sleep(1500);
      expect(sb.services(), `TERM at ${d} ms (${outcomes.join('; ')})`).toEqual([]);
      expect(sb.daemons(cfg), `TERM at ${d} ms`).toEqual([]);
      expect(sb.daemons(child), `TERM at ${d} ms`).toEqual([]);
      expect(existsSync(pidFileOf(sb, 'term.cf'))).toBe(false);
    }
    // The sweep did cut start-ups short, and did let some finish.
    expect(
      outcomes.some((o) => o.endsWith('exit 1')),
      outcomes.join('; '),
    ).toBe(true);
    expect(
      outcomes.some((o) => o.endsWith('exit 0')),
      outcomes.join('; '),
    ).toBe(true);
  }, 300_000);

  it('stop during start-up, with the pid file gone, stops the daemon that is starting, and start fails', async () => {
    const sb = box();
    const cfg = join(sb.dir, 'stopearly.cf');
    writeFileSync(cfg, configText(sb));
    sb.delay(0.5);
    const start = sb.run(['node', BIN, cfg, 'start']);
    await until(() => existsSync(pidFileOf(sb, 'stopearly.cf')), 20_000, 'the pid file');
    // Whatever removed the pid file, stop finds the daemon by its lock.
    rmSync(pidFileOf(sb, 'stopearly.cf'));
    await sleep(300);
    const stop = await sb.run(['node', BIN, cfg, 'stop']);
    expect(stop.exitCode, String(stop.stderr)).toBe(0);
    expect(sb.daemons(cfg)).toEqual([]);
    expect((await start).exitCode).toBe(1);
    await sleep(1000);
    expect(sb.services()).toEqual([]);
  }, 90_000);
});

describe.skipIf(!canUnshare)('SIGHUP at any point', () => {
  it('during start-up: the daemon comes up and then applies the file as it is after the signal', async () => {
    const sb = box();
    const cfg = join(sb.dir, 'hup.cf');
    sb.delay(0.3);
    for (const d of [0, 200, 500, 900, 1500]) {
      writeFileSync(cfg, configText(sb, { weight: 1 }));
      const start = sb.run(['node', BIN, cfg, 'start']);
      await until(() => existsSync(pidFileOf(sb, 'hup.cf')), 20_000, 'the pid file');
      const pid = Number(readFileSync(pidFileOf(sb, 'hup.cf'), 'utf8'));
      writeFileSync(cfg, configText(sb, { weight: 3 }));
      await sleep(d);
      process.kill(pid, 'SIGHUP');
      const r = await start;
      expect(r.exitCode, `HUP at ${d} ms: ${r.stderr}`).toBe(0);
      await until(() => sb.reals().some((l) => l.endsWith('-w 3')), 30_000, `weight 3 after HUP at ${d} ms`);
      expect(alive(pid)).toBe(true);
      const stop = await sb.run(['node', BIN, cfg, 'stop']);
      expect(stop.exitCode, String(stop.stderr)).toBe(0);
      expect(sb.services()).toEqual([]);
    }
  }, 240_000);

  it('during a reload and during the stop: no second daemon, nothing re-added after the stop', async () => {
    const sb = box();
    const cfg = join(sb.dir, 'hupstop.cf');
    writeFileSync(cfg, configText(sb, { n: 2 }));
    expect((await sb.run(['node', BIN, cfg, 'start'])).exitCode).toBe(0);
    const pid = Number(readFileSync(pidFileOf(sb, 'hupstop.cf'), 'utf8'));
    await until(() => sb.reals().length === 2, 20_000, 'both reals');
    sb.delay(0.3);
    // HUPs during a reload, then TERM during the reload, then HUPs during the stop.
    writeFileSync(cfg, configText(sb, { n: 3 }));
    process.kill(pid, 'SIGHUP');
    await sleep(100);
    process.kill(pid, 'SIGHUP');
    await sleep(200);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 5; i++) {
      await sleep(150);
      if (alive(pid)) process.kill(pid, 'SIGHUP');
    }
    await until(() => !alive(pid), 30_000, 'the daemon to exit');
    await sleep(1500);
    expect(sb.services()).toEqual([]);
    expect(sb.daemons(cfg)).toEqual([]);
    expect(logOf(sb)).toMatch(/Linux Director Daemon terminated on signal: TERM/);
  }, 90_000);
});

describe.skipIf(!canUnshare)('stop that cannot finish', () => {
  it('exits 1 with a message while the daemon still runs (ipvsadm hangs in the stop-time purge)', async () => {
    const sb = box();
    const cfg = join(sb.dir, 'hang.cf');
    writeFileSync(cfg, configText(sb));
    expect((await sb.run(['node', BIN, cfg, 'start'])).exitCode).toBe(0);
    const pid = Number(readFileSync(pidFileOf(sb, 'hang.cf'), 'utf8'));
    await until(() => sb.reals().length === 1, 20_000, 'the real');
    sb.hangOnDelete(true);
    const t0 = Date.now();
    const stop = await sb.run(['node', BIN, cfg, 'stop'], { env: { LDIRECTORD_STOP_TIMEOUT: '3' } });
    expect(stop.exitCode).toBe(1);
    expect(String(stop.stderr)).toBe(`ldirectord for ${cfg} is still running with pid: ${pid} after 3 s: not stopped`);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(alive(pid)).toBe(true);
    sb.hangOnDelete(false);
    process.kill(pid, 'SIGKILL');
    await until(() => !alive(pid), 10_000, 'the daemon to die');
  }, 90_000);
});

describe.skipIf(!canUnshare)('reload of a config that cannot be read', () => {
  it('missing, a directory, a symlink loop: logged with the file name, the daemon runs on, the table is unchanged', async () => {
    const sb = box();
    const cfg = join(sb.dir, 'gone.cf');
    writeFileSync(cfg, configText(sb, { n: 2 }));
    expect((await sb.run(['node', BIN, cfg, 'start'])).exitCode).toBe(0);
    const pid = Number(readFileSync(pidFileOf(sb, 'gone.cf'), 'utf8'));
    await until(() => sb.reals().length === 2, 20_000, 'both reals');
    const before = sb.reals();
    const breakers: Array<[string, () => void]> = [
      ['ENOENT', () => undefined],
      ['EISDIR', () => mkdirSync(cfg)],
      // Root reads a mode-000 file; a symlink to itself is unreadable for root too.
      ['ELOOP', () => symlinkSync(cfg, cfg)],
    ];
    for (const [code, breakIt] of breakers) {
      rmSync(cfg, { recursive: true, force: true });
      breakIt();
      const r = await sb.run(['node', BIN, cfg, 'status']);
      expect(r.exitCode).not.toBe(0); // the command itself cannot read it either
      process.kill(pid, 'SIGHUP');
      await until(
        () => logOf(sb).includes(`Can not read configuration file ${cfg}: ${code}: the running configuration stays in force`),
        10_000,
        `the ${code} log line`,
      );
      await sleep(1500);
      expect(alive(pid), code).toBe(true);
      expect(sb.reals(), code).toEqual(before);
    }
    // Still checking and reloading: a good file again takes effect.
    rmSync(cfg, { recursive: true, force: true });
    writeFileSync(cfg, configText(sb, { n: 2, weight: 4 }));
    process.kill(pid, 'SIGHUP');
    await until(() => sb.reals().every((l) => l.endsWith('-w 4')), 20_000, 'weight 4');
    // The table can show the new weights before the reload that wrote them is counted
    // (it counts once its convergence has ended): ask until it is, within a bound.
    let reloads: unknown;
    for (const end = Date.now() + 10_000; Date.now() < end; await sleep(250)) {
      const json = await sb.run(['node', BIN, cfg, 'status', '--json']);
      reloads = JSON.parse(String(json.stdout)).daemon.reloads;
      if ((reloads as { ok?: number }).ok === 1) break;
    }
    expect(reloads).toMatchObject({ ok: 1, failed: 3 });
    expect((await sb.run(['node', BIN, cfg, 'stop'])).exitCode).toBe(0);
  }, 120_000);
});

describe.skipIf(!canUnshare)('autoreload of a file rewritten in place', () => {
  it('never applies the first block alone: no virtual deleted, and the final file is applied', async () => {
    const sb = box();
    const cfg = join(sb.dir, 'auto.cf');
    const text = (weight: number) => configText(sb, { n: 3, weight, extra: 'autoreload=yes\n' });
    writeFileSync(cfg, text(1));
    expect((await sb.run(['node', BIN, cfg, 'start'])).exitCode).toBe(0);
    await until(() => sb.reals().length === 3, 20_000, 'three reals');
    const callsBefore = sb.ipvsadmCalls().length;
    // As cp/scp/`cat >` do: truncate, write the first virtual block, pause, write the rest.
    const slowRewrite = async (full: string) => {
      const cut = full.indexOf('virtual=', full.indexOf('virtual=') + 1);
      const fd = openSync(cfg, 'w');
      writeSync(fd, full.slice(0, cut));
      await sleep(300);
      writeSync(fd, full.slice(cut));
      closeSync(fd);
    };
    for (let i = 0; i < 3; i++) {
      await slowRewrite(text(1));
      await sleep(700);
    }
    await slowRewrite(text(2));
    await until(() => sb.reals().filter((l) => l.endsWith('-w 2')).length === 3, 20_000, 'weight 2 on all three');
    const deletions = sb
      .ipvsadmCalls()
      .slice(callsBefore)
      .filter((c) => c.args.some((a) => a === '-D' || a === '-d') || /^-[Dd] /m.test(c.stdin ?? ''));
    expect(deletions).toEqual([]);
    expect(sb.services()).toHaveLength(3);
    expect((await sb.run(['node', BIN, cfg, 'stop'])).exitCode).toBe(0);
  }, 90_000);
});

/** Pids of the processes whose command line names `cfg` then `start` (foreground daemons). */
function foregroundPids(cfg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(`${BIN}\0`) && cmdline.includes(`\0${cfg}\0start`)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

describe.skipIf(!canUnshare)('foreground instances (-d)', () => {
  it('same-named configs in two directories run side by side, as with the original; one config file runs once', async () => {
    const sb = box();
    const cfgs = ['a', 'b'].map((d, i) => {
      const dir = join(sb.dir, d);
      mkdirSync(dir);
      const cfg = join(dir, 'ldirectord.cf');
      writeFileSync(
        cfg,
        `checktimeout=2\ncheckinterval=1\nquiescent=no\nvirtual=192.0.2.${80 + i}:80\n    real=${REAL}:${PORT} masq\n    receive="OK"\n`,
      );
      return cfg;
    });
    const runs = cfgs.map((cfg) => sb.run(['node', BIN, '-d', cfg, 'start'], { timeout: 60_000 }));
    await until(() => sb.services().length === 2, 30_000, 'both virtuals in the table');
    const again = await sb.run(['node', BIN, '-d', cfgs[0]!, 'start'], { timeout: 30_000 });
    expect(again.exitCode).toBe(1);
    expect(String(again.stderr)).toContain('is already running or starting: not started');
    expect(sb.services()).toHaveLength(2);
    for (const cfg of cfgs) for (const pid of foregroundPids(cfg)) process.kill(pid, 'SIGTERM');
    for (const r of await Promise.all(runs)) expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(sb.services()).toEqual([]);
  }, 90_000);
});
