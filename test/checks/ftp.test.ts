// ftp against Debian's vsftpd (anonymous login, RETR), and misbehaving peers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFtpChecker, ftpChecker } from '../../checks/ftp.js';
import type { VirtualService } from '../../lib/config/model.js';
import { flood, makeTarget, startRawServer, timed, type RawServer } from './web-fixtures.js';
import { haveBinary, makeTempDir, startVsftpd, VSFTPD, type Daemon } from './web-servers.js';

const HOST = '127.0.11.1';
const PEERS = '127.0.11.2';
const NOBODY = '127.0.11.250';
const enabled = haveBinary(VSFTPD);
let vsftpd: Daemon | undefined;
const peers: RawServer[] = [];

beforeAll(async () => {
  if (!enabled) return;
  vsftpd = await startVsftpd(makeTempDir('vsftpd'), HOST, 11021, {
    'hello.txt': 'Hello from FTP\n',
    'big.bin': Buffer.concat([Buffer.from('BIGSTART'), Buffer.alloc(3 * 1024 * 1024, 'z')]),
  });
});

afterAll(async () => {
  await vsftpd?.stop();
  await Promise.all(peers.map((p) => p.close()));
});

const t = (v: Partial<VirtualService>, ip = HOST, port = 11021) =>
  makeTarget({ service: 'ftp', negotiatetimeout: 3, login: 'anonymous', passwd: 'ldirectord@test', ...v }, { ip, port });
const probe = (v: Partial<VirtualService>, ip?: string, port?: number, ms = 3000) =>
  ftpChecker.probe(t(v, ip, port), AbortSignal.timeout(ms));

describe.runIf(enabled)('ftp against vsftpd', () => {
  it('logs in, retrieves the request and matches receive: up', async () => {
    const r = await probe({ request: '/hello.txt', receive: '^Hello from' });
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toBe(`${HOST}:11021: logged in as anonymous; retrieved 15 bytes`);
  });

  it('receive mismatch: down', async () => {
    const r = await probe({ request: '/hello.txt', receive: 'Goodbye' });
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/receive did not match/);
  });

  it('no receive and the default request: up when the login succeeds', async () => {
    const r = await probe({ request: '/', receive: '' });
    expect(r).toMatchObject({ ok: true });
    expect(r.detail).toBe(`${HOST}:11021: logged in as anonymous`);
  });

  it('an empty login logs in as anonymous (Net::FTP)', async () => {
    expect((await probe({ login: '', passwd: '', request: '/hello.txt' })).ok).toBe(true);
  });

  it('bad login: down (the original was up without a receive)', async () => {
    const r = await probe({ login: 'nosuchuser', passwd: 'wrong', request: '/', receive: '' });
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/login as nosuchuser failed: 530/);
  });

  it('a request that cannot be retrieved: down even without receive (fixed false-up)', async () => {
    const r = await probe({ request: '/missing.txt', receive: '' });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/RETR \/missing.txt failed: 550/);
  });

  it('refused: down even without receive (fixed false-up)', async () => {
    const r = await probe({ request: '/', receive: '' }, NOBODY);
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toMatch(/connect failed: .*ECONNREFUSED/);
  });

  it('reads at most maxBytes of a large file and matches that prefix', async () => {
    const small = createFtpChecker({ maxBytes: 64 * 1024 });
    const [r, ms] = await timed(() => small.probe(t({ request: '/big.bin', receive: '^BIGSTART' }), AbortSignal.timeout(3000)));
    expect(r).toMatchObject({ ok: true });
    expect(r.detail).toContain('retrieved 65536 bytes (cut)');
    expect(ms).toBeLessThan(2000);
  });
});

describe('ftp against misbehaving peers', () => {
  it('hangs after accept: down at the deadline', async () => {
    peers.push(await startRawServer(PEERS, 11001, () => undefined));
    const [r, ms] = await timed(() => probe({ request: '/', receive: '' }, PEERS, 11001, 400));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`${PEERS}:11001: timed out during connect`);
    expect(ms).toBeLessThan(1000);
  });

  it('a 530 greeting is down', async () => {
    peers.push(await startRawServer(PEERS, 11002, (s) => s.write('530 not today\r\n')));
    const r = await probe({ request: '/', receive: '' }, PEERS, 11002);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/connect failed: 530/);
  });

  it('floods the control connection: down quickly', async () => {
    const peer = await startRawServer(PEERS, 11003, (s) => flood(s, '220-', 100 * 1024 * 1024));
    peers.push(peer);
    const [r, ms] = await timed(() => probe({ request: '/', receive: '' }, PEERS, 11003, 3000));
    expect(r.ok).toBe(false);
    expect(ms).toBeLessThan(2500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.bytesWritten()).toBeLessThan(48 * 1024 * 1024);
  });
});
