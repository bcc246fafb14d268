// service=ssh against a real OpenSSH server (test/support/sshd.ts), an ssh2 server that
// accepts a password, and misbehaving peers, on 127.0.91.x (this file's address range).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getChecker, selectChecker } from '../../checks/registry.js';
import { sshChecker } from '../../checks/ssh.js';
import type { CheckResult } from '../../checks/types.js';
import { haveSshd, startSshd, type Sshd } from '../support/sshd.js';
import { flood, makeTarget, makeVirtual, startRawServer, type RawServer } from './web-fixtures.js';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const inCI = Boolean(process.env.CI);
const DEADLINE_MS = 1500;

async function probe(
  v: Parameters<typeof makeTarget>[0],
  host: string,
  port: number,
  deadline = DEADLINE_MS,
): Promise<CheckResult & { wallMs: number }> {
  const started = performance.now();
  const r = await sshChecker.probe(makeTarget({ service: 'ssh', ...v }, { ip: host, port }), AbortSignal.timeout(deadline));
  return { ...r, wallMs: performance.now() - started };
}

describe('service=ssh: registry and config', () => {
  it('is registered with port 22 and the negotiate timeout', () => {
    expect(getChecker('ssh')).toBe(sshChecker);
    expect(sshChecker.defaultPort).toBe(22);
    expect(sshChecker.timeoutSeconds(makeVirtual({ negotiatetimeout: 7, checktimeout: 3 }))).toBe(7);
    expect(selectChecker(makeVirtual({ service: 'ssh' }))?.name).toBe('ssh');
    expect(selectChecker(makeVirtual({ service: 'ssh', checktype: { kind: 'connect' } }))?.name).toBe('connect');
  });

  it('ldirectord -t accepts service=ssh; a virtual on port 22 without it is still service none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssh-cf-'));
    try {
      const cf = join(dir, 'ssh.cf');
      writeFileSync(cf, 'virtual=127.0.91.10:22\n    real=127.0.91.11:22 gate\n    service=ssh\n    login="probe"\n    passwd="secret"\n');
      const r = await execa(process.execPath, [join(PROJECT, 'bin/ldirectord'), '-t', cf], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const { loadConfig } = (await import(join(PROJECT, 'dist/lib/cli/main.js'))) as {
        loadConfig: (
          p: string,
          d: boolean,
        ) => Promise<{ config?: { virtuals: readonly { service: string; login: string; passwd: string }[] } }>;
      };
      expect((await loadConfig(cf, false)).config?.virtuals[0]).toMatchObject({ service: 'ssh', login: 'probe', passwd: 'secret' });
      writeFileSync(cf, 'virtual=127.0.91.10:22\n    real=127.0.91.11:22 gate\n');
      expect((await loadConfig(cf, false)).config?.virtuals[0]?.service).toBe('none');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

if (!haveSshd && inCI) {
  it('openssh-server is installed (required in CI)', () =>
    expect.fail('/usr/sbin/sshd is missing: .ci/install.d/60-openssh-server.sh installs it'));
}

describe.skipIf(!haveSshd)('service=ssh against real OpenSSH', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd('127.0.91.1', 2222);
  });
  afterAll(async () => sshd?.stop());

  it('is up when the key exchange completes', async () => {
    const r = await probe({}, sshd.host, sshd.port);
    expect(r, r.detail).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toMatch(/key exchange completed with "SSH-2\.0-OpenSSH_/);
  });

  it('receive= is matched against the identification line', async () => {
    expect((await probe({ receive: 'OpenSSH_\\d' }, sshd.host, sshd.port)).ok).toBe(true);
    const r = await probe({ receive: '^SSH-2\\.0-dropbear' }, sshd.host, sshd.port);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/identification "SSH-2\.0-OpenSSH_.*" does not match receive/);
    expect(r.wallMs).toBeLessThan(DEADLINE_MS);
  });

  it('is down, before the deadline, when the login fails', async () => {
    for (const login of ['root', 'no-such-user']) {
      const r = await probe({ login, passwd: 'wrong' }, sshd.host, sshd.port, 10_000);
      expect(r.ok, r.detail).toBe(false);
      expect(r.detail).toBe(`127.0.91.1:2222: login as ${login} failed`);
      expect(r.wallMs).toBeLessThan(10_000);
    }
  });

  it('drives the daemon: the real with a live sshd goes in, the one without stays out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssh-daemon-'));
    symlinkSync(join(PROJECT, 'test/support/fake-ipvsadm'), join(dir, 'ipvsadm'));
    writeFileSync(
      join(dir, 'ssh.cf'),
      [
        'checkinterval=1',
        'negotiatetimeout=3',
        'quiescent=no',
        'virtual=192.0.2.91:22',
        '    real=127.0.91.1:2222 masq 1',
        '    real=127.0.91.2:2299 masq 1',
        '    service=ssh',
        '    receive="^SSH-2\\.0-OpenSSH"',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, FAKE_IPVSADM_STATE: join(dir, 'table.json') };
    // -d: foreground, log on stderr, and ./ipvsadm (the test fake) instead of the system's.
    const daemon = spawn(process.execPath, [join(PROJECT, 'bin/ldirectord'), '-d', 'ssh.cf', 'start'], { cwd: dir, env });
    let log = '';
    daemon.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
    try {
      const until = Date.now() + 20_000;
      while (!/Added real server: 127\.0\.91\.1:2222/.test(log) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      expect(log).toMatch(/Added real server: 127\.0\.91\.1:2222/);
      await new Promise((r) => setTimeout(r, 2000)); // a few more check rounds
      const table = execFileSync(join(dir, 'ipvsadm'), ['-S', '-n'], { env, encoding: 'utf8' });
      expect(table).toContain('-r 127.0.91.1:2222');
      expect(table).not.toContain('127.0.91.2');
      expect(log).not.toMatch(/Added real server: 127\.0\.91\.2/);
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is down when nothing listens', async () => {
    const r = await probe({}, '127.0.91.1', 2299);
    expect(r).toMatchObject({ ok: false });
    expect(r.detail).toBe('127.0.91.1:2299: connection refused');
  });
});

describe('service=ssh: login against an ssh2 server', () => {
  let server: ssh2.Server;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssh2-host-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const hostKey = readFileSync(join(dir, 'k'));
    rmSync(dir, { recursive: true, force: true });
    server = new ssh2.Server({ hostKeys: [hostKey], ident: 'Test_1.0' }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method === 'password' && ctx.username === 'alice' && ctx.password === 's3cret') ctx.accept();
        else ctx.reject(['password']);
      });
      client.on('ready', () => client.end());
    });
    await new Promise<void>((r) => server.listen(2223, '127.0.91.3', () => r()));
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  it('is up with the right password, down with a wrong one', async () => {
    const up = await probe({ login: 'alice', passwd: 's3cret' }, '127.0.91.3', 2223);
    expect(up, up.detail).toMatchObject({ ok: true });
    expect(up.detail).toBe('127.0.91.3:2223: logged in as alice');
    const down = await probe({ login: 'alice', passwd: 'nope' }, '127.0.91.3', 2223);
    expect(down).toMatchObject({ ok: false, detail: '127.0.91.3:2223: login as alice failed' });
    // No login: up at the end of the key exchange; the banner is the server's ident.
    const kex = await probe({}, '127.0.91.3', 2223);
    expect(kex.detail).toBe('127.0.91.3:2223: key exchange completed with "SSH-2.0-Test_1.0"');
  });
});

describe('service=ssh: misbehaving peers end by the deadline', () => {
  const servers: RawServer[] = [];
  beforeAll(async () => {
    servers.push(
      await startRawServer('127.0.91.4', 2201, (s) => s.write('220 mail.example ESMTP ready\r\n')), // non-SSH, stays open
      await startRawServer('127.0.91.4', 2202, (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')), // non-SSH, closes
      await startRawServer('127.0.91.4', 2203, (s) => s.write('SSH-2.0-Hang_1.0\r\n')), // banner, then silence
      await startRawServer('127.0.91.4', 2204, () => undefined), // accepts, says nothing
      await startRawServer('127.0.91.4', 2205, (s) => s.write('SSH-1.5-Ancient\r\n')),
      await startRawServer('127.0.91.4', 2206, (s) => flood(s, '', 4 * 1024 * 1024)), // no line end ever
    );
  });
  afterAll(async () => Promise.all(servers.map((s) => s.close())));

  const cases: [number, RegExp, 'deadline' | 'fast'][] = [
    [2201, /^127\.0\.91\.4:2201: timed out before an SSH identification line$/, 'deadline'],
    [2202, /connection closed before an SSH identification line|Connection lost before handshake/, 'fast'],
    [2203, /^127\.0\.91\.4:2203: timed out after "SSH-2\.0-Hang_1\.0"$/, 'deadline'],
    [2204, /timed out before an SSH identification line$/, 'deadline'],
    [2205, /not an SSH-2 server: "SSH-1\.5-Ancient"|Protocol version not supported/, 'fast'],
    [2206, /^127\.0\.91\.4:2206: Header line too long$/, 'fast'],
  ];
  for (const [port, detail, when] of cases) {
    it(`port ${port}: down (${when})`, async () => {
      const r = await probe({}, '127.0.91.4', port);
      expect(r.ok).toBe(false);
      expect(r.detail).toMatch(detail);
      expect(r.wallMs).toBeLessThan(DEADLINE_MS + 500);
      if (when === 'deadline') expect(r.wallMs).toBeGreaterThan(DEADLINE_MS - 100);
    });
  }
});
