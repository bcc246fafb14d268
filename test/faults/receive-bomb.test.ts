// One hostile real server must not freeze the director. The daemon runs for real
// (`ldirectord <cfg> start` in the test sandbox, fake ipvsadm) with http checks against
// real HTTP servers: healthy reals next to reals whose bodies make a backtracking
// `receive` match take seconds to minutes (200 KiB of "status " for "status.*up", with
// and without an "up" before it) and a nested-quantifier bomb. While they are checked
// every second, the healthy reals must keep being checked on time, the daemon must keep
// answering `status --json` and its metrics, its event loop must stay responsive, and the
// hostile reals must be down (the one whose match cannot finish: at its checktimeout,
// with the original's timeout message). Addresses: 127.0.131.0/24.
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, sandbox, type Sandbox } from '../cli/ns.js';
import type { RealStatus, StatusDocument } from '../../lib/status/document.js';
import { simpletcpChecker } from '../../checks/simpletcp.js';
import { run as runCheck, tcpServer, testTarget, testVirtual, type TcpServer } from '../support/data-servers.js';

const STATUS = '127.0.131.1';
const STATUS_PORT = 9131;
const PORT = 8080;
const HEALTHY_STATUS = '127.0.131.2'; // "status: up"
const HEALTHY_BOMB = '127.0.131.3'; // matches "(a+)+$" at once
const NO_UP = '127.0.131.4'; // "status " x 30,000, no "up": cannot match
const UP_FIRST = '127.0.131.5'; // "up " then "status " x 30,000: the regex must run
const BOMB = '127.0.131.6'; // 40 x "a" then "b": exponential for "(a+)+$"
const CHECKTIMEOUT_S = 2;
// simpletcp: a line on which "(a+)+$" backtracks exponentially (a quadratic scan of a 64 KiB
// line ends within the timeout on a fast idle machine: it would not prove the bound)
const LINES = '127.0.131.8';

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

const STATUS_BODY = 'status '.repeat(30_000);
const bodies = new Map<string, string>([
  [HEALTHY_STATUS, 'service status: up\n'],
  [HEALTHY_BOMB, 'aaaa\n'],
  [NO_UP, STATUS_BODY],
  [UP_FIRST, `up ${STATUS_BODY}`],
  [BOMB, `${'a'.repeat(40)}b`],
]);
/** When each server was asked (ms since the epoch). */
const asked = new Map<string, number[]>();
const servers: http.Server[] = [];
let lineServer: TcpServer;
let sb: Sandbox;
let cfg: string;

beforeAll(async () => {
  for (const [ip, body] of bodies) {
    asked.set(ip, []);
    const s = http.createServer((_q, res) => {
      asked.get(ip)!.push(Date.now());
      res.end(body);
    });
    await new Promise<void>((r, j) => s.once('error', j).listen(PORT, ip, r));
    servers.push(s);
  }
  lineServer = await tcpServer(LINES, (socket) => socket.end(`${'a'.repeat(40)}b\nbye\n`));
  sb = sandbox();
  cfg = join(sb.dir, 'lvs.cf');
  writeFileSync(
    cfg,
    `checktimeout=${CHECKTIMEOUT_S}
checkinterval=1
quiescent=yes
logfile="${join(sb.dir, 'ld.log')}"
statusaddress=${STATUS}:${STATUS_PORT}
virtual=192.0.2.131:80
    real=${HEALTHY_STATUS}:${PORT} masq 1
    real=${NO_UP}:${PORT} masq 1
    real=${UP_FIRST}:${PORT} masq 1
    service=http
    request="/"
    receive="status.*up"
virtual=192.0.2.132:80
    real=${HEALTHY_BOMB}:${PORT} masq 1
    real=${BOMB}:${PORT} masq 1
    service=http
    request="/"
    receive="(a+)+$"
`,
  );
});

afterAll(async () => {
  for (const f of existsSync(sb?.piddir ?? '') ? readdirSync(sb.piddir) : []) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(sb.piddir, f), 'utf8'));
    try {
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (sb) rmSync(sb.dir, { recursive: true, force: true });
  await lineServer?.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const run = (...argv: string[]) => sb.run(['node', BIN, ...argv], { timeout: 30_000 });

async function statusJson(): Promise<{ doc: StatusDocument | null; ms: number }> {
  const t0 = performance.now();
  const r = await run(cfg, 'status', '--json');
  const ms = performance.now() - t0;
  try {
    return { doc: JSON.parse(String(r.stdout)) as StatusDocument, ms };
  } catch {
    return { doc: null, ms };
  }
}

function realsOf(doc: StatusDocument | null): Map<string, RealStatus> {
  const reals = new Map<string, RealStatus>();
  for (const v of doc?.virtuals ?? []) for (const r of v.reals) reals.set(r.address.replace(/:\d+$/, ''), r);
  return reals;
}

/** nodejs_eventloop_lag_max_seconds since the previous scrape, and how long the scrape took. */
async function scrapeLag(): Promise<{ lagS: number | null; ms: number }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://${STATUS}:${STATUS_PORT}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
    return { lagS: m ? Number(m[1]) : null, ms: performance.now() - t0 };
  } catch {
    return { lagS: null, ms: performance.now() - t0 };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Longest time between two requests of the server within [from, to] (and from its edges). */
function longestGap(ip: string, from: number, to: number): number {
  const times = [from, ...asked.get(ip)!.filter((t) => t >= from && t <= to), to];
  let worst = 0;
  for (let k = 1; k < times.length; k++) worst = Math.max(worst, times[k]! - times[k - 1]!);
  return worst;
}

describe.skipIf(!canUnshare)('a real whose body makes receive backtrack for ever', () => {
  it('does not stall the checks of the other reals, the status socket or the event loop, and is down at its checktimeout', async () => {
    const started = await run(cfg, 'start');
    expect(started.exitCode, String(started.stderr)).toBe(0);

    // Every real checked at least once (the hostile ones included).
    const until = Date.now() + 20_000;
    let reals = new Map<string, RealStatus>();
    while (Date.now() < until) {
      reals = realsOf((await statusJson()).doc);
      if ([...bodies.keys()].every((ip) => reals.get(ip)?.lastCheck)) break;
      await sleep(250);
    }
    expect(
      [...bodies.keys()].filter((ip) => !reals.get(ip)?.lastCheck),
      'reals never checked',
    ).toEqual([]);

    // A window in which every hostile real is checked several times.
    await scrapeLag(); // starts the lag's window
    const from = Date.now();
    const lags: Array<number | null> = [];
    const scrapeMs: number[] = [];
    const statusMs: number[] = [];
    let doc: StatusDocument | null = null;
    while (Date.now() - from < 8_000) {
      await sleep(1000);
      const s = await scrapeLag();
      lags.push(s.lagS);
      scrapeMs.push(s.ms);
      const st = await statusJson();
      statusMs.push(st.ms);
      doc = st.doc;
    }
    const to = Date.now();
    const report = JSON.stringify({ lags, scrapeMs: scrapeMs.map(Math.round), statusMs: statusMs.map(Math.round) });
    if (process.env.RECEIVE_BOMB_REPORT) console.log(report, longestGap(HEALTHY_STATUS, from, to), longestGap(HEALTHY_BOMB, from, to));

    // Healthy reals: checked every checkinterval (1 s) plus a check's time; 4 s is generous.
    expect(longestGap(HEALTHY_STATUS, from, to), report).toBeLessThan(4_000);
    expect(longestGap(HEALTHY_BOMB, from, to), report).toBeLessThan(4_000);
    // The daemon answers its socket and its listener, and its loop never stops for long.
    expect(Math.max(...statusMs), report).toBeLessThan(5_000);
    expect(Math.max(...scrapeMs), report).toBeLessThan(3_000);
    expect(
      lags.every((l) => l !== null && l < 1.0),
      report,
    ).toBe(true);

    reals = realsOf(doc);
    for (const ip of [HEALTHY_STATUS, HEALTHY_BOMB]) {
      expect(reals.get(ip), ip).toMatchObject({ state: 'up', ipvsWeight: 1, lastCheck: { ok: true, message: '200 OK' } });
    }
    for (const ip of [NO_UP, UP_FIRST, BOMB]) {
      expect(reals.get(ip), ip).toMatchObject({ state: 'down', lastCheck: { ok: false } });
      expect(reals.get(ip)!.ipvsWeight ?? 0, ip).toBe(0); // never up: not in the table, or quiesced
      // Checked again and again, not once and then stuck.
      expect(asked.get(ip)!.filter((t) => t >= from).length, ip).toBeGreaterThanOrEqual(2);
    }
    // No "up" at all: known not to match without running the regex; the body is the message, as in the original.
    expect(reals.get(NO_UP)!.lastCheck!.message).toBe(STATUS_BODY);
    expect(reals.get(NO_UP)!.lastCheck!.durationMs).toBeLessThan(CHECKTIMEOUT_S * 1000);
    // Matches that cannot finish: down at the checktimeout, as the original's alarm reads.
    for (const ip of [UP_FIRST, BOMB]) {
      const last = reals.get(ip)!.lastCheck!;
      expect(last.message, ip).toBe('500 Timeout Alarm');
      expect(last.durationMs, ip).toBeGreaterThanOrEqual(CHECKTIMEOUT_S * 1000 - 100);
      expect(last.durationMs, ip).toBeLessThan(CHECKTIMEOUT_S * 1000 + 1500);
    }

    const stopped = await run(cfg, 'stop');
    expect(stopped.exitCode, String(stopped.stderr)).toBe(0);
  }, 90_000);
});

describe('a line-based check whose line makes receive backtrack for ever', () => {
  it('simpletcp is down at its timeout with the reason, and the event loop stays free', async () => {
    const v = testVirtual({ service: 'simpletcp', negotiatetimeout: 1, checktimeout: 5, request: '/', receive: '(a+)+$' });
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const r = await runCheck(simpletcpChecker, testTarget(v, LINES, lineServer.port));
    h.disable();
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/^receive did not finish matching (\d+ bytes within \d+\.\d s|line 1)$/);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(900);
    expect(r.elapsedMs).toBeLessThan(3_000);
    expect(h.max / 1e6).toBeLessThan(400);
  }, 30_000);
});
