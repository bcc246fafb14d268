// pop and pops against Debian's dovecot (USER/PASS, CRAM-MD5, APOP, TLS), and
// misbehaving peers on 127.0.13.x.
import { createHmac } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPopChecker, popChecker, popsChecker } from '../../checks/pop.js';
import type { VirtualService } from '../../lib/config/model.js';
import { flood, makeTarget, startRawServer, timed, type RawServer } from './web-fixtures.js';
import { DOVECOT, haveBinary, makeCertificates, makeTempDir, startDovecot, type Certificates, type Daemon } from './web-servers.js';

const MAIN = '127.0.13.1';
const OTHER_NAME = '127.0.13.2'; // same dovecot, an address the certificate does not name
const SASL = '127.0.13.3'; // APOP and CRAM-MD5 offered
const CRAM = '127.0.13.5'; // CRAM-MD5 offered, no APOP timestamp
const PEERS = '127.0.13.4';
const NOBODY = '127.0.13.250';
const enabled = haveBinary(DOVECOT);
const daemons: Daemon[] = [];
const peers: RawServer[] = [];
let certDir: string;
let certs: Certificates;

beforeAll(async () => {
  if (!enabled) return;
  certDir = makeTempDir('pop-certs');
  certs = makeCertificates(certDir, [MAIN]);
  const users = { alice: 'secret', bob: 'p"w\\x' };
  daemons.push(
    ...(await Promise.all([
      startDovecot(makeTempDir('dovecot-pop'), {
        address: `${MAIN}, ${OTHER_NAME}`,
        pop3Port: 13110,
        pop3sPort: 13995,
        cert: certs.signedCert,
        key: certs.signedKey,
        users,
      }),
      startDovecot(makeTempDir('dovecot-pop-sasl'), {
        address: SASL,
        pop3Port: 13110,
        pop3sPort: 13995,
        cert: certs.selfCert,
        key: certs.selfKey,
        users,
        authMechanisms: 'plain login cram-md5 apop',
      }),
      startDovecot(makeTempDir('dovecot-pop-cram'), {
        address: CRAM,
        pop3Port: 13110,
        cert: certs.selfCert,
        key: certs.selfKey,
        users,
        authMechanisms: 'plain login cram-md5',
      }),
    ])),
  );
});

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all(peers.map((p) => p.close()));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

const t = (ip: string, port: number, v: Partial<VirtualService> = {}) =>
  makeTarget({ service: 'pop', negotiatetimeout: 3, ...v }, { ip, port });
const alice = { login: 'alice', passwd: 'secret' };

describe.runIf(enabled)('pop against dovecot', () => {
  it('logs in with USER/PASS: up', async () => {
    const r = await popChecker.probe(t(MAIN, 13110, alice), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toBe(`${MAIN}:13110: logged in as alice with USER/PASS`);
  });

  it('without login: up on the +OK greeting', async () => {
    const r = await popChecker.probe(t(MAIN, 13110), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true });
    expect(r.detail).toBe(`${MAIN}:13110: +OK greeting (no login configured)`);
  });

  it('bad password: down', async () => {
    // dovecot delays further logins from an IP after a failure: fail from our own source address.
    const pop = createPopChecker('pop', { localAddress: '127.0.13.101' });
    const r = await pop.probe(t(MAIN, 13110, { login: 'alice', passwd: 'wrong' }), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/login as alice failed: PASS: -ERR/);
  });

  it('uses APOP when the greeting has a timestamp, CRAM-MD5 when CAPA lists it', async () => {
    const apop = await popChecker.probe(t(SASL, 13110, alice), AbortSignal.timeout(3000));
    expect(apop).toMatchObject({ ok: true });
    expect(apop.detail).toBe(`${SASL}:13110: logged in as alice with APOP`);
    // A password with quotes and a backslash still works (no quoting in POP3).
    const bob = await popChecker.probe(t(SASL, 13110, { login: 'bob', passwd: 'p"w\\x' }), AbortSignal.timeout(3000));
    expect(bob).toMatchObject({ ok: true });
    const cram = await popChecker.probe(t(CRAM, 13110, alice), AbortSignal.timeout(3000));
    expect(cram).toMatchObject({ ok: true });
    expect(cram.detail).toBe(`${CRAM}:13110: logged in as alice with AUTH CRAM-MD5`);
  });

  it('on a failed login falls through APOP, CRAM-MD5 and USER/PASS like Mail::POP3Client', async () => {
    const peer = await startRawServer(PEERS, 13010, (s) => {
      s.write('+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n');
      s.on('data', (d: Buffer) => {
        const line = d.toString().trim();
        if (line === 'CAPA') s.write('+OK\r\nUSER\r\nSASL PLAIN CRAM-MD5\r\n.\r\n');
        else if (line === 'AUTH CRAM-MD5') s.write('+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n');
        else if (line.startsWith('USER')) s.write('+OK\r\n');
        else if (line !== 'QUIT') s.write('-ERR no\r\n');
      });
    });
    peers.push(peer);
    const r = await popChecker.probe(t(PEERS, 13010, { login: 'tim', passwd: 'tanstaaf' }), AbortSignal.timeout(2000));
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(`${PEERS}:13010: login as tim failed: APOP: -ERR no; AUTH CRAM-MD5: -ERR no; PASS: -ERR no`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // RFC 1939's APOP example digest; the CRAM-MD5 reply is "user HMAC-MD5(passwd, challenge)".
    const challenge = Buffer.from('PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+', 'base64');
    const hmac = createHmac('md5', 'tanstaaf').update(challenge).digest('hex');
    expect(peer.received).toEqual([
      'APOP tim c4c9334bac560ecc979e58001b3e22fb',
      'CAPA',
      'AUTH CRAM-MD5',
      Buffer.from(`tim ${hmac}`).toString('base64'),
      'USER tim',
      'PASS tanstaaf',
      'QUIT',
    ]);
  });

  it('refused: down even without login (fixed false-up)', async () => {
    const r = await popChecker.probe(t(NOBODY, 13110), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`${NOBODY}:13110: connection refused`);
  });
});

describe.runIf(enabled)('pops: chain and host (IP) verified, as IO::Socket::SSL does', () => {
  it('is up with a trusted chain whose certificate names the IP', async () => {
    const pops = createPopChecker('pops', { trust: { ca: readFileSync(certs.caCert) } });
    const r = await pops.probe(t(MAIN, 13995, { service: 'pops', ...alice }), AbortSignal.timeout(3000));
    expect(r.detail).toBe(`${MAIN}:13995: logged in as alice with USER/PASS`);
    expect(r).toMatchObject({ ok: true, message: '-' });
  });

  it('is down when the certificate does not name the IP', async () => {
    const pops = createPopChecker('pops', { trust: { ca: readFileSync(certs.caCert) }, localAddress: '127.0.13.102' });
    const r = await pops.probe(t(OTHER_NAME, 13995, { service: 'pops', ...alice }), AbortSignal.timeout(3000));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/hostname verification failed/);
  });

  it('is down with the system trust (private CA, self-signed)', async () => {
    for (const ip of [MAIN, SASL]) {
      const r = await popsChecker.probe(t(ip, 13995, { service: 'pops', ...alice }), AbortSignal.timeout(3000));
      expect(r.ok, ip).toBe(false);
      expect(r.detail, ip).toMatch(/certificate verify failed/);
    }
  });
});

describe('pop against misbehaving peers', () => {
  it('an -ERR greeting is down even without login (fixed false-up)', async () => {
    peers.push(await startRawServer(PEERS, 13001, (s) => s.end('-ERR busy\r\n')));
    const r = await popChecker.probe(t(PEERS, 13001), AbortSignal.timeout(2000));
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(`${PEERS}:13001: greeting is not +OK: -ERR busy`);
  });

  it('hangs after accept: down at the deadline', async () => {
    peers.push(await startRawServer(PEERS, 13002, () => undefined));
    const [r, ms] = await timed(() => popChecker.probe(t(PEERS, 13002), AbortSignal.timeout(400)));
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(`${PEERS}:13002: timed out`);
    expect(ms).toBeLessThan(1000);
  });

  it('a greeting line without end: down, bounded', async () => {
    const peer = await startRawServer(PEERS, 13003, (s) => flood(s, '+OK ', 100 * 1024 * 1024));
    peers.push(peer);
    const [r, ms] = await timed(() => popChecker.probe(t(PEERS, 13003), AbortSignal.timeout(3000)));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/line longer than 8192 bytes|more than 262144 bytes/);
    expect(ms).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.bytesWritten()).toBeLessThan(32 * 1024 * 1024);
  });
});
