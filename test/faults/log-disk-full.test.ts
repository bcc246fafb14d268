// logfile= on a file system that fills up: the daemon (started for real, in the CLI
// sandbox) logs to a 64 KiB tmpfs mounted in its own mount namespace, which the test
// fills through /proc/<pid>/root. While it is full the daemon goes on checking and
// converging, answers `status --json` and reloads, and does not spin; once there is
// room again it logs again, beginning with one line that says how many lines it could
// not write, on a line of its own. Addresses: 127.0.136.10-11.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Faulty, Reals, alive, canUnshare, cpuSeconds, eventually, sleep, twoRealConfig } from './support/faults-daemon.js';
import type { StatusDocument } from '../../lib/status/document.js';

const REAL1 = '127.0.136.10';
const REAL2 = '127.0.136.11';
const PORT = 8136;
const R1 = `${REAL1}:${PORT}`;
const R2 = `${REAL2}:${PORT}`;

if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

let reals: Reals;
let f: Faulty;
let logDir: string;
let cfg: string;
let pid: number;

function configText(weight1: number): string {
  return twoRealConfig({ vip: '192.0.2.136:80', r1: R1, r2: R2, log: join(logDir, 'ld.log'), checktimeout: 2, weight1 });
}

/** The log dir as the daemon sees it: through its mount namespace. */
const inDaemon = (name: string) => `/proc/${pid}/root${join(logDir, name)}`;
const logText = () => readFileSync(inDaemon('ld.log'), 'utf8');
const logSize = () => statSync(inDaemon('ld.log')).size;

/** Writes zeros to `path` until the file system says ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

beforeAll(async () => {
  reals = await Reals.listen([REAL1, REAL2], PORT);
  f = new Faulty();
  logDir = join(f.sb.dir, 'log');
  mkdirSync(logDir);
  cfg = join(f.sb.dir, 'lvs.cf');
  writeFileSync(cfg, configText(2));
});

afterAll(async () => {
  f?.cleanup();
  await reals?.close();
});

describe.skipIf(!canUnshare)('logfile= on a full file system', () => {
  it('starts with the logfile on a small tmpfs of its own', async () => {
    // `start` mounts the tmpfs in its namespace; the daemon it launches stays in it.
    const r = await f.sb.run(
      ['sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1" && shift && exec "$@"', 'sh', logDir, 'node', BIN, cfg, 'start'],
      { env: { FAKE_IPVSADM_LOG: f.callLog } },
    );
    expect(r.exitCode, String(r.stderr)).toBe(0);
    pid = f.pid('lvs.cf')!;
    expect(
      await eventually(
        () => f.weights(),
        (w) => w[R1] === 2 && w[R2] === 1,
      ),
    ).toEqual({ [R1]: 2, [R2]: 1 });
    await eventually(logText, (t) => t.includes(`Added real server: ${R2}`));
    expect(logText()).toMatch(/\|lvs\.cf\|\d+\] Starting Linux Director/);
  });

  it('full: checks, convergence, status and reload go on; no spinning', async () => {
    fill(inDaemon('filler'));
    // The log's last page still has room: status dumps (SIGUSR1) until a write stops
    // short at the end of that page (the size then is all the space the file holds).
    const atPageEnd = () => {
      const st = statSync(inDaemon('ld.log'));
      return st.size === st.blocks * 512;
    };
    for (const until = Date.now() + 20_000; !atPageEnd() && Date.now() < until;) {
      process.kill(pid, 'SIGUSR1');
      await sleep(200);
    }
    expect(atPageEnd()).toBe(true);
    const full = logSize();
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();

    reals.healthy.set(REAL2, false);
    expect(
      await eventually(
        () => f.weights(),
        (w) => !(R2 in w),
      ),
    ).toEqual({ [R1]: 2 });
    const st = await f.cli([cfg, 'status', '--json']);
    expect(st.exitCode).toBe(0);
    const doc = JSON.parse(String(st.stdout)) as StatusDocument;
    expect(doc.daemon.state).toBe('running');
    expect(doc.virtuals![0]!.reals.map((x) => x.state)).toEqual(['up', 'down']);

    writeFileSync(cfg, configText(3));
    expect((await f.cli([cfg, 'reload'])).exitCode).toBe(0);
    expect(
      await eventually(
        () => f.weights(),
        (w) => w[R1] === 3,
      ),
    ).toEqual({ [R1]: 3 });

    await sleep(Math.max(0, 3000 - (Date.now() - t0)));
    const cpuShare = (cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000);
    // Two reals checked every second take a few per cent of a core; a retry loop takes all of it.
    expect(cpuShare).toBeLessThan(0.5);
    expect(alive(pid)).toBe(true);
    expect(logSize()).toBe(full);
  });

  it('room again: logging resumes with one line on the lines it lost, then the new ones', async () => {
    rmSync(inDaemon('filler'));
    reals.healthy.set(REAL2, true);
    expect(
      await eventually(
        () => f.weights(),
        (w) => w[R2] === 1,
      ),
    ).toEqual({ [R1]: 3, [R2]: 1 });
    const text = await eventually(logText, (t) => t.includes(`Added real server: ${R2}`) && t.includes('Could not write'));
    const lines = text.split('\n');
    const notices = lines.filter((l) => l.includes('Could not write'));
    expect(notices).toHaveLength(1);
    // On a line of its own, even though the write that hit the full disk stopped mid-line.
    expect(notices[0]).toMatch(
      new RegExp(
        `^\\[[^|\\]]+\\|lvs\\.cf\\|${pid}\\] Could not write \\d+ log lines? to ${join(logDir, 'ld.log').replace(/\./g, '\\.')} from .+ on: ENOSPC: no space left on device`,
      ),
    );
    expect(Number(/Could not write (\d+)/.exec(notices[0]!)![1])).toBeGreaterThan(0);
    const after = lines.slice(lines.indexOf(notices[0]!) + 1).filter(Boolean);
    expect(after.some((l) => l.endsWith(`Added real server: ${R2} (192.0.2.136:80) (Weight set to 1)`))).toBe(true);
    expect(after.every((l) => new RegExp(`^\\[[^|\\]]+\\|lvs\\.cf\\|${pid}\\] `).test(l))).toBe(true);
    // Said once per outage, not again with the lines that follow.
    process.kill(pid, 'SIGUSR1');
    await eventually(logText, (t) => t.split('\n').filter((l) => l.includes('Status: running')).length > 0 && t.length > text.length);
    expect(
      logText()
        .split('\n')
        .filter((l) => l.includes('Could not write')),
    ).toHaveLength(1);
  });

  it('stops cleanly', async () => {
    const r = await f.cli([cfg, 'stop']);
    expect(r.exitCode).toBe(0);
    // The pid file goes first, then the last log lines are written and the process exits.
    expect(
      await eventually(
        () => alive(pid),
        (a) => !a,
        5000,
      ),
    ).toBe(false);
    expect(f.save()).toBe('');
  });
});
