// 200 reloads in a row, good and bad configs mixed, while checks run against
// real HTTP servers: the daemon survives, no real changes state without a
// reason, a bad config never takes effect, and the last good config wins.
import http from 'node:http';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, FAKE_IPVSADM, sandbox } from './ns.js';

const REALS = ['127.0.41.2', '127.0.41.3'];
const PORT = 8082;
const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;

const sb = sandbox();
const cfg = join(sb.dir, 'storm.cf');
const logfile = join(sb.dir, 'ldirectord.log');
const pidFile = join(sb.piddir, 'ldirectord.storm.cf.pid');
const servers: http.Server[] = [];

function config(weight: number, bad: boolean): string {
  return `checktimeout=2
checkinterval=1
quiescent=yes
logfile="${logfile}"
virtual=192.0.2.40:80
    real=${REALS[0]}:${PORT} masq ${weight}
    real=${REALS[1]}:${PORT} masq 1
    service=http
    receive="OK"
${bad ? '    checktype=sometimes\n' : ''}`;
}

function weights(): Record<string, number> {
  const out = execaSync(FAKE_IPVSADM, ['-S', '-n'], { env: { FAKE_IPVSADM_STATE: sb.state } });
  const w: Record<string, number> = {};
  for (const m of String(out.stdout).matchAll(/-r (\S+) .* -w (\d+)/g)) w[m[1]!] = Number(m[2]);
  return w;
}

const reloadsLogged = (): number =>
  existsSync(logfile) ? (readFileSync(logfile, 'utf8').match(/Reloading Linux Director Daemon config on signal/g)?.length ?? 0) : 0;

const rejectionsLogged = (): number =>
  existsSync(logfile) ? (readFileSync(logfile, 'utf8').match(/the running configuration stays in force/g)?.length ?? 0) : 0;

beforeAll(async () => {
  for (const ip of REALS) {
    const s = http.createServer((_q, res) => res.end('OK\n'));
    await new Promise<void>((r, j) => s.once('error', j).listen(PORT, ip, r));
    servers.push(s);
  }
});
afterAll(async () => {
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(sb.dir, { recursive: true, force: true });
});

it.skipIf(!canUnshare)(
  'survives 200 reloads, good and bad mixed, and ends on the last good config',
  async () => {
    writeFileSync(cfg, config(1, false));
    const start = await sb.run(['node', BIN, cfg, 'start']);
    expect(start.exitCode, String(start.stderr)).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const until = Date.now() + 20_000;
    while (Object.keys(weights()).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    expect(weights()).toEqual({ [`${REALS[0]}:${PORT}`]: 1, [`${REALS[1]}:${PORT}`]: 1 });

    // A fixed pseudo-random sequence: reproducible, about one bad config in three.
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let lastGood = 1;
    let bad = 0;
    for (let i = 0; i < 200; i++) {
      const isBad = rand() < 0.33;
      // Bad configs carry weight 99: it must never reach the table.
      const weight = isBad ? 99 : 1 + Math.floor(rand() * 3);
      writeFileSync(cfg, config(weight, isBad));
      if (isBad) bad++;
      else lastGood = weight;
      process.kill(pid, 'SIGHUP');
      // Signals that arrive together merge into one (POSIX): wait until this one is seen.
      const seenBy = Date.now() + 10_000;
      while (reloadsLogged() < i + 1 && Date.now() < seenBy) await new Promise((r) => setTimeout(r, 5));
      // A bad config must really be read (and refused) before the next write replaces it.
      while (isBad && rejectionsLogged() < bad && Date.now() < seenBy) await new Promise((r) => setTimeout(r, 5));
    }
    // The last write decides; make it a good one we know.
    writeFileSync(cfg, config(lastGood, false));
    process.kill(pid, 'SIGHUP');

    const settle = Date.now() + 30_000;
    while (weights()[`${REALS[0]}:${PORT}`] !== lastGood && Date.now() < settle) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500));

    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(weights()).toEqual({ [`${REALS[0]}:${PORT}`]: lastGood, [`${REALS[1]}:${PORT}`]: 1 });
    const log = readFileSync(logfile, 'utf8');
    expect(log.match(/Reloading Linux Director Daemon config on signal/g)?.length).toBe(201);
    expect(bad).toBeGreaterThan(30);
    expect(log.match(/at line 10: checktype must be "connect"/g)?.length).toBe(bad);
    expect(rejectionsLogged()).toBe(bad);
    // Nothing went down: no real changed state without a reason.
    expect(log.split('\n').filter((l) => /Quiescent real server|Deleted real server|Added fallback/.test(l))).toEqual([]);
    // Weight 99 (only in bad configs) never took effect.
    expect(log).not.toMatch(/Weight set to 99/);

    const stop = await sb.run(['node', BIN, cfg, 'stop']);
    expect(stop.exitCode).toBe(0);
  },
  240_000,
);
