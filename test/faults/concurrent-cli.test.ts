// `status`, `status --json`, `reload` and `stop` run concurrently, 20 at a time, for
// several rounds, against the running daemon: every exit code and output tells the truth
// (status never says "stopped" of a daemon that runs, --json reads its state), the
// daemon neither restarts nor loses its table, and once the stops have returned no
// daemon is left, also when the stop comes while the first checks' convergence is under
// way. The real daemon in the CLI sandbox; real HTTP servers as reals.
// Addresses: 127.0.136.40-41.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FAKE_IPVSADM } from '../cli/ns.js';
import { Faulty, Reals, alive, twoRealConfig, canUnshare, eventually, processesMentioning, sleep } from './support/faults-daemon.js';
import type { StatusDocument } from '../../lib/status/document.js';

const REAL1 = '127.0.136.40';
const REAL2 = '127.0.136.41';
const PORT = 8136;
const R1 = `${REAL1}:${PORT}`;
const R2 = `${REAL2}:${PORT}`;

if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

let reals: Reals;
let f: Faulty;
let cfg: string;

beforeAll(async () => {
  reals = await Reals.listen([REAL1, REAL2], PORT);
  f = new Faulty();
  cfg = join(f.sb.dir, 'lvs.cf');
  writeFileSync(cfg, twoRealConfig({ vip: '192.0.2.141:80', r1: R1, r2: R2, log: join(f.sb.dir, 'ld.log'), checktimeout: 5 }));
});
afterAll(async () => {
  f?.cleanup();
  await reals?.close();
});

type Kind = 'status' | 'json' | 'reload' | 'stop';
interface Outcome {
  readonly kind: Kind;
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

const ARGS: Record<Kind, string[]> = { status: ['status'], json: ['status', '--json'], reload: ['reload'], stop: ['stop'] };

/** Runs the commands all at once; resolves with their outcomes, in the same order. */
async function together(kinds: readonly Kind[]): Promise<Outcome[]> {
  return Promise.all(
    kinds.map(async (kind) => {
      const r = await f.cli([cfg, ...ARGS[kind]], { timeout: 120_000 });
      return { kind, exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
    }),
  );
}

const mix = (n: Record<Kind, number>): Kind[] => {
  const out: Kind[] = [];
  for (let i = 0; out.length < n.status + n.json + n.reload + n.stop; i++) {
    for (const k of ['status', 'json', 'reload', 'stop'] as const) if (i < n[k]) out.push(k);
  }
  return out;
};

/** What a command said of a daemon that ran throughout. */
function runningTruth(o: Outcome, pid: number): void {
  const running = `ldirectord for ${cfg} is running with pid: ${pid}`;
  const what = JSON.stringify(o);
  switch (o.kind) {
    case 'status':
      expect([o.exitCode, o.stdout, o.stderr], what).toEqual([0, '', running]);
      return;
    case 'json': {
      expect([o.exitCode, o.stderr], what).toEqual([0, running]);
      const doc = JSON.parse(o.stdout) as StatusDocument;
      expect(doc.error, what).toBeUndefined();
      expect('pid' in doc.daemon ? doc.daemon.pid : undefined, what).toBe(pid);
      expect(['running', 'reloading'], what).toContain(doc.daemon.state);
      expect(
        doc.virtuals?.[0]?.reals.map((r) => r.address),
        what,
      ).toEqual([R1, R2]);
      return;
    }
    case 'reload':
      expect([o.exitCode, o.stdout, o.stderr], what).toEqual([0, '', '']);
      return;
    case 'stop':
      throw new Error('no stop here');
  }
}

describe.skipIf(!canUnshare)('20 commands at once against the running daemon', () => {
  for (const cycle of [1, 2]) {
    it(`cycle ${cycle}: rounds of status, status --json and reload; then stops among them`, async () => {
      const st = await f.cli([cfg, 'start']);
      expect(st.exitCode, String(st.stderr)).toBe(0);
      const pid = f.pid('lvs.cf')!;
      expect(
        await eventually(
          () => f.weights(),
          (w) => w[R1] === 2 && w[R2] === 1,
        ),
      ).toEqual({ [R1]: 2, [R2]: 1 });

      for (const round of [
        mix({ status: 7, json: 7, reload: 6, stop: 0 }),
        mix({ status: 0, json: 20, reload: 0, stop: 0 }),
        mix({ status: 10, json: 0, reload: 10, stop: 0 }),
      ]) {
        for (const o of await together(round)) runningTruth(o, pid);
        expect(f.pid('lvs.cf')).toBe(pid);
        expect(alive(pid)).toBe(true);
        expect(f.weights()).toEqual({ [R1]: 2, [R2]: 1 });
      }

      // The last round: stops among the others.
      const last = await together(mix({ status: 6, json: 6, reload: 4, stop: 4 }));
      const stopped = `ldirectord is stopped for ${cfg}`;
      for (const o of last) {
        const what = JSON.stringify(o);
        if (o.kind === 'stop') {
          expect([o.exitCode, o.stdout, o.stderr], what).toEqual([0, '', '']);
        } else if (o.kind === 'reload') {
          // sent before the stop (0), or found nothing to reload (1): no error either way
          expect([0, 1], what).toContain(o.exitCode);
          expect([o.stdout, o.stderr], what).toEqual(['', '']);
        } else if (o.exitCode === 0) {
          // said "running" while the daemon ran (it may have been stopping)
          runningTruthWhileStopping(o, pid);
        } else {
          expect(o.exitCode, what).toBe(3);
          if (o.kind === 'status') expect([o.stdout, o.stderr], what).toEqual([stopped, '']);
          else expect(JSON.parse(o.stdout), what).toEqual({ schema: 1, config: cfg, daemon: { state: 'stopped' } });
        }
      }
      // Once every stop has returned: no pid file, no socket, the virtual purged, and the
      // process (which removes its pid file as the last step of its clean stop) exits.
      expect(
        await eventually(
          () => alive(pid),
          (a) => !a,
          5000,
        ),
      ).toBe(false);
      expect(processesMentioning(`${cfg} start`)).toEqual([]);
      expect(existsSync(f.pidFile('lvs.cf'))).toBe(false);
      expect(existsSync(join(f.sb.piddir, 'ldirectord.lvs.cf.sock'))).toBe(false);
      expect(f.save()).toBe('');
      const after = await f.cli([cfg, 'status']);
      expect([after.exitCode, String(after.stdout)]).toEqual([3, stopped]);
    }, 300_000);
  }
});

/** status / status --json that said "running" during the round with the stops. */
function runningTruthWhileStopping(o: Outcome, pid: number): void {
  const what = JSON.stringify(o);
  expect(o.stderr.split('\n')[0], what).toBe(`ldirectord for ${cfg} is running with pid: ${pid}`);
  if (o.kind === 'status') {
    expect([o.stdout, o.stderr], what).toEqual(['', `ldirectord for ${cfg} is running with pid: ${pid}`]);
    return;
  }
  const doc = JSON.parse(o.stdout) as StatusDocument;
  expect('pid' in doc.daemon ? doc.daemon.pid : undefined, what).toBe(pid);
  // A daemon that has begun to stop may have closed its socket: then the document says so.
  if (doc.error !== undefined) expect(doc.error, what).toMatch(/^cannot read the daemon's state: /);
  else expect(['running', 'reloading', 'stopping'], what).toContain(doc.daemon.state);
}

describe.skipIf(!canUnshare)('stop while the first convergence after the initial checks is under way', () => {
  it('the daemon does not go back to checking: it exits once the stop is done', async () => {
    const g = new Faulty();
    try {
      const conf = join(g.sb.dir, 'lvs.cf');
      const log = join(g.sb.dir, 'ld.log');
      writeFileSync(
        conf,
        `checktimeout=5
checkinterval=1
quiescent=no
logfile="${log}"
virtual=192.0.2.142:80
    real=${R1} masq 2
    service=http
    request="/"
    receive="OK"
`,
      );
      // An ipvsadm -R batch that adds a real (the first checks found it up) waits while
      // `hold` exists, having said so in `held`.
      const hold = join(g.sb.dir, 'hold');
      const held = join(g.sb.dir, 'held');
      const fake = `${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)}`;
      writeFileSync(
        join(g.sb.dir, 'ipvsadm'),
        `#!/bin/sh
if [ "$1" = "-R" ] && [ -e ${JSON.stringify(hold)} ]; then
  in=$(cat)
  case "$in" in *"-a "*) touch ${JSON.stringify(held)}; while [ -e ${JSON.stringify(hold)} ]; do sleep 0.1; done;; esac
  printf '%s\\n' "$in" | exec ${fake} "$@"
fi
exec ${fake} "$@"
`,
      );
      writeFileSync(hold, '');
      const st = await g.cli([conf, 'start']);
      expect(st.exitCode, String(st.stderr)).toBe(0);
      const pid = g.pid('lvs.cf')!;
      expect(
        await eventually(
          () => existsSync(held),
          (x) => x,
        ),
      ).toBe(true);
      const stopping = g.cli([conf, 'stop']);
      // the stop waits for the convergence under way; let it finish
      await eventually(
        () => readFileSync(log, 'utf8').includes('Invoking ldirectord invoked as: ' + BIN + ' ' + conf + ' stop'),
        (x) => x,
      );
      await sleep(500);
      rmSync(hold);
      const r = await stopping;
      expect([r.exitCode, String(r.stderr)]).toEqual([0, '']);
      expect(existsSync(g.pidFile('lvs.cf'))).toBe(false);
      expect(g.save()).toBe('');
      // The process exits right after removing its pid file, and nothing is left to run
      // checks (and keep it alive) behind it.
      expect(
        await eventually(
          () => alive(pid),
          (a) => !a,
          5000,
        ),
      ).toBe(false);
    } finally {
      g.cleanup();
    }
  }, 120_000);
});
