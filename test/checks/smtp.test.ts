// smtp and submission against a real SMTP server (the smtp-server package) and
// hand-written misbehaving peers on 127.0.12.x.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { smtpServiceChecker, submissionChecker } from '../../checks/smtp.js';
import { flood, makeTarget, startRawServer, timed, type RawServer } from './web-fixtures.js';

const HOST = '127.0.12.1';
const PEERS = '127.0.12.2';
let server: SMTPServer;
const ehlo: string[] = [];
const peers: RawServer[] = [];

beforeAll(async () => {
  server = new SMTPServer({
    secure: false,
    authOptional: true,
    logger: false,
    banner: 'ldirectord-ts test',
    onConnect: (_session, callback) => {
      callback();
    },
    onClose: (session) => {
      if (session.hostNameAppearsAs) ehlo.push(session.hostNameAppearsAs);
    },
  });
  await new Promise<void>((resolve) => server.listen(12025, HOST, () => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.all(peers.map((p) => p.close()));
});

const t = (host: string, port: number, service: 'smtp' | 'submission' = 'smtp') =>
  makeTarget({ service, negotiatetimeout: 2 }, { ip: host, port });

/** A scripted peer: sends `greeting`, then answers each command with `answer(line)`. */
async function scripted(port: number, greeting: string, answer: (line: string) => string | undefined): Promise<RawServer> {
  const peer = await startRawServer(PEERS, port, (socket) => {
    socket.write(greeting);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        const reply = answer(line);
        if (reply !== undefined) socket.write(reply);
        if (/^QUIT/i.test(line)) socket.end();
      }
    });
  });
  peers.push(peer);
  return peer;
}

describe('smtp', () => {
  it('is up against a real SMTP server, which sees EHLO localhost.localdomain', async () => {
    const r = await smtpServiceChecker.probe(t(HOST, 12025), AbortSignal.timeout(2000));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toBe(`${HOST}:12025: greeting and EHLO accepted`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ehlo).toContain('localhost.localdomain');
  });

  it('submission is the same check', async () => {
    expect(submissionChecker.name).toBe('submission');
    expect(submissionChecker.defaultPort).toBe(587);
    expect((await submissionChecker.probe(t(HOST, 12025, 'submission'), AbortSignal.timeout(2000))).ok).toBe(true);
  });

  it('is down when refused', async () => {
    const r = await smtpServiceChecker.probe(t(PEERS, 12099), AbortSignal.timeout(2000));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`${PEERS}:12099: connection refused`);
  });

  it('is down on a 554 greeting', async () => {
    await scripted(12001, '554 go away\r\n', () => '221 bye\r\n');
    const r = await smtpServiceChecker.probe(t(PEERS, 12001), AbortSignal.timeout(2000));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/Invalid greeting/);
  });

  it('falls back to HELO when EHLO is refused, and never sends STARTTLS', async () => {
    const peer = await scripted(12002, '220 old server\r\n', (line) =>
      /^EHLO/.test(line) ? '502 no EHLO\r\n' : /^HELO/.test(line) ? '250 hello\r\n' : /^QUIT/.test(line) ? '221 bye\r\n' : '500 what\r\n',
    );
    expect(await smtpServiceChecker.probe(t(PEERS, 12002), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
    const tls = await scripted(12003, '220 modern\r\n', (line) =>
      /^EHLO/.test(line) ? '250-modern\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n' : /^QUIT/.test(line) ? '221 bye\r\n' : '500 what\r\n',
    );
    expect(await smtpServiceChecker.probe(t(PEERS, 12003), AbortSignal.timeout(2000))).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.received).toEqual(['EHLO localhost.localdomain', 'HELO localhost.localdomain', 'QUIT']);
    expect(tls.received).toEqual(['EHLO localhost.localdomain', 'QUIT']);
  });

  it('is down when both EHLO and HELO are refused', async () => {
    await scripted(12004, '220 picky\r\n', () => '550 no\r\n');
    const r = await smtpServiceChecker.probe(t(PEERS, 12004), AbortSignal.timeout(2000));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/Invalid HELO/);
  });

  it('hangs after accept: down at the deadline', async () => {
    peers.push(await startRawServer(PEERS, 12005, () => undefined));
    const [r, ms] = await timed(() => smtpServiceChecker.probe(t(PEERS, 12005), AbortSignal.timeout(400)));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`${PEERS}:12005: timed out`);
    expect(ms).toBeLessThan(1000);
  });

  it('floods: down quickly, reading a bounded amount', async () => {
    const peer = await startRawServer(PEERS, 12006, (s) => flood(s, '220-', 100 * 1024 * 1024));
    peers.push(peer);
    const [r, ms] = await timed(() => smtpServiceChecker.probe(t(PEERS, 12006), AbortSignal.timeout(3000)));
    expect(r.ok).toBe(false);
    expect(ms).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.bytesWritten()).toBeLessThan(32 * 1024 * 1024);
  });

  it('reads multi-line replies whole: a 220- greeting, a 250- EHLO reply', async () => {
    const peer = await scripted(12007, '220-first\r\n220-second\r\n220 ready\r\n', (line) =>
      /^EHLO/.test(line) ? '250-one\r\n250-two\r\n250 three\r\n' : /^QUIT/.test(line) ? '221 bye\r\n' : '500 what\r\n',
    );
    const r = await smtpServiceChecker.probe(t(PEERS, 12007), AbortSignal.timeout(2000));
    expect(r).toMatchObject({ ok: true, detail: `${PEERS}:12007: greeting and EHLO accepted` });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.received).toEqual(['EHLO localhost.localdomain', 'QUIT']);
  });

  it('is down when the server answers EHLO with 421 (closing), without trying HELO', async () => {
    const peer = await scripted(12008, '220 busy\r\n', (line) => (/^EHLO/.test(line) ? '421 too busy\r\n' : '250 ok\r\n'));
    const r = await smtpServiceChecker.probe(t(PEERS, 12008), AbortSignal.timeout(2000));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/Server terminates connection/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(peer.received).toEqual(['EHLO localhost.localdomain']);
  });
});
