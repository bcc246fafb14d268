// The status listeners under hostile local clients, on the daemon run for real
// (`ldirectord <cfg> start` in the test sandbox, fake ipvsadm): 200 connections
// that never send a byte, a few slowloris requests trickled a byte at a time and a
// client that asks and never reads must not keep /status, /metrics or
// `status --json` from answering promptly, and the daemon's descriptors come back
// to their baseline once the clients go. The hostile clients reopen every
// connection the daemon drops, one second later, as a local user keeping the
// listener blinded would. Addresses: 127.0.133.0/24.
import http from 'node:http';
import net from 'node:net';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, sandbox, type Sandbox } from '../cli/ns.js';
import { askDaemon } from '../../lib/status/control-client.js';
import { StatusListener } from '../../lib/status/http-listener.js';
import type { StatusDocument } from '../../lib/status/document.js';
import { fdCount, idleClients, nonReaders, tricklers, type Crowd } from './support/status-listener-clients.js';

const LISTEN = '127.0.133.1';
const STATUS_PORT = 9133;
const REALS = ['127.0.133.2', '127.0.133.3'];
const REAL_PORT = 8133;
/** How long the listeners are watched under attack, and how fast each answer must come. */
const ATTACK_MS = 10_000;
const PROMPT_MS = 2_000;

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

const servers: net.Server[] = [];
let sb: Sandbox;
let cfg: string;
let pid: number;

const run = (...argv: string[]) => sb.run(['node', BIN, ...argv]);
const socketFile = () => join(sb.piddir, 'ldirectord.lvs.cf.sock');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  if (!canUnshare) return;
  for (const ip of REALS) {
    const s = net.createServer((c) => c.destroy());
    await new Promise<void>((r, j) => s.once('error', j).listen(REAL_PORT, ip, r));
    servers.push(s);
  }
  sb = sandbox();
  cfg = join(sb.dir, 'lvs.cf');
  writeFileSync(
    cfg,
    `checktimeout=2
checkinterval=1
quiescent=yes
logfile="${join(sb.dir, 'ld.log')}"
statusaddress=${LISTEN}:${STATUS_PORT}
virtual=192.0.2.133:80
    real=${REALS[0]}:${REAL_PORT} masq 1
    real=${REALS[1]}:${REAL_PORT} masq 1
    checktype=connect
`,
  );
  const r = await run(cfg, 'start');
  expect(r.exitCode, String(r.stderr)).toBe(0);
  pid = Number(readFileSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'), 'utf8'));
  const until = Date.now() + 15_000;
  while (Date.now() < until && (await get('/status').catch(() => undefined))?.status !== 200) await sleep(100);
});

afterAll(async () => {
  for (const f of existsSync(sb?.piddir ?? '') ? readdirSync(sb.piddir) : []) {
    if (!f.endsWith('.pid')) continue;
    try {
      process.kill(Number(readFileSync(join(sb.piddir, f), 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (sb) rmSync(sb.dir, { recursive: true, force: true });
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** One GET on a fresh connection, as a scraper makes it; rejects after `timeoutMs`. */
function get(path: string, timeoutMs = PROMPT_MS): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: LISTEN, port: STATUS_PORT, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Every answer from `ask` over `ms`, one after the other, as {ok, ms, why}. */
async function probe(ms: number, ask: () => Promise<unknown>): Promise<{ ok: boolean; ms: number; why?: string }[]> {
  const out: { ok: boolean; ms: number; why?: string }[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const t0 = performance.now();
    try {
      await ask();
      out.push({ ok: true, ms: Math.round(performance.now() - t0) });
    } catch (e) {
      out.push({ ok: false, ms: Math.round(performance.now() - t0), why: (e as Error).message });
    }
    await sleep(200);
  }
  return out;
}

/** Waits until the daemon holds no more descriptors than `baseline` (+ a check or two in flight). */
async function fdsBackTo(baseline: number): Promise<number> {
  const until = Date.now() + 15_000;
  let n = await fdCount(pid);
  while (n > baseline + 4 && Date.now() < until) {
    await sleep(250);
    n = await fdCount(pid);
  }
  return n;
}

async function stopAll(crowds: Crowd[]): Promise<void> {
  await Promise.all(crowds.map((c) => c.stop()));
}

describe.skipIf(!canUnshare)('status listeners shed idle and slow clients', () => {
  it('statusaddress: /status and /metrics answer promptly under 200 idle connections, slowloris and a non-reader', async () => {
    const baseline = await fdCount(pid);
    const target = { host: LISTEN, port: STATUS_PORT };
    // A thousand pipelined scrapes, never read: answering them all at once would
    // keep the daemon busy rendering /metrics for seconds.
    const scrape = `GET /metrics HTTP/1.1\r\nHost: ${LISTEN}\r\n\r\n`;
    const crowds = [
      idleClients(target, 200),
      tricklers(target, 5, `GET /status HTTP/1.1\r\nHost: ${LISTEN}\r\n`, 'X-Slow: 1\r\n'),
      nonReaders(target, 1, scrape.repeat(1000)),
    ];
    let answers: { ok: boolean; ms: number; why?: string }[];
    try {
      await sleep(1000); // the crowd is in place
      answers = await probe(ATTACK_MS, async () => {
        const s = await get('/status');
        const daemon = s.status === 200 ? (JSON.parse(s.body) as StatusDocument).daemon : undefined;
        if (daemon === undefined || !('pid' in daemon) || daemon.pid !== pid)
          throw new Error(`/status: ${s.status} ${s.body.slice(0, 200)}`);
        const m = await get('/metrics');
        if (m.status !== 200 || !/^ldirectord_real_up\{/m.test(m.body)) throw new Error(`/metrics: ${m.status}`);
      });
    } finally {
      await stopAll(crowds);
    }
    const slow = answers.filter((a) => !a.ok || a.ms > 2 * PROMPT_MS);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(slow, JSON.stringify(answers)).toEqual([]);
    expect(await fdsBackTo(baseline)).toBeLessThanOrEqual(baseline + 4);
    expect((await get('/status')).status).toBe(200);
  }, 60_000);

  it('control socket: status --json answers promptly under 200 idle clients, tricklers and a non-reader', async () => {
    const baseline = await fdCount(pid);
    const target = { path: socketFile() };
    const crowds = [idleClients(target, 200), tricklers(target, 5, 'sta', 't'), nonReaders(target, 1, 'status\n')];
    let answers: { ok: boolean; ms: number; why?: string }[];
    const cli: { code: number | undefined; answered: boolean; ms: number; stderr?: string }[] = [];
    try {
      await sleep(1000);
      // the command line's own request, timed without a process start-up
      answers = await probe(ATTACK_MS / 2, async () => {
        const doc = JSON.parse(await askDaemon(socketFile(), 'status', PROMPT_MS)) as StatusDocument;
        if (!('pid' in doc.daemon) || doc.daemon.pid !== pid || !doc.virtuals) throw new Error(JSON.stringify(doc).slice(0, 200));
      });
      // and `status --json` itself (its 5 s bound on the answer included)
      const until = Date.now() + ATTACK_MS / 2;
      while (Date.now() < until) {
        const t0 = Date.now();
        const r = await run(cfg, 'status', '--json');
        let answered = false;
        try {
          answered = (JSON.parse(String(r.stdout)) as StatusDocument).virtuals !== undefined;
        } catch {
          // no document
        }
        cli.push({ code: r.exitCode, answered, ms: Date.now() - t0, ...(answered ? {} : { stderr: String(r.stderr) }) });
      }
    } finally {
      await stopAll(crowds);
    }
    expect(
      answers.filter((a) => !a.ok || a.ms > PROMPT_MS),
      JSON.stringify(answers),
    ).toEqual([]);
    expect(cli.length).toBeGreaterThanOrEqual(1);
    expect(
      cli.filter((c) => c.code !== 0 || !c.answered),
      JSON.stringify(cli),
    ).toEqual([]);
    expect(await fdsBackTo(baseline)).toBeLessThanOrEqual(baseline + 4);
  }, 60_000);
});

// A /metrics of tens of thousands of series is larger than the ~4 MB a loopback
// connection buffers, which a small test daemon's is not: the listener on its own,
// with such a body, shows that a client that never reads it is dropped.
describe('a client that never reads a large /metrics answer', () => {
  it('is dropped within the answer deadline, and the listener answers others meanwhile', async () => {
    const big = `# ${'x'.repeat(99)}\n`.repeat(160_000); // 16 MB
    const l = new StatusListener(
      { status: () => '{"schema":1}\n', metrics: async () => ({ contentType: 'text/plain', body: big }) },
      () => undefined,
    );
    const address = { host: LISTEN, port: STATUS_PORT + 1, family: 4 as const };
    await l.bind(address);
    try {
      const t0 = Date.now();
      const reader = net.connect(address.port, address.host);
      reader.on('error', () => undefined);
      reader.pause();
      reader.write(`GET /metrics HTTP/1.1\r\nHost: ${LISTEN}\r\n\r\n`);
      await sleep(500);
      const others = await probe(2_000, async () => {
        const res = await fetch(`http://${LISTEN}:${address.port}/status`, { signal: AbortSignal.timeout(PROMPT_MS) });
        if (res.status !== 200) throw new Error(String(res.status));
        await res.text();
      });
      expect(
        others.filter((a) => !a.ok),
        JSON.stringify(others),
      ).toEqual([]);
      // Past the answer deadline (10 s) the listener has dropped it: reading now yields
      // what the kernel still held for it, not the whole answer, and then the end.
      await sleep(Math.max(0, t0 + 13_000 - Date.now()));
      let received = 0;
      const ended = new Promise<boolean>((r) => {
        reader.once('close', () => r(true));
        setTimeout(() => r(false), 10_000);
      });
      reader.on('data', (d: Buffer) => (received += d.length));
      reader.resume();
      expect(await ended).toBe(true);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThan(big.length);
    } finally {
      await l.close();
    }
  }, 60_000);
});
