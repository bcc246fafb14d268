// service=simpletcp against small hand-written TCP and UDP servers on 127.0.28.x
// (spec §3.3: send request, half-close, up when a line matches receive).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpletcpChecker } from '../../checks/simpletcp.js';
import {
  closedPort,
  LATE_MS,
  run,
  silentPeer,
  tcpServer,
  testTarget,
  testVirtual,
  udpServer,
  type TcpServer,
  type UdpServer,
  describeMisbehavingPeers,
  haveIPv6Loopback,
} from '../support/data-servers.js';

const HOST = '127.0.28.1';
let echo: TcpServer; // answers after the client half-closes: "got <n> bytes\n" + each line reversed
let status: TcpServer; // "HELLO\nSTATUS: OK\npartial" then close
let quiet: TcpServer; // reads, then closes without a word
let silent: TcpServer;
let udp: UdpServer; // answers "PONG <payload>\n" in two datagrams
let udpSilent: UdpServer;

beforeAll(async () => {
  echo = await tcpServer(HOST, (s, rec) => {
    s.on('end', () => {
      const text = rec.data.toString('utf8');
      s.end(
        `got ${rec.data.length} bytes\n` +
          text
            .split('\n')
            .map((l) => [...l].reverse().join(''))
            .join('\n') +
          '\n',
      );
    });
  });
  status = await tcpServer(HOST, (s) => s.end('HELLO\nSTATUS: OK\npartial'));
  quiet = await tcpServer(HOST, (s) => s.on('end', () => s.end()));
  silent = await silentPeer(HOST);
  udp = await udpServer(HOST, (msg) => [Buffer.from('PO'), Buffer.from(`NG ${msg.toString('utf8')}\n`)]);
  udpSilent = await udpServer(HOST, () => undefined);
});

afterAll(async () => {
  await Promise.all([echo, status, quiet, silent].map((s) => s.close()));
  await Promise.all([udp, udpSilent].map((s) => s.close()));
});

const tcp = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({ service: 'simpletcp', negotiatetimeout: 0.5, checktimeout: 5, ...over });

describe('simpletcp over TCP', () => {
  it('has no default port and times out at negotiatetimeout', () => {
    expect(simpletcpChecker.defaultPort).toBeUndefined();
    expect(simpletcpChecker.timeoutSeconds(testVirtual({ negotiatetimeout: 4, checktimeout: 9 }))).toBe(4);
  });

  it('sends the request without its "/", turns literal \\n into LF, half-closes, and is up on a matching line', async () => {
    const v = tcp({ request: '/abc\\ndef', receive: '^fed$' });
    const r = await run(simpletcpChecker, testTarget(v, HOST, echo.port));
    expect(r).toMatchObject({ ok: true, message: '-' });
    const rec = echo.received.at(-1);
    expect(rec?.data.toString('utf8')).toBe('abc\ndef');
    expect(rec?.ended).toBe(true);
  });

  it('is down when no line matches (receive mismatch)', async () => {
    const r = await run(simpletcpChecker, testTarget(tcp({ request: '/abc', receive: 'STATUS: FAIL' }), HOST, status.port));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/none matched/);
  });

  it('matches the unterminated last line at EOF', async () => {
    const r = await run(simpletcpChecker, testTarget(tcp({ receive: '^partial$' }), HOST, status.port));
    expect(r.ok).toBe(true);
  });

  it('uses Perl regex semantics for receive (\\A, \\z, Perl $ before the newline)', async () => {
    expect((await run(simpletcpChecker, testTarget(tcp({ receive: '\\ASTATUS: OK$' }), HOST, status.port))).ok).toBe(true);
    expect((await run(simpletcpChecker, testTarget(tcp({ receive: '\\ASTATUS: OK\\z' }), HOST, status.port))).ok).toBe(false);
  });

  it('takes the per-real request and receive over the virtual ones', async () => {
    const v = tcp({ request: '/nothing', receive: 'never' });
    const r = await run(simpletcpChecker, testTarget(v, HOST, echo.port, { request: '/olleh', receive: '^hello$' }));
    expect(r.ok).toBe(true);
  });

  it('with an empty receive, any line is up, and no data at all is down', async () => {
    expect((await run(simpletcpChecker, testTarget(tcp({ receive: '' }), HOST, status.port))).ok).toBe(true);
    const r = await run(simpletcpChecker, testTarget(tcp({ receive: '' }), HOST, quiet.port));
    expect(r).toMatchObject({ ok: false, detail: 'end of data after 0 line(s), none matched' });
  });

  it('is down when the connection is refused', async () => {
    const r = await run(simpletcpChecker, testTarget(tcp({ receive: 'x' }), HOST, await closedPort(HOST)));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });

  it('is down at negotiatetimeout when the server never answers', async () => {
    const r = await run(simpletcpChecker, testTarget(tcp({ receive: 'x' }), HOST, silent.port));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/^timed out/);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });
});

describe('simpletcp over UDP (udp virtuals)', () => {
  const udpV = (over: Parameters<typeof testVirtual>[0] = {}) => tcp({ protocol: 'udp', id: 'udp:10.0.0.1:53', ...over });

  it('sends one datagram and reads the replies as a stream of lines', async () => {
    const r = await run(simpletcpChecker, testTarget(udpV({ request: '/ping', receive: '^PONG ping$' }), HOST, udp.port));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(udp.received.at(-1)?.toString('utf8')).toBe('ping');
  });

  it('is down at negotiatetimeout when no line matches', async () => {
    const r = await run(simpletcpChecker, testTarget(udpV({ request: '/ping', receive: 'PANG' }), HOST, udp.port));
    expect(r.ok).toBe(false);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('is down at negotiatetimeout when nothing answers', async () => {
    const r = await run(simpletcpChecker, testTarget(udpV({ request: '/ping', receive: '' }), HOST, udpSilent.port));
    expect(r).toMatchObject({ ok: false, detail: 'timed out after 0 line(s), none matched' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });
});

describeMisbehavingPeers(
  'simpletcp',
  simpletcpChecker,
  testVirtual({ service: 'simpletcp', request: '/hi', receive: 'never', negotiatetimeout: 0.5 }),
  '127.0.28.9',
);

describe('LineReader (the bounded readline behind simpletcp and sip)', () => {
  it('splits like Perl readline, keeps "\\n", and hands out overlong lines in MAX_LINE_BYTES pieces', async () => {
    const { LineSplitter: LineReader, MAX_LINE_BYTES } = await import('../../checks/io/lines.js');
    const r = new LineReader();
    const text = (bufs: Buffer[]): string[] => bufs.map((b) => b.toString('latin1'));
    expect(text(r.push(Buffer.from('a\r\nb')))).toEqual(['a\r\n']);
    expect(text(r.push(Buffer.from('c\n\nd')))).toEqual(['bc\n', '\n']);
    expect(r.end()?.toString()).toBe('d');
    expect(r.end()).toBeUndefined();
    const long = new LineReader();
    const pieces = long.push(Buffer.alloc(MAX_LINE_BYTES * 2 + 10, 'y'));
    expect(pieces.map((p) => p.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES]);
    expect(text(long.push(Buffer.from('z\n')))).toEqual(['y'.repeat(10) + 'z\n']);
    const straddling = new LineReader();
    straddling.push(Buffer.alloc(MAX_LINE_BYTES - 1, 'q'));
    expect(straddling.push(Buffer.from('rs\n')).map((p) => p.length)).toEqual([MAX_LINE_BYTES, 2]);
  });
});

describe('simpletcp over IPv6 (::1)', () => {
  let v6 = false;
  let server: TcpServer | undefined;
  beforeAll(async () => {
    v6 = await haveIPv6Loopback();
    if (v6) server = await tcpServer('::1', (s) => s.on('end', () => s.end('READY\n')));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('TCP to [::1]: up on a matching line', async (ctx) => {
    if (!v6 || !server) return ctx.skip();
    const r = await run(simpletcpChecker, testTarget(tcp({ request: '/x', receive: '^READY' }), '::1', server.port));
    expect(r).toMatchObject({ ok: true, message: '-' });
  });
});
