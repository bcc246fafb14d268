// imap and imaps against Debian's dovecot, and misbehaving peers on 127.0.14.x.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapChecker, imapChecker, imapQuote, imapsChecker } from '../../checks/imap.js';
import type { VirtualService } from '../../lib/config/model.js';
import { flood, makeTarget, startRawServer, timed, type RawServer } from './web-fixtures.js';
import { DOVECOT, haveBinary, makeCertificates, makeTempDir, startDovecot, type Certificates, type Daemon } from './web-servers.js';

const MAIN = '127.0.14.1';
const OTHER_NAME = '127.0.14.2';
const PEERS = '127.0.14.4';
const NOBODY = '127.0.14.250';
const enabled = haveBinary(DOVECOT);
let dovecot: Daemon | undefined;
const peers: RawServer[] = [];
let certDir: string;
let certs: Certificates;

beforeAll(async () => {
  if (!enabled) return;
  certDir = makeTempDir('imap-certs');
  certs = makeCertificates(certDir, [MAIN]);
  dovecot = await startDovecot(makeTempDir('dovecot-imap'), {
    address: `${MAIN}, ${OTHER_NAME}`,
    imapPort: 14143,
    imapsPort: 14993,
    cert: certs.signedCert,
    key: certs.signedKey,
    users: { alice: 'secret', bob: 'p"w\\x' },
  });
});

afterAll(async () => {
  await dovecot?.stop();
  await Promise.all(peers.map((p) => p.close()));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

const t = (ip: string, port: number, v: Partial<VirtualService> = {}) =>
  makeTarget({ service: 'imap', negotiatetimeout: 3, ...v }, { ip, port });
const alice = { login: 'alice', passwd: 'secret' };

describe.runIf(enabled)('imap against dovecot', () => {
  it('logs in: up', async () => {
    const r = await imapChecker.probe(t(MAIN, 14143, alice), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toBe(`${MAIN}:14143: logged in as alice`);
  });

  it('quotes user and password', async () => {
    expect(imapQuote('p"w\\x')).toBe('"p\\"w\\\\x"');
    const r = await imapChecker.probe(t(MAIN, 14143, { login: 'bob', passwd: 'p"w\\x' }), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true });
  });

  it('without login: up on the * OK greeting', async () => {
    const r = await imapChecker.probe(t(MAIN, 14143), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true });
    expect(r.detail).toBe(`${MAIN}:14143: * OK greeting (no login configured)`);
  });

  it('bad login: down', async () => {
    const imap = createImapChecker('imap', { localAddress: '127.0.14.101' });
    const r = await imap.probe(t(MAIN, 14143, { login: 'alice', passwd: 'wrong' }), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/login as alice failed: A1 NO .*Authentication failed/);
  });

  it('refused: down at once, with no retry after 5 s (fixed)', async () => {
    const [r, ms] = await timed(() => imapChecker.probe(t(NOBODY, 14143), AbortSignal.timeout(3000)));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`${NOBODY}:14143: connection refused`);
    expect(ms).toBeLessThan(500);
  });
});

describe.runIf(enabled)('imaps: chain and host (IP) verified, as IO::Socket::SSL does', () => {
  it('is up with a trusted chain whose certificate names the IP', async () => {
    const imaps = createImapChecker('imaps', { trust: { ca: readFileSync(certs.caCert) } });
    const r = await imaps.probe(t(MAIN, 14993, { service: 'imaps', ...alice }), AbortSignal.timeout(3000));
    expect(r.detail).toBe(`${MAIN}:14993: logged in as alice`);
    expect(r.ok).toBe(true);
  });

  it('is down when the certificate does not name the IP, or the chain is not trusted', async () => {
    const imaps = createImapChecker('imaps', { trust: { ca: readFileSync(certs.caCert) } });
    const wrongName = await imaps.probe(t(OTHER_NAME, 14993, { service: 'imaps' }), AbortSignal.timeout(3000));
    expect(wrongName.ok).toBe(false);
    expect(wrongName.detail).toMatch(/hostname verification failed/);
    const untrusted = await imapsChecker.probe(t(MAIN, 14993, { service: 'imaps' }), AbortSignal.timeout(3000));
    expect(untrusted.ok).toBe(false);
    expect(untrusted.detail).toMatch(/certificate verify failed/);
  });
});

describe('imap against misbehaving peers', () => {
  it('a * BYE greeting is down', async () => {
    peers.push(await startRawServer(PEERS, 14001, (s) => s.end('* BYE too busy\r\n')));
    const r = await imapChecker.probe(t(PEERS, 14001), AbortSignal.timeout(2000));
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(`${PEERS}:14001: greeting is not * OK: * BYE too busy`);
  });

  it('PREAUTH greeting is up; untagged lines before the tagged reply are skipped', async () => {
    const peer = await startRawServer(PEERS, 14002, (s) => {
      s.write('* PREAUTH ready\r\n');
      s.on('data', (d: Buffer) => {
        if (d.toString().startsWith('A1 LOGIN')) s.write('* CAPABILITY IMAP4rev1\r\nA1 OK done\r\n');
      });
    });
    peers.push(peer);
    const r = await imapChecker.probe(t(PEERS, 14002, alice), AbortSignal.timeout(2000));
    expect(r).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(peer.received).toEqual(['A1 LOGIN "alice" "secret"', 'A2 LOGOUT']);
  });

  it('hangs after accept: down at the deadline', async () => {
    peers.push(await startRawServer(PEERS, 14003, () => undefined));
    const [r, ms] = await timed(() => imapChecker.probe(t(PEERS, 14003), AbortSignal.timeout(400)));
    expect(r.ok).toBe(false);
    expect(r.detail).toBe(`${PEERS}:14003: timed out`);
    expect(ms).toBeLessThan(1000);
  });

  it('floods untagged lines after LOGIN: down, bounded', async () => {
    const peer = await startRawServer(PEERS, 14004, (s) => {
      s.write('* OK ready\r\n');
      s.once('data', () => flood(s, '', 100 * 1024 * 1024, '* x\r\n'));
    });
    peers.push(peer);
    const [r, ms] = await timed(() => imapChecker.probe(t(PEERS, 14004, alice), AbortSignal.timeout(3000)));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/more than 262144 bytes/);
    expect(ms).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.bytesWritten()).toBeLessThan(32 * 1024 * 1024);
  });
});
