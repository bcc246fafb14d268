// The daemon itself (bin/ldirectord start, fake ipvsadm in the test sandbox) with https
// reals that accept TCP and never complete the TLS handshake, next to a healthy https
// real: over many check intervals the daemon's open fds and RSS stay bounded, the
// stalling servers see every connection closed by the next interval, and the healthy
// real stays up and is checked on time. Addresses: 127.0.132.0/24.
import https from 'node:https';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, sandbox, type Sandbox } from '../cli/ns.js';
import { makeCertificates, makeTempDir, type Certificates } from '../checks/web-servers.js';
import type { StatusDocument } from '../../lib/status/document.js';
import { startHostileServer, type TrackedServer } from './support/hostile-servers.js';

const HEALTHY = '127.0.132.30';
const STALLING = '127.0.132.31';
const HEALTHY_PORT = 8443;
/** Stalling reals: each costs a socket (and a TLS state) per interval when leaked. */
const STALLERS = 8;
const FIRST_STALL_PORT = 9441;
/** Check intervals watched after the warm-up. */
const WATCH_SECONDS = 20;

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

let sb: Sandbox;
let cfg: string;
let certDir: string;
let certs: Certificates;
let healthy: https.Server;
const stallers: TrackedServer[] = [];

beforeAll(async () => {
  if (!canUnshare) return;
  certDir = makeTempDir('hostile-daemon-certs');
  certs = makeCertificates(certDir, [HEALTHY]);
  healthy = https.createServer({ cert: readFileSync(certs.signedCert), key: readFileSync(certs.signedKey) }, (_q, res) => res.end('OK\n'));
  await new Promise<void>((r, j) => healthy.once('error', j).listen(HEALTHY_PORT, HEALTHY, r));
  for (let i = 0; i < STALLERS; i++) {
    stallers.push(await startHostileServer({ host: STALLING, port: FIRST_STALL_PORT + i, mode: 'stall' }));
  }
  sb = sandbox();
  cfg = join(sb.dir, 'lvs.cf');
  const reals = [`    real=${HEALTHY}:${HEALTHY_PORT} masq 1`, ...stallers.map((s) => `    real=${s.host}:${s.port} masq 1`)];
  writeFileSync(
    cfg,
    `checktimeout=1
negotiatetimeout=1
checkinterval=1
quiescent=no
logfile="${join(sb.dir, 'ld.log')}"
virtual=192.0.2.132:443
${reals.join('\n')}
    service=https
    request="/"
    receive="OK"
`,
  );
});

afterAll(async () => {
  if (sb) {
    for (const f of existsSync(sb.piddir) ? readdirSync(sb.piddir) : []) {
      if (!f.endsWith('.pid')) continue;
      const pid = Number(readFileSync(join(sb.piddir, f), 'utf8'));
      try {
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(sb.dir, { recursive: true, force: true });
  }
  for (const s of stallers) await s.close();
  if (healthy) {
    healthy.closeAllConnections();
    await new Promise((r) => healthy.close(r));
  }
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

const run = (...argv: string[]) => sb.run(['node', BIN, ...argv], { env: { SSL_CERT_FILE: certs.caCert } });

async function status(): Promise<StatusDocument> {
  const r = await run(cfg, 'status', '--json');
  return JSON.parse(String(r.stdout)) as StatusDocument;
}

function daemonPid(): number {
  return Number(readFileSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'), 'utf8'));
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canUnshare)('the daemon with https reals that stall the TLS handshake', () => {
  it('keeps its fds and RSS bounded, closes every stalled connection, and checks the healthy real on time', async () => {
    const started = await run(cfg, 'start');
    expect(started.exitCode, String(started.stderr)).toBe(0);
    const pid = daemonPid();
    const healthyReal = async (): Promise<{ state: string; at: number; durationMs: number; ok: boolean } | undefined> => {
      const doc = await status();
      const r = doc.virtuals?.[0]?.reals.find((x) => x.address === `${HEALTHY}:${HEALTHY_PORT}`);
      if (!r?.lastCheck) return undefined;
      return { state: r.state, at: Date.parse(r.lastCheck.at), durationMs: r.lastCheck.durationMs, ok: r.lastCheck.ok };
    };
    // Warm-up: the healthy real comes up, undici and the CA bundle are loaded.
    const until = Date.now() + 15_000;
    let h = await healthyReal();
    while (h?.state !== 'up' && Date.now() < until) {
      await sleep(200);
      h = await healthyReal();
    }
    expect(h?.state).toBe('up');
    await sleep(3000);
    const fds0 = fdCount(pid);
    const rss0 = rssBytes(pid);
    const accepted0 = stallers.reduce((n, s) => n + s.accepted(), 0);
    const lateness: number[] = [];
    let maxOpen = 0;
    for (let t = 0; t < WATCH_SECONDS; t += 2) {
      await sleep(2000);
      const now = Date.now();
      h = await healthyReal();
      expect(h?.state, 'the healthy real stays up').toBe('up');
      expect(h?.ok).toBe(true);
      lateness.push(now - (h?.at ?? 0));
      maxOpen = Math.max(
        maxOpen,
        stallers.reduce((n, s) => n + s.open(), 0),
      );
    }
    const fds1 = fdCount(pid);
    const rss1 = rssBytes(pid);
    const checked = stallers.reduce((n, s) => n + s.accepted(), 0) - accepted0;
    const info =
      `fds ${fds0} -> ${fds1}; rss ${(rss0 / 1048576).toFixed(1)} -> ${(rss1 / 1048576).toFixed(1)} MB; ` +
      `${checked} stalled checks; most open at once ${maxOpen}; healthy check age ${lateness.join(',')} ms`;
    console.log(info);
    // Every stalling real was checked about once per interval...
    expect(checked, info).toBeGreaterThanOrEqual((STALLERS * WATCH_SECONDS) / 3);
    // ...and each connection was closed by its check's deadline: at most one per real (plus
    // one being replaced) is open at any moment; a leak would hold them all.
    expect(maxOpen, info).toBeLessThanOrEqual(2 * STALLERS);
    expect(fds1 - fds0, info).toBeLessThanOrEqual(STALLERS + 4);
    expect(rss1 - rss0, info).toBeLessThan(40 * 1024 * 1024);
    // The healthy real's last check is never older than its interval plus a generous margin.
    for (const age of lateness) expect(age, info).toBeLessThan(1000 + 3000);
    expect((await run(cfg, 'stop')).exitCode).toBe(0);
  }, 120_000);
});
