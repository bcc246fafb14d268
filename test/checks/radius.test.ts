// service=radius against Debian's freeradius on 127.0.23.1:18120 (client 127.0.0.0/8,
// require_message_authenticator = yes), plus hand-written peers on 127.0.23.2.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import radiusLib from 'radius';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessRequest, radiusChecker as radius, verifyReply } from '../../checks/radius.js';
import { LATE_MS, run, testTarget, testVirtual, udpServer, type UdpServer } from '../support/data-servers.js';
import { freeradiusBinary, RADIUS_PW, RADIUS_SECRET, RADIUS_USER, startFreeradius, type Running } from '../support/data-daemons.js';

const HOST = '127.0.23.1';
const PEERS = '127.0.23.2';
const PORT = 18120;
const freeradius = freeradiusBinary();
let server: Running | undefined;

const v = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({
    service: 'radius',
    protocol: 'udp',
    id: 'udp:10.0.0.1:1812',
    login: RADIUS_USER,
    passwd: RADIUS_PW,
    secret: RADIUS_SECRET,
    checktimeout: 2,
    negotiatetimeout: 1,
    ...over,
  });

/** A reply with a correct Response Authenticator (and no Message-Authenticator). */
function reply(code: number, request: Buffer, secret: string): Buffer {
  const packet = Buffer.alloc(20);
  packet[0] = code;
  packet[1] = request[1] as number;
  packet.writeUInt16BE(20, 2);
  request.copy(packet, 4, 4, 20);
  createHash('md5').update(packet).update(secret).digest().copy(packet, 4);
  return packet;
}

describe('radius: packets', () => {
  it('has the original default port and runs under checktimeout', () => {
    expect(radius.defaultPort).toBe(1812);
    expect(radius.timeoutSeconds(testVirtual({ checktimeout: 3, negotiatetimeout: 9 }))).toBe(3);
  });

  it('sends User-Name, hidden User-Password, NAS-IP-Address and a Message-Authenticator', () => {
    const req = accessRequest('alice', 'pw', 'sec', '127.0.0.1', 7);
    expect(req[0]).toBe(1);
    expect(req[1]).toBe(7);
    const types: number[] = [];
    for (let at = 20; at < req.length; at += req[at + 1] as number) types.push(req[at] as number);
    expect(types).toEqual([1, 2, 4, 80]);
    expect(req.includes(Buffer.from('pw'))).toBe(false);
  });

  it('verifies the Response Authenticator with the secret', () => {
    const req = accessRequest('alice', 'pw', 'sec', '127.0.0.1', 7);
    expect(verifyReply(reply(2, req, 'sec'), req.subarray(4, 20), 'sec')).toBe(true);
    expect(verifyReply(reply(2, req, 'other'), req.subarray(4, 20), 'sec')).toBe(false);
  });
});

describe.skipIf(!freeradius)('radius against freeradius', () => {
  beforeAll(async () => {
    server = await startFreeradius(freeradius as string, HOST, PORT);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('Access-Accept for valid credentials is up', async () => {
    const r = await run(radius, testTarget(v(), HOST, PORT));
    expect(r).toMatchObject({ ok: true, message: '-', detail: 'Access-Accept' });
  });

  it('the server really requires a Message-Authenticator: a request without one gets no answer', async () => {
    const req = radiusLib.encode({
      code: 'Access-Request',
      secret: RADIUS_SECRET,
      identifier: 9,
      add_message_authenticator: false,
      attributes: [
        ['User-Name', RADIUS_USER],
        ['User-Password', RADIUS_PW],
        ['NAS-IP-Address', '127.0.0.1'],
      ],
    });
    const sock = dgram.createSocket('udp4');
    const answered = await new Promise<boolean>((resolve) => {
      sock.on('message', () => resolve(true));
      setTimeout(() => resolve(false), 500);
      sock.send(req, PORT, HOST);
    });
    sock.close();
    expect(answered).toBe(false);
  });

  it('Access-Reject for a wrong password is down (bad login), and fast', async () => {
    const r = await run(radius, testTarget(v({ passwd: 'wrong' }), HOST, PORT));
    expect(r).toMatchObject({ ok: false, message: '-', detail: 'Access-Reject' });
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });

  it('Access-Reject for an unknown user is down', async () => {
    const r = await run(radius, testTarget(v({ login: 'mallory' }), HOST, PORT));
    expect(r).toMatchObject({ ok: false, detail: 'Access-Reject' });
  });

  it('a wrong shared secret gets no answer (the server drops it): down at negotiatetimeout', async () => {
    const r = await run(radius, testTarget(v({ secret: 'wrongsecret', negotiatetimeout: 0.5 }), HOST, PORT));
    expect(r).toMatchObject({ ok: false, detail: 'no reply within 0.5 s' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(480);
    expect(r.elapsedMs).toBeLessThan(500 + LATE_MS);
  });

  it('a port where nothing listens is down at negotiatetimeout (UDP has no refusal here)', async () => {
    const r = await run(radius, testTarget(v({ negotiatetimeout: 0.5 }), HOST, PORT + 7));
    expect(r).toMatchObject({ ok: false, detail: 'no reply within 0.5 s' });
  });
});

describe('radius against hand-written peers', () => {
  let silent: UdpServer;
  let badAuth: UdpServer;
  let acceptsWithoutMa: UdpServer;
  beforeAll(async () => {
    silent = await udpServer(PEERS, () => undefined);
    badAuth = await udpServer(PEERS, (m) => [reply(2, m, 'not-the-secret')]);
    acceptsWithoutMa = await udpServer(PEERS, (m) => [reply(2, m, RADIUS_SECRET)]);
  });
  afterAll(async () => {
    await Promise.all([silent, badAuth, acceptsWithoutMa].map((s) => s.close()));
  });

  it('the whole check ends at checktimeout when that is shorter than negotiatetimeout', async () => {
    const r = await run(radius, testTarget(v({ checktimeout: 0.5, negotiatetimeout: 5 }), PEERS, silent.port));
    expect(r).toMatchObject({ ok: false, detail: 'timed out' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('an Access-Accept with a bad authenticator is down', async () => {
    const r = await run(radius, testTarget(v(), PEERS, badAuth.port));
    expect(r).toMatchObject({ ok: false, detail: 'Access-Accept with a bad authenticator (wrong secret?)' });
  });

  it('an Access-Accept without Message-Authenticator (older servers) is up', async () => {
    const r = await run(radius, testTarget(v(), PEERS, acceptsWithoutMa.port));
    expect(r).toMatchObject({ ok: true, detail: 'Access-Accept' });
  });
});
