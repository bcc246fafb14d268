// Hostile real servers against every checker that talks TCP (or TLS): each scenario runs
// many checks in a child process (the built code, under the daemon's own deadline slots)
// next to a healthy real of the same kind, and asserts that every check ends on time
// with a fitting message, that the checker releases every socket (the server sees them
// all closed, the child's fds and handles are back at their baseline) and that RSS does
// not grow with the number of checks. Addresses: 127.0.132.0/24.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates, makeTempDir, type Certificates } from '../checks/web-servers.js';
import {
  HEALTHY_LDAP_DN,
  havePython,
  startHealthyServer,
  startHostileServer,
  startUnacceptingListener,
  type HealthyProtocol,
  type HostileMode,
  type TlsIdentity,
  type TrackedServer,
} from './support/hostile-servers.js';
import { startBatchChild, type BatchChild, type CheckerSpec, type RunResult, type TargetSpec } from './support/hostile-check-child.js';

const HOSTILE = '127.0.132.10';
const HEALTHY = '127.0.132.2';
const UNACCEPTING = '127.0.132.11';
/** The hostile checks' deadline (checktimeout and negotiatetimeout too). */
const TIMEOUT_MS = 400;
/** How late a check may end on a loaded 2-core machine. */
const LATE_MS = 1500;
const HEALTHY_TIMEOUT_MS = 5000;
/** RSS growth allowed from the warm-up measurement to the end of a run (a leak of a TLS context per check is ~100 times this). */
const RSS_SLACK = 24 * 1024 * 1024;
/**
 * Endless bodies: ten checks reading 1 MiB each at once (through TLS buffers) leave the
 * allocator's high-water mark rising for a while without any leak (the heap stays flat,
 * which HEAP_SLACK asserts).
 */
const ENDLESS_RSS_SLACK = 64 * 1024 * 1024;
/** Growth of the JS heap and external memory (after a full GC) allowed over the same span. */
const HEAP_SLACK = 8 * 1024 * 1024;

let child: BatchChild;
let certDir: string;
let certs: Certificates;
let identity: TlsIdentity;
let python = false;
let nextPort = 21000;
const port = (): number => nextPort++;

beforeAll(async () => {
  certDir = makeTempDir('hostile-certs');
  certs = makeCertificates(certDir, [HOSTILE, HEALTHY]);
  identity = { cert: readFileSync(certs.signedCert), key: readFileSync(certs.signedKey) };
  python = await havePython();
  child = await startBatchChild();
});

afterAll(async () => {
  await child?.close();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

interface Scenario {
  readonly label: string;
  readonly mode: HostileMode | 'unaccepted';
  /** Server speaks TLS (the mode then applies after the handshake). */
  readonly tls?: boolean;
  readonly head?: string;
  readonly fill?: string;
  /** What a check's detail (or message) says. */
  readonly says: RegExp;
  /** connect: an accepted connection is up, whatever comes after ('either': a reset may come first). */
  readonly up?: boolean | 'either';
  readonly count?: number;
  readonly concurrency?: number;
  /** RSS growth allowed, when not RSS_SLACK. */
  readonly rssSlack?: number;
}

interface Suite {
  readonly checker: string;
  readonly tlsClient?: boolean;
  readonly healthy: {
    readonly protocol: HealthyProtocol;
    readonly checker: string;
    readonly tls?: boolean;
    readonly target?: Partial<TargetSpec>;
  };
  readonly target?: Partial<TargetSpec>;
  readonly scenarios: readonly Scenario[];
}

const TIMED_OUT = /timed out|Timeout|No answer/i;
const CLOSED = /closed|reset|ECONNRESET|EPIPE|socket hang up|disconnected|Connection failed|other side|FIN packet/i;

/** The TCP-level faults every checker meets alike. */
function common(
  o: {
    trickleHead?: string;
    trickleFill?: string;
    endlessHead?: string;
    endlessFill?: string;
    garbage?: RegExp;
    endless?: RegExp;
    trickle?: RegExp;
    close?: RegExp;
    reset?: RegExp;
  } = {},
): Scenario[] {
  return [
    { label: 'accepts and never answers', mode: 'stall', says: TIMED_OUT },
    { label: 'trickles a byte every 50 ms', mode: 'trickle', head: o.trickleHead, fill: o.trickleFill, says: o.trickle ?? TIMED_OUT },
    {
      label: 'sends without end',
      mode: 'endless',
      head: o.endlessHead,
      fill: o.endlessFill,
      says: o.endless ?? /./,
      concurrency: 10,
      count: 150,
      rssSlack: ENDLESS_RSS_SLACK,
    },
    { label: 'resets right after accept', mode: 'reset', says: o.reset ?? CLOSED },
    { label: 'sends garbage', mode: 'garbage', says: o.garbage ?? /./ },
    { label: 'closes right after accept', mode: 'close', says: o.close ?? CLOSED },
    { label: 'never accepts (SYN unanswered)', mode: 'unaccepted', says: TIMED_OUT, count: 60 },
  ];
}

/** The TLS-level faults of the checkers that speak TLS from the start. */
function tlsFaults(o: { trickleHead?: string; endlessHead?: string; endlessFill?: string; endless?: RegExp } = {}): Scenario[] {
  return [
    { label: 'accepts TCP and stalls the TLS handshake', mode: 'stall', says: TIMED_OUT, count: 300, concurrency: 30 },
    { label: 'answers the TLS hello with garbage', mode: 'garbage', says: /./ },
    { label: 'resets during the TLS handshake', mode: 'reset', says: CLOSED },
    { label: 'closes during the TLS handshake', mode: 'close', says: CLOSED },
    { label: 'completes the TLS handshake, then silence', mode: 'stall', tls: true, says: TIMED_OUT },
    { label: 'completes the TLS handshake, then trickles', mode: 'trickle', tls: true, head: o.trickleHead, says: TIMED_OUT },
    {
      label: 'completes the TLS handshake, then sends without end',
      mode: 'endless',
      tls: true,
      head: o.endlessHead,
      fill: o.endlessFill,
      says: o.endless ?? /./,
      concurrency: 10,
      count: 150,
      rssSlack: ENDLESS_RSS_SLACK,
    },
  ];
}

const HTTP_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n';
const HTTP = {
  trickleHead: 'HTTP/1.1 200 OK\r\nX-Trickle: ',
  endlessHead: HTTP_HEAD,
  endless: /receive did not match|Timeout/,
  garbage: /./,
};

const SUITES: readonly Suite[] = [
  { checker: 'http', target: { receive: 'never-there' }, healthy: { protocol: 'http', checker: 'http' }, scenarios: common(HTTP) },
  {
    checker: 'https',
    tlsClient: true,
    target: { receive: 'never-there' },
    healthy: { protocol: 'http', checker: 'https', tls: true },
    scenarios: tlsFaults({ trickleHead: HTTP.trickleHead, endlessHead: HTTP_HEAD, endless: /receive did not match|Timeout/ }),
  },
  {
    checker: 'connect',
    healthy: { protocol: 'http', checker: 'connect' },
    scenarios: [
      ...(['stall', 'garbage', 'close'] as const).map((mode): Scenario => ({
        label: `${mode}: accepted, so up`,
        mode,
        up: true,
        says: /connected/,
      })),
      { label: 'reset: up if accepted before the reset', mode: 'reset', up: 'either', says: /connected|reset/ },
      { label: 'never accepts (SYN unanswered)', mode: 'unaccepted', says: TIMED_OUT, count: 60 },
    ],
  },
  {
    checker: 'smtp',
    healthy: { protocol: 'smtp', checker: 'smtp' },
    scenarios: common({ trickleHead: '220-', endlessFill: '220-flood\r\n' }),
  },
  {
    checker: 'pop',
    healthy: { protocol: 'pop', checker: 'pop' },
    scenarios: common({ trickleHead: '+OK ', endlessHead: '+OK ', endless: /longer than|more than/ }),
  },
  {
    checker: 'pops',
    tlsClient: true,
    healthy: { protocol: 'pop', checker: 'pops', tls: true },
    scenarios: tlsFaults({ trickleHead: '+OK ', endlessHead: '+OK ', endless: /longer than|more than|timed out/ }),
  },
  {
    checker: 'imap',
    healthy: { protocol: 'imap', checker: 'imap' },
    scenarios: common({ trickleHead: '* OK ', endlessHead: '* OK ', endless: /longer than|more than/ }),
  },
  {
    checker: 'imaps',
    tlsClient: true,
    healthy: { protocol: 'imap', checker: 'imaps', tls: true },
    scenarios: tlsFaults({ trickleHead: '* OK ', endlessHead: '* OK ', endless: /longer than|more than|timed out/ }),
  },
  {
    checker: 'ftp',
    healthy: { protocol: 'ftp', checker: 'ftp' },
    scenarios: common({ trickleHead: '220-', endlessFill: '220-flood\r\n' }),
  },
  {
    checker: 'nntp',
    healthy: { protocol: 'nntp', checker: 'nntp' },
    scenarios: common({ trickle: /greeting: x/, close: /closed without a greeting/, reset: /closed|reset/i }),
  },
  {
    checker: 'simpletcp',
    target: { request: '/hello', receive: 'never-there' },
    healthy: { protocol: 'simpletcp', checker: 'simpletcp', target: { request: '/hello', receive: 'OK' } },
    scenarios: common({ endlessFill: 'no match here\n', close: /none matched|closed/, reset: /reset|closed|none matched/i }),
  },
  {
    checker: 'ldap',
    target: { request: `/${HEALTHY_LDAP_DN}` },
    healthy: { protocol: 'ldap', checker: 'ldap', target: { request: `/${HEALTHY_LDAP_DN}` } },
    scenarios: common({ close: /./, reset: /./ }),
  },
  {
    checker: 'ldaps',
    target: { request: `/${HEALTHY_LDAP_DN}` },
    healthy: { protocol: 'ldap', checker: 'ldaps', tls: true, target: { request: `/${HEALTHY_LDAP_DN}` } },
    scenarios: tlsFaults().map((s) => ({ ...s, says: /./ })),
  },
];

/**
 * What a less common checker says: a timeout for a stall; for pgsql's endless `x…` (a
 * declared message of 2 GB) that the peer is not PostgreSQL, not that it read megabytes.
 */
function lightSays(checker: string, s: Scenario): RegExp {
  if (s.mode === 'stall') return TIMED_OUT;
  if (checker === 'pgsql' && s.mode === 'endless') return /not a PostgreSQL server/;
  return /./;
}

/** Checkers of the less common services: the faults that reach them, fewer checks, an http real as the healthy one. */
const LIGHT: readonly Suite[] = (['ssh', 'sip', 'dns', 'mysql', 'pgsql'] as const).map((checker) => ({
  checker,
  target: {
    request: checker === 'dns' ? '/example.test' : '/SELECT 1',
    receive: checker === 'dns' ? '10.0.0.1' : '',
    virtual: { login: 'checker', passwd: 'pw', database: 'db' },
  },
  healthy: { protocol: 'http', checker: 'http' },
  scenarios: common()
    .filter((s) => s.mode !== 'unaccepted')
    .map((s) => ({ ...s, says: lightSays(checker, s), count: 60, concurrency: 20 })),
}));

async function startServer(
  s: Scenario,
  portNo: number,
): Promise<TrackedServer | { close(): Promise<void>; allClosed(): Promise<boolean>; open(): number }> {
  if (s.mode === 'unaccepted') {
    const l = await startUnacceptingListener(UNACCEPTING, portNo);
    return { close: l.close, allClosed: async () => true, open: () => 0 };
  }
  return startHostileServer({
    host: HOSTILE,
    port: portNo,
    mode: s.mode,
    ...(s.tls ? { tls: identity } : {}),
    ...(s.head !== undefined ? { head: s.head } : {}),
    ...(s.fill !== undefined ? { fill: s.fill } : {}),
  });
}

function summary(r: RunResult): string {
  const details = [
    ...new Set(r.hostile.map((h) => `${h.ok ? 'UP' : 'down'}: ${h.message.slice(0, 80)} | ${h.detail.slice(0, 120)}`)),
  ].slice(0, 4);
  const mb = (n: number): string => (n / 1048576).toFixed(1);
  return (
    `fds ${r.base.fds} -> ${r.afterAll.fds} -> ${r.settled.fds}; rss ${mb(r.afterWarmup.rss)} -> ${mb(r.afterAll.rss)} MB; heap ${mb(r.afterWarmup.heap)} -> ${mb(r.afterAll.heap)} MB; ` +
    `slowest ${Math.max(...r.hostile.map((h) => h.ms))} ms; healthy slowest ${Math.max(0, ...r.healthy.map((h) => h.ms))} ms; ${details.join(' || ')}`
  );
}

const sockets = (res: Record<string, number> | undefined): number => (res?.TCPSocketWrap ?? 0) + (res?.TLSWrap ?? 0) + (res?.TCPWRAP ?? 0);

for (const suite of [...SUITES, ...LIGHT]) {
  describe(`${suite.checker} against hostile reals`, () => {
    let healthy: TrackedServer;
    const healthyPort = port();
    beforeAll(async () => {
      healthy = await startHealthyServer(suite.healthy.protocol, {
        host: HEALTHY,
        port: healthyPort,
        ...(suite.healthy.tls ? { tls: identity } : {}),
      });
    });
    afterAll(async () => {
      await healthy?.close();
    });

    for (const s of suite.scenarios) {
      it(`${s.label}${s.tls ? ' (TLS)' : ''}: every check ends on time and releases its socket`, async (ctx) => {
        if (s.mode === 'unaccepted' && !python) ctx.skip();
        const p = port();
        const server = await startServer(s, p);
        try {
          const trust = suite.tlsClient || suite.healthy.tls ? { trustCa: certs.caCert } : {};
          const checker: CheckerSpec = { name: suite.checker, ...trust };
          const count = s.count ?? 100;
          const r = await child.run({
            checker,
            target: { host: s.mode === 'unaccepted' ? UNACCEPTING : HOSTILE, port: p, ...suite.target },
            count,
            warmup: Math.min(50, Math.floor(count / 3)),
            concurrency: s.concurrency ?? 25,
            timeoutMs: TIMEOUT_MS,
            healthy: {
              checker: { name: suite.healthy.checker, ...trust },
              target: { host: HEALTHY, port: healthyPort, ...suite.healthy.target },
              timeoutMs: HEALTHY_TIMEOUT_MS,
            },
          });
          const info = `${suite.checker} / ${s.label}: ${summary(r)}`;
          // The server must see every connection closed while the client process lives.
          expect(await server.allClosed(5000), `server still holds ${server.open()} connection(s); ${info}`).toBe(true);
          expect(r.hostile.length, info).toBe(count);
          for (const h of r.hostile) {
            if (s.up !== 'either') expect(h.ok, info).toBe(s.up === true);
            expect(h.message, info).not.toMatch(/^(HUNG|THREW)$/);
            // A fault the server answers at once (a reset, a close, garbage) can still reach a
            // loaded machine's client only near the 400 ms deadline: the check then truthfully says
            // it timed out, and only a check that ended before its deadline must name the fault.
            const says = h.ms >= TIMEOUT_MS * 0.75 ? new RegExp(`${s.says.source}|${TIMED_OUT.source}`, 'i') : s.says;
            expect(`${h.message.slice(0, 200)} ${h.detail}`, info).toMatch(says);
            expect(h.ms, info).toBeLessThanOrEqual(TIMEOUT_MS + LATE_MS);
          }
          expect(r.healthy.length, info).toBeGreaterThan(0);
          for (const h of r.healthy) {
            expect(h.ok, `healthy real: ${h.message.slice(0, 200)} ${h.detail}; ${info}`).toBe(true);
            expect(h.ms, info).toBeLessThan(HEALTHY_TIMEOUT_MS / 2);
          }
          expect(r.settled.fds - r.base.fds, info).toBeLessThanOrEqual(2);
          expect(sockets(r.settled.resources), info).toBeLessThanOrEqual(sockets(r.base.resources));
          expect(r.settled.resources?.Timeout ?? 0, info).toBeLessThanOrEqual((r.base.resources?.Timeout ?? 0) + 2);
          expect(r.afterAll.rss - r.afterWarmup.rss, info).toBeLessThan(s.rssSlack ?? RSS_SLACK);
          expect(r.afterAll.heap - r.afterWarmup.heap, info).toBeLessThan(HEAP_SLACK);
        } finally {
          await server.close();
        }
      }, 180_000);
    }
  });
}
