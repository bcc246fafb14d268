// kill -9 of the daemon, then `start` again, with the real servers healthy: the new
// daemon takes the table as it finds it. No real is removed or re-added, no weight
// changes, no ipvsadm command changes anything, and no log line tells of a state
// change; with quiescent=yes, a fallback, slowstart= and successcount=3 too (and a
// quiesced real that is still down). After a kill -9 in the middle of a convergence
// (daemon and its ipvsadm killed before the batch ran), the new daemon applies what that
// convergence was to apply, once, and touches nothing else. The real daemon in the CLI
// sandbox, the fake ipvsadm's call log, real HTTP servers as reals.
// Addresses: 127.0.136.30-34.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Faulty, Reals, alive, canUnshare, eventually, sleep, twoRealConfig } from './support/faults-daemon.js';
import type { StatusDocument } from '../../lib/status/document.js';

const REAL1 = '127.0.136.30';
const REAL2 = '127.0.136.31';
const REAL3 = '127.0.136.32';
const FALLBACK = '127.0.136.34';
const PORT = 8136;
const R1 = `${REAL1}:${PORT}`;
const R2 = `${REAL2}:${PORT}`;
const R3 = `${REAL3}:${PORT}`;

if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

let reals: Reals;
const sandboxes: Faulty[] = [];
beforeAll(async () => {
  reals = await Reals.listen([REAL1, REAL2, REAL3], PORT);
});
afterAll(async () => {
  for (const f of sandboxes) f.cleanup();
  await reals?.close();
});

interface Setup {
  readonly f: Faulty;
  readonly cfg: string;
  readonly logfile: string;
}

function setup(config: (logfile: string) => string): Setup {
  const f = new Faulty();
  sandboxes.push(f);
  const cfg = join(f.sb.dir, 'lvs.cf');
  const logfile = join(f.sb.dir, 'ld.log');
  writeFileSync(cfg, config(logfile));
  return { f, cfg, logfile };
}

const logLines = (s: Setup) => (existsSync(s.logfile) ? readFileSync(s.logfile, 'utf8').split('\n').filter(Boolean) : []);
/** The daemon's own lines (not those of the commands, which log to the same file). */
const daemonLines = (s: Setup, pid: number) =>
  logLines(s)
    .filter((l) => l.includes(`|lvs.cf|${pid}] `))
    .map((l) => l.replace(/^\[[^\]]*\] /, ''));
/** Lines that tell of a change of a real, a fallback or a virtual. */
const STATE_CHANGE = /real server|fallback server|virtual server|Soft (success|failure)|Resetting soft failure/;

async function statusDoc(s: Setup): Promise<StatusDocument | undefined> {
  const r = await s.f.cli([s.cfg, 'status', '--json']);
  return r.exitCode === 0 ? (JSON.parse(String(r.stdout)) as StatusDocument) : undefined;
}

/** Running, and every real checked at least `checks` times since `since` (by lastCheck.at). */
async function checkedSince(s: Setup, since: number, checks = 1): Promise<void> {
  for (let i = 0; i < checks; i++) {
    const from = i === 0 ? since : Date.now();
    const doc = await eventually(
      () => statusDoc(s),
      (d) =>
        d?.daemon.state === 'running' &&
        (d.virtuals ?? []).every((v) => v.reals.every((r) => r.lastCheck !== null && Date.parse(r.lastCheck.at) > from)),
      20_000,
    );
    expect(doc?.daemon.state).toBe('running');
  }
}

async function killHard(pid: number, group = false): Promise<void> {
  process.kill(group ? -pid : pid, 'SIGKILL');
  expect(
    await eventually(
      () => alive(pid),
      (a) => !a,
      5000,
    ),
  ).toBe(false);
}

/**
 * Steady state, kill -9, start again: the new daemon runs its first checks and a few
 * check intervals more, and changes nothing.
 */
async function killAndRestart(s: Setup, steady: Record<string, number>): Promise<void> {
  const { f, cfg } = s;
  const before = f.save();
  expect(f.weights()).toEqual(steady);
  const old = f.pid('lvs.cf')!;
  const calls0 = f.calls().length;
  await killHard(old);
  expect(f.save()).toBe(before);

  const t0 = Date.now();
  const r = await f.cli([cfg, 'start']);
  expect(r.exitCode, String(r.stderr)).toBe(0);
  const pid = f.pid('lvs.cf')!;
  expect(pid).not.toBe(old);
  // successcount=3 would need three passes: wait for more than that.
  await checkedSince(s, t0, 4);
  await sleep(1000);

  expect(f.changes(calls0)).toEqual([]);
  expect(f.save()).toBe(before);
  expect(daemonLines(s, pid).filter((l) => STATE_CHANGE.test(l))).toEqual([]);
  expect(alive(pid)).toBe(true);
}

describe.skipIf(!canUnshare)('kill -9, start again, all reals healthy: nothing flaps', () => {
  it('quiescent=no', async () => {
    const s = setup((log) => twoRealConfig({ vip: '192.0.2.138:80', r1: R1, r2: R2, log, checktimeout: 5 }));
    expect((await s.f.cli([s.cfg, 'start'])).exitCode).toBe(0);
    const steady = { [R1]: 2, [R2]: 1 };
    expect(
      await eventually(
        () => s.f.weights(),
        (w) => w[R1] === 2 && w[R2] === 1,
      ),
    ).toEqual(steady);
    await killAndRestart(s, steady);
    await killAndRestart(s, steady);
    expect((await s.f.cli([s.cfg, 'stop'])).exitCode).toBe(0);
  }, 90_000);

  it('quiescent=yes, a fallback, slowstart=3, successcount=3, and a quiesced real still down', async () => {
    reals.healthy.set(REAL3, false);
    try {
      const s = setup(
        (log) => `checktimeout=5
checkinterval=1
quiescent=yes
logfile="${log}"
virtual=192.0.2.139:80
    real=${R1} masq 4
    real=${R2} masq 2
    real=${R3} masq 3
    fallback=${FALLBACK}:${PORT} masq
    scheduler=wlc
    persistent=300
    netmask=255.255.255.0
    service=http
    request="/"
    receive="OK"
    slowstart=3
    successcount=3
`,
      );
      expect((await s.f.cli([s.cfg, 'start'])).exitCode).toBe(0);
      // Three passes, then the ramp to the full weights; R3 is quiesced (readdquiescent=no:
      // it never was in the table), and the fallback left once R1 and R2 came up.
      const steady = { [R1]: 4, [R2]: 2 };
      expect(
        await eventually(
          () => s.f.weights(),
          (w) => w[R1] === 4 && w[R2] === 2 && !(`${FALLBACK}:${PORT}` in w),
          30_000,
        ),
      ).toEqual(steady);
      await killAndRestart(s, steady);

      // R3 passed and was quiesced again: it stays in the table at weight 0 across the restart.
      reals.healthy.set(REAL3, true);
      await eventually(
        () => s.f.weights(),
        (w) => w[R3] === 3,
        30_000,
      );
      reals.healthy.set(REAL3, false);
      const quiesced = { ...steady, [R3]: 0 };
      expect(
        await eventually(
          () => s.f.weights(),
          (w) => w[R3] === 0,
        ),
      ).toEqual(quiesced);
      await killAndRestart(s, quiesced);
      expect((await s.f.cli([s.cfg, 'stop'])).exitCode).toBe(0);
    } finally {
      reals.healthy.set(REAL3, true);
    }
  }, 150_000);
});

describe.skipIf(!canUnshare)('kill -9 in the middle of a convergence', () => {
  it('the new daemon applies what the killed one was applying, once, and touches nothing else', async () => {
    const config = (w1: number, withR3: boolean) => (log: string) => `checktimeout=5
checkinterval=1
quiescent=no
logfile="${log}"
virtual=192.0.2.140:80
    real=${R1} masq ${w1}
    real=${R2} masq 1
${withR3 ? `    real=${R3} masq 1\n` : ''}    service=http
    request="/"
    receive="OK"
`;
    const s = setup(config(2, false));
    const { f, cfg } = s;
    // ipvsadm -R waits while `slow` exists, having said so in `inflight`: the convergence
    // is under way (the batch in ipvsadm's stdin) and has changed nothing yet.
    const launcher = join(f.sb.dir, 'ipvsadm');
    const slow = join(f.sb.dir, 'slow');
    const inflight = join(f.sb.dir, 'inflight');
    const original = readFileSync(launcher, 'utf8');
    writeFileSync(
      launcher,
      original.replace(
        /^exec /m,
        `if [ "$1" = "-R" ] && [ -e ${JSON.stringify(slow)} ]; then touch ${JSON.stringify(inflight)}; sleep 60; fi\nexec `,
      ),
    );

    expect((await f.cli([cfg, 'start'])).exitCode).toBe(0);
    const steady = { [R1]: 2, [R2]: 1 };
    expect(
      await eventually(
        () => f.weights(),
        (w) => w[R1] === 2 && w[R2] === 1,
      ),
    ).toEqual(steady);
    const before = f.save();

    writeFileSync(cfg, config(5, true)(s.logfile));
    writeFileSync(slow, '');
    const old = f.pid('lvs.cf')!;
    expect((await f.cli([cfg, 'reload'])).exitCode).toBe(0);
    expect(
      await eventually(
        () => existsSync(inflight),
        (x) => x,
        15_000,
      ),
    ).toBe(true);
    // The daemon and the ipvsadm it waits for (its process group): the batch never runs.
    await killHard(old, true);
    rmSync(slow);
    await sleep(500);
    expect(f.save()).toBe(before);

    const calls0 = f.calls().length;
    const t0 = Date.now();
    const r = await f.cli([cfg, 'start']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const pid = f.pid('lvs.cf')!;
    expect(
      await eventually(
        () => f.weights(),
        (w) => w[R1] === 5 && w[R3] === 1,
      ),
    ).toEqual({ [R1]: 5, [R2]: 1, [R3]: 1 });
    await checkedSince(s, t0, 3);
    await sleep(1000);
    const changes = f.changes(calls0);
    // (ipvsadm lines as the batch has them, thresholds 0 included)
    expect(changes.filter((c) => c.includes(R1)).map((c) => c.replace(/ -x 0 -y 0$/, ''))).toEqual([
      `-e -t 192.0.2.140:80 -r ${R1} -m -w 5`,
    ]);
    expect(changes.filter((c) => c.includes(R3)).map((c) => c.replace(/ -x 0 -y 0$/, ''))).toEqual([
      `-a -t 192.0.2.140:80 -r ${R3} -m -w 1`,
    ]);
    expect(changes).toHaveLength(2);
    expect(
      daemonLines(s, pid)
        .filter((l) => STATE_CHANGE.test(l))
        .sort(),
    ).toEqual([
      `Added real server: ${R3} (192.0.2.140:80) (Weight set to 1)`,
      `Restored real server: ${R1} (192.0.2.140:80) (Weight set to 5)`,
    ]);
    expect((await f.cli([cfg, 'stop'])).exitCode).toBe(0);
  }, 120_000);
});
