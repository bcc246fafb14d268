// service=sip against small hand-written SIP responders over UDP and TCP on 127.0.27.x
// (spec §3.3: OPTIONS request as the original builds it; up on "SIP/2.0 200 OK").
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sipChecker, sipOptionsRequest } from '../../checks/sip.js';
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

const HOST = '127.0.27.1';
const OK = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x\r\nContent-Length: 0\r\n\r\n';
let udpOk: UdpServer;
let udpNotFound: UdpServer;
let udpTrying: UdpServer;
let udpSilent: UdpServer;
let tcpOk: TcpServer;
let tcpOkThenEof: TcpServer;
let tcpForbidden: TcpServer;
let tcpBlankFirst: TcpServer;
let tcpSilent: TcpServer;

const whenRequestComplete = (then: (s: Socket) => void) => (s: Socket, rec: { data: Buffer }) => {
  s.on('data', () => {
    if (rec.data.includes('\r\n\r\n')) then(s);
  });
};

beforeAll(async () => {
  udpOk = await udpServer(HOST, () => [Buffer.from(OK)]);
  udpNotFound = await udpServer(HOST, () => [Buffer.from('SIP/2.0 404 Not Found\r\n\r\n')]);
  udpTrying = await udpServer(HOST, () => [Buffer.from('SIP/2.0 100 Trying\r\n\r\n'), Buffer.from(OK)]);
  udpSilent = await udpServer(HOST, () => undefined);
  tcpOk = await tcpServer(
    HOST,
    whenRequestComplete((s) => s.write(OK)),
  );
  tcpOkThenEof = await tcpServer(
    HOST,
    whenRequestComplete((s) => s.end('SIP/2.0 200 OK\r\nVia: x\r\n')),
  );
  tcpForbidden = await tcpServer(
    HOST,
    whenRequestComplete((s) => s.write('SIP/2.0 403 Forbidden\r\n\r\n')),
  );
  tcpBlankFirst = await tcpServer(
    HOST,
    whenRequestComplete((s) => s.write('\r\nSIP/2.0 200 OK\r\n\r\n')),
  );
  tcpSilent = await silentPeer(HOST);
});

afterAll(async () => {
  await Promise.all([udpOk, udpNotFound, udpTrying, udpSilent].map((s) => s.close()));
  await Promise.all([tcpOk, tcpOkThenEof, tcpForbidden, tcpBlankFirst, tcpSilent].map((s) => s.close()));
});

const LOGIN = 'ldirectord@vm';
const udpV = testVirtual({ service: 'sip', protocol: 'udp', id: 'udp:10.0.0.1:5060', login: LOGIN, negotiatetimeout: 0.5 });
const tcpV = testVirtual({ service: 'sip', protocol: 'tcp', login: LOGIN, negotiatetimeout: 0.5 });

describe('sip', () => {
  it('has the original default port and times out at negotiatetimeout', () => {
    expect(sipChecker.defaultPort).toBe(5060);
    expect(sipChecker.timeoutSeconds(testVirtual({ negotiatetimeout: 6, checktimeout: 2 }))).toBe(6);
  });

  it('builds the OPTIONS request byte for byte as the original', () => {
    expect(sipOptionsRequest('a@b', { address: '10.1.2.3', port: 5555 }, '0123456789abcdef')).toBe(
      'OPTIONS sip:a@b SIP/2.0\r\n' +
        'Via: SIP/2.0/UDP 10.1.2.3:5555;branch=z9hG4bKhjhs8ass877\r\n' +
        'Max-Forwards: 70\r\n' +
        'To: <sip:a@b>\r\n' +
        'From: <sip:a@b>;tag=1928301774\r\n' +
        'Call-ID: 0123456789abcdef\r\n' +
        'CSeq: 63104 OPTIONS\r\n' +
        'Contact: <sip:a@b>\r\n' +
        'Accept: application/sdp\r\n' +
        'Content-Length: 0\r\n\r\n',
    );
    expect(sipOptionsRequest('x', { address: '::1', port: 1 }, 'c')).toContain('Via: SIP/2.0/UDP [::1]:1;');
  });

  it('UDP: is up on 200 OK, and sends the request from the address it names in Via', async () => {
    const r = await run(sipChecker, testTarget(udpV, HOST, udpOk.port));
    expect(r).toMatchObject({ ok: true, message: '-', detail: 'status: SIP/2.0 200 OK' });
    const req = udpOk.received.at(-1)?.toString('utf8') ?? '';
    expect(req).toMatch(/^OPTIONS sip:ldirectord@vm SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bKhjhs8ass877\r\n/);
    expect(req).toMatch(/\r\nCall-ID: [0-9a-f]{16}\r\n/);
    expect(req.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });

  it('UDP: is down on 404 (wrong status)', async () => {
    const r = await run(sipChecker, testTarget(udpV, HOST, udpNotFound.port));
    expect(r).toMatchObject({ ok: false, detail: 'status: SIP/2.0 404 Not Found' });
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });

  it('UDP: a provisional 100 Trying first is down, as in the original', async () => {
    const r = await run(sipChecker, testTarget(udpV, HOST, udpTrying.port));
    expect(r).toMatchObject({ ok: false, detail: 'status: SIP/2.0 100 Trying' });
  });

  it('UDP: is down at negotiatetimeout when nothing answers (also what a closed UDP port looks like)', async () => {
    const r = await run(sipChecker, testTarget(udpV, HOST, udpSilent.port));
    expect(r).toMatchObject({ ok: false, detail: 'timed out' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('TCP: is up on 200 OK (request over TCP, write side left open)', async () => {
    const r = await run(sipChecker, testTarget(tcpV, HOST, tcpOk.port));
    expect(r).toMatchObject({ ok: true, message: '-' });
    const rec = tcpOk.received.at(-1);
    expect(rec?.data.toString('utf8')).toMatch(/^OPTIONS sip:ldirectord@vm SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;/);
    expect(rec?.ended).toBe(false);
  });

  it('TCP: EOF after a 200 status line (no empty line) is up, as in the original', async () => {
    expect((await run(sipChecker, testTarget(tcpV, HOST, tcpOkThenEof.port))).ok).toBe(true);
  });

  it('TCP: is down on 403', async () => {
    const r = await run(sipChecker, testTarget(tcpV, HOST, tcpForbidden.port));
    expect(r).toMatchObject({ ok: false, detail: 'status: SIP/2.0 403 Forbidden' });
  });

  it('TCP: an empty first line ends the reply with no status: down', async () => {
    const r = await run(sipChecker, testTarget(tcpV, HOST, tcpBlankFirst.port));
    expect(r).toMatchObject({ ok: false, detail: 'no status line' });
  });

  it('TCP: is down when the connection is refused', async () => {
    const r = await run(sipChecker, testTarget(tcpV, HOST, await closedPort(HOST)));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });

  it('TCP: is down at negotiatetimeout when the server never answers', async () => {
    const r = await run(sipChecker, testTarget(tcpV, HOST, tcpSilent.port));
    expect(r).toMatchObject({ ok: false, detail: 'timed out' });
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });
});

describeMisbehavingPeers('sip over TCP', sipChecker, testVirtual({ service: 'sip', login: 'a@b', negotiatetimeout: 0.5 }), '127.0.27.9');

describe('sip over IPv6 (::1)', () => {
  let v6 = false;
  let server: UdpServer | undefined;
  beforeAll(async () => {
    v6 = await haveIPv6Loopback();
    if (v6) server = await udpServer('::1', () => [Buffer.from(OK)]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('UDP to [::1]: up, with the local address bracketed in Via', async (ctx) => {
    if (!v6 || !server) return ctx.skip();
    const r = await run(sipChecker, testTarget(udpV, '::1', server.port));
    expect(r.ok).toBe(true);
    expect(server.received.at(-1)?.toString('utf8')).toMatch(/\r\nVia: SIP\/2\.0\/UDP \[::1\]:\d+;branch=/);
  });
});
