// The pid dir (/var/run) missing, read-only or full: `start` fails with exit 1 and
// says why, leaves no daemon behind, no file in the pid dir and no change in the
// table. A control socket that cannot be made: the daemon runs on and logs it;
// `status` still works from the pid file, `status --json` says it cannot read the
// daemon's state. The real daemon in the CLI sandbox; real HTTP servers as reals.
// Addresses: 127.0.136.20-21.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, Faulty, Reals, alive, twoRealConfig, canUnshare, eventually, processesMentioning } from './support/faults-daemon.js';
import type { StatusDocument } from '../../lib/status/document.js';

const REAL1 = '127.0.136.20';
const REAL2 = '127.0.136.21';
const PORT = 8136;
const R1 = `${REAL1}:${PORT}`;
const R2 = `${REAL2}:${PORT}`;

if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

let reals: Reals;
const sandboxes: Faulty[] = [];
function faulty(): { f: Faulty; cfg: string; log: string } {
  const f = new Faulty();
  sandboxes.push(f);
  const cfg = join(f.sb.dir, 'lvs.cf');
  const log = join(f.sb.dir, 'ld.log');
  writeFileSync(cfg, twoRealConfig({ vip: '192.0.2.137:80', r1: R1, r2: R2, log, checktimeout: 2 }));
  return { f, cfg, log };
}

beforeAll(async () => {
  reals = await Reals.listen([REAL1, REAL2], PORT);
});
afterAll(async () => {
  for (const f of sandboxes) f.cleanup();
  await reals?.close();
});

/** After a failed start: no process runs this config, and ipvsadm changed nothing. */
async function nothingLeft(f: Faulty, cfg: string): Promise<void> {
  // The daemon reports the failure, then exits: give it a moment to be gone.
  expect(
    await eventually(
      () => processesMentioning(cfg),
      (p) => p.length === 0,
      10_000,
    ),
  ).toEqual([]);
  expect(f.changes()).toEqual([]);
  expect(f.save()).toBe('');
}

describe.skipIf(!canUnshare)('`start` without a usable pid dir', () => {
  it('missing: exit 1, "Can not open <pid file>: ENOENT", nothing left behind', async () => {
    const { f, cfg, log } = faulty();
    const dir = join(f.sb.dir, 'no-such-dir');
    const r = await f.cli([cfg, 'start'], { env: { LDIRECTORD_PIDDIR: dir } });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toBe(
      `ldirectord failed to start: Can not open ${dir}/ldirectord.lvs.cf.pid: ENOENT: no such file or directory`,
    );
    await nothingLeft(f, cfg);
    expect(readFileSync(log, 'utf8')).toMatch(new RegExp(`\\] Can not open ${dir.replace(/\./g, '\\.')}/ldirectord\\.lvs\\.cf\\.pid\\n`));
    expect(existsSync(dir)).toBe(false);
  });

  it('read-only: exit 1, EROFS, nothing left behind', async () => {
    const { f, cfg } = faulty();
    const r = await f.sb.run(
      [
        'sh',
        '-c',
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"',
        'sh',
        f.sb.piddir,
        'node',
        BIN,
        cfg,
        'start',
      ],
      { env: { FAKE_IPVSADM_LOG: f.callLog } },
    );
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toBe(`ldirectord failed to start: Can not open ${f.pidFile('lvs.cf')}: EROFS: read-only file system`);
    await nothingLeft(f, cfg);
    expect(readdirSync(f.sb.piddir)).toEqual([]);
  });

  it('full: exit 1, ENOSPC, and not even an empty pid file is left in it', async () => {
    const { f, cfg } = faulty();
    // A 4 KiB tmpfs filled up, over the pid dir, in the start's (and daemon's) namespace;
    // what is left in it is listed before the namespace goes.
    const r = await f.sb.run(
      [
        'sh',
        '-c',
        'd="$1"; shift; mount -t tmpfs -o size=4k tmpfs "$d" && { dd if=/dev/zero of="$d/filler" bs=1k 2>/dev/null; true; } && "$@"; rc=$?; ' +
          'sleep 1; echo "left: $(ls -A "$d" | tr "\\n" " ")"; exit $rc',
        'sh',
        f.sb.piddir,
        'node',
        BIN,
        cfg,
        'start',
      ],
      { env: { FAKE_IPVSADM_LOG: f.callLog } },
    );
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toBe(`ldirectord failed to start: Can not open ${f.pidFile('lvs.cf')}: ENOSPC: no space left on device`);
    expect(String(r.stdout).trim()).toBe('left: filler');
    await nothingLeft(f, cfg);
  });
});

describe.skipIf(!canUnshare)('a control socket that cannot be made', () => {
  it('the daemon runs on and logs why; status works from the pid file; --json says it cannot ask', async () => {
    const { f, cfg, log } = faulty();
    const sock = join(f.sb.piddir, 'ldirectord.lvs.cf.sock');
    mkdirSync(sock); // something else where the socket should go
    const r = await f.cli([cfg, 'start']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const pid = f.pid('lvs.cf')!;
    expect(alive(pid)).toBe(true);
    expect(
      await eventually(
        () => f.weights(),
        (w) => w[R1] === 2 && w[R2] === 1,
      ),
    ).toEqual({ [R1]: 2, [R2]: 1 });
    expect(readFileSync(log, 'utf8')).toMatch(
      new RegExp(`\\] control socket ${sock.replace(/\./g, '\\.')} not available \\(status --json will not see this daemon\\): \\w+\\n`),
    );

    const st = await f.cli([cfg, 'status']);
    expect([st.exitCode, String(st.stdout), String(st.stderr)]).toEqual([0, '', `ldirectord for ${cfg} is running with pid: ${pid}`]);
    const js = await f.cli([cfg, 'status', '--json']);
    expect(js.exitCode).toBe(0);
    const doc = JSON.parse(String(js.stdout)) as StatusDocument;
    expect(doc.daemon).toEqual({ state: 'running', pid });
    expect(doc.error).toMatch(/^cannot read the daemon's state: /);
    expect(String(js.stderr)).toContain(`is running with pid: ${pid}`);
    expect(String(js.stderr)).toContain("cannot read the daemon's state: ");

    // Reload and stop work as ever; the directory is not the daemon's to remove.
    reals.healthy.set(REAL2, false);
    expect(
      await eventually(
        () => f.weights(),
        (w) => !(R2 in w),
      ),
    ).toEqual({ [R1]: 2 });
    reals.healthy.set(REAL2, true);
    const stop = await f.cli([cfg, 'stop']);
    expect(stop.exitCode).toBe(0);
    expect(
      await eventually(
        () => alive(pid),
        (a) => !a,
        5000,
      ),
    ).toBe(false);
    expect(existsSync(f.pidFile('lvs.cf'))).toBe(false);
    expect(statSync(sock).isDirectory()).toBe(true);
    expect(f.save()).toBe('');
  });
});
