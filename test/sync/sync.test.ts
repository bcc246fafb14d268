// `ldirectord sync` through the real command line against real OpenSSH servers on
// 127.0.90.x (this file's address range). The peer's "remote ldirectord" is this
// project's own bin/ldirectord (built by `npm run build`), or a small wrapper around it
// that records its arguments or misbehaves on purpose.
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveSshd, keygen, startSshd, type Sshd } from '../support/sshd.js';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(PROJECT, 'bin/ldirectord');
const inCI = Boolean(process.env.CI);

if (!haveSshd && inCI) {
  it('openssh-server is installed (required in CI)', () =>
    expect.fail('/usr/sbin/sshd is missing: .ci/install.d/60-openssh-server.sh installs it'));
}

describe.skipIf(!haveSshd)('ldirectord sync against real sshd', () => {
  let a: Sshd;
  let b: Sshd;
  let dir = '';
  let home = '';
  /** Config text: valid for ldirectord -t; `n` tells versions apart. */
  const config = (n: number): string =>
    `logfile="${join(dir, 'ld.log')}"\ncheckinterval=${n}\nvirtual=127.0.90.10:80\n    real=127.0.90.11:80 gate\n    service=http\n`;
  let local = '';

  const script = (name: string, body: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  /** Runs the local CLI as a user with an empty ~/.ssh and no agent. */
  const sync = (args: readonly string[]) =>
    execa(process.execPath, [BIN, local, 'sync', ...args], {
      reject: false,
      timeout: 60_000,
      stdin: 'ignore',
      env: { HOME: home, SSH_AUTH_SOCK: '', LC_ALL: 'C' },
      extendEnv: true,
    });
  const peer = (s: Sshd, path: string): string => `ssh://root@${s.host}:${s.port}${path}`;
  const auth = (s: Sshd): string[] => ['-i', s.clientKey, `--known-hosts=${s.knownHosts}`];
  const leftovers = (d: string): string[] => readdirSync(d).filter((n) => n.includes('.tmp-'));

  beforeAll(async () => {
    if (!existsSync(join(PROJECT, 'dist/lib/cli/main.js'))) throw new Error('run "npm run build" first');
    dir = mkdtempSync(join(tmpdir(), 'ldirectord-sync-'));
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    local = join(dir, 'local.cf');
    writeFileSync(local, config(7));
    [a, b] = await Promise.all([startSshd('127.0.90.1', 2201), startSshd('127.0.90.2', 2202)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('validates remotely, replaces atomically, keeps the mode, leaves no temporary file', async () => {
    const remoteDir = join(dir, 'peer-ok');
    mkdirSync(remoteDir);
    const remote = join(remoteDir, 'ldirectord.cf');
    writeFileSync(remote, config(1));
    chmodSync(remote, 0o640);
    const r = await sync([...auth(a), `--remote-ldirectord=${BIN}`, peer(a, remote)]);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toBe(`sync ${peer(a, remote)}: ok: ${remote} validated and installed`);
    expect(readFileSync(remote, 'utf8')).toBe(config(7));
    expect(statSync(remote).mode & 0o7777).toBe(0o640);
    expect(leftovers(remoteDir)).toEqual([]);
  });

  it('a symbolic link stays a link: the file it points to is replaced', async () => {
    const realDir = join(dir, 'link-target');
    mkdirSync(realDir);
    const target = join(realDir, 'real.cf');
    writeFileSync(target, config(1));
    const link = join(dir, 'link.cf');
    symlinkSync(target, link);
    const r = await sync([...auth(a), `--remote-ldirectord=${BIN}`, peer(a, link)]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe(config(7));
    expect(leftovers(realDir)).toEqual([]);
  });

  it('creates a missing file with the local mode; the default path is the local one', async () => {
    chmodSync(local, 0o600);
    const gone = join(dir, 'new', 'ld.cf');
    mkdirSync(dirname(gone));
    const r = await sync([...auth(a), `--remote-ldirectord=${BIN}`, '-p', String(a.port), `root@${a.host}:${gone}`]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(gone, 'utf8')).toBe(config(7));
    expect(statSync(gone).mode & 0o7777).toBe(0o600);
    // No path: the same absolute path as the local config (here: the local file itself).
    const same = await sync([...auth(a), `--remote-ldirectord=${BIN}`, '-p', String(a.port), `root@${a.host}`]);
    expect(same.exitCode, same.stderr).toBe(0);
    expect(same.stdout).toContain(`: ok: ${local} validated and installed`);
    chmodSync(local, 0o644);
  });

  it('quotes hostile paths so that the remote shell runs nothing and sees each argument whole', async () => {
    // A command substitution would run in the session's working directory: root's home.
    const token = `sync-pwned-${process.pid}`;
    const pwned = [join(userInfo().homedir, token), join(dir, token)];
    const hostileDir = join(dir, `it's a $(touch ${token}) \`touch ${token}\` dir`);
    mkdirSync(hostileDir);
    const remote = join(hostileDir, 'ld "x" $HOME;.cf');
    writeFileSync(remote, config(1));
    const argsLog = join(dir, 'args.log');
    const wrapper = script('record.sh', `printf '%s\\0' "$@" >> '${argsLog}'\nexec '${BIN}' "$@"`);
    const r = await sync([...auth(a), '--reload', `--remote-ldirectord=${wrapper}`, peer(a, remote)]);
    // The real `reload` finds no daemon: exit 1 after the file was installed.
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`: FAILED: ${remote} validated and installed, but ${wrapper} ${remote} reload failed (exit 1)`);
    expect(readFileSync(remote, 'utf8')).toBe(config(7));
    for (const p of pwned) expect(existsSync(p), p).toBe(false);
    const calls = readFileSync(argsLog, 'utf8').split('\0').slice(0, -1);
    expect(calls).toHaveLength(4);
    expect(calls[0]).toBe('-t');
    expect(calls[1]).toMatch(
      new RegExp(`^${hostileDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.ld "x" \\$HOME;\\.cf\\.tmp-[0-9a-f]{12}$`),
    );
    expect(calls.slice(2)).toEqual([remote, 'reload']);
  });

  it('reports a successful reload', async () => {
    const remote = join(dir, 'reload.cf');
    writeFileSync(remote, config(1));
    const wrapper = script('reload-ok.sh', `[ "$2" = reload ] && exit 0\nexec '${BIN}' "$@"`);
    const r = await sync([...auth(a), '--reload', `--remote-ldirectord=${wrapper}`, peer(a, remote)]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`: ok: ${remote} validated and installed and reloaded`);
  });

  it('a config the peer rejects leaves the old one byte-identical and no temporary file', async () => {
    const remoteDir = join(dir, 'peer-reject');
    mkdirSync(remoteDir);
    const remote = join(remoteDir, 'ld.cf');
    const old = Buffer.from('# old config\r\nnot even valid\n\u00e9\n');
    writeFileSync(remote, old);
    const wrapper = script('reject.sh', `echo "$2:3: error: checkinterval too short for this peer" >&2\nexit 2`);
    const r = await sync([...auth(a), `--remote-ldirectord=${wrapper}`, peer(a, remote)]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`: FAILED: rejected by ${wrapper} -t (exit 2); ${remote} left unchanged`);
    expect(r.stderr).toContain(`    ${remote}:3: error: checkinterval too short for this peer`);
    expect(readFileSync(remote).equals(old)).toBe(true);
    expect(leftovers(remoteDir)).toEqual([]);
  });

  it('a missing remote ldirectord fails the peer (exit 127) and changes nothing', async () => {
    const remote = join(dir, 'missing-bin.cf');
    writeFileSync(remote, config(1));
    const r = await sync([...auth(a), '--remote-ldirectord=/nonexistent/ldirectord', peer(a, remote)]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('rejected by /nonexistent/ldirectord -t (exit 127)');
    expect(readFileSync(remote, 'utf8')).toBe(config(1));
  });

  it('a timeout during validation removes the temporary file', async () => {
    const remoteDir = join(dir, 'peer-slow');
    mkdirSync(remoteDir);
    const remote = join(remoteDir, 'ld.cf');
    writeFileSync(remote, config(1));
    const wrapper = script('slow.sh', 'exec sleep 30');
    const started = Date.now();
    const r = await sync([...auth(a), '--timeout=2', `--remote-ldirectord=${wrapper}`, peer(a, remote)]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/FAILED: timed out during the remote command/);
    expect(readFileSync(remote, 'utf8')).toBe(config(1));
    expect(leftovers(remoteDir)).toEqual([]);
  });

  it('a connection dropped during validation leaves the old config byte-identical', async () => {
    const c = await startSshd('127.0.90.3', 2203);
    try {
      const remote = join(dir, 'dropped.cf');
      writeFileSync(remote, config(1));
      const started = join(dir, 'validation-started');
      const wrapper = script('hang.sh', `touch '${started}'\nexec sleep 30`);
      const run = sync([...auth(c), `--remote-ldirectord=${wrapper}`, peer(c, remote)]);
      const until = Date.now() + 20_000;
      while (!existsSync(started) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(started)).toBe(true);
      c.crash();
      const r = await run;
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/FAILED: (connection closed|.*ECONNRESET|.*Connection lost)/i);
      expect(readFileSync(remote, 'utf8')).toBe(config(1));
    } finally {
      await c.stop();
    }
  });

  it('refuses unknown, changed and revoked host keys; accepts hashed known_hosts', async () => {
    const remote = join(dir, 'keys.cf');
    writeFileSync(remote, config(1));
    const kh = join(dir, 'kh');
    const run = (text: string) => {
      writeFileSync(kh, text);
      return sync(['-i', a.clientKey, `--known-hosts=${kh}`, `--remote-ldirectord=${BIN}`, peer(a, remote)]);
    };
    const unknown = await run(`127.0.90.1 ${a.hostKeyLine}\n`); // port 22 entry: another host
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain(`host key of [127.0.90.1]:${a.port} is not known (${kh})`);
    expect(unknown.stderr).toContain(`ssh-keyscan -p ${a.port} -t ed25519 127.0.90.1 >> ${kh}`);
    const otherKey = keygen(join(dir, 'other-host-key'));
    const changed = await run(`[127.0.90.1]:${a.port} ${otherKey}\n`);
    expect(changed.stderr).toContain(`HOST KEY OF [127.0.90.1]:${a.port} HAS CHANGED`);
    const revoked = await run(`[127.0.90.1]:${a.port} ${a.hostKeyLine}\n@revoked * ${a.hostKeyLine}\n`);
    expect(revoked.stderr).toContain('is marked @revoked');
    expect(readFileSync(remote, 'utf8')).toBe(config(1));
    // No --known-hosts: ~/.ssh/known_hosts of the (empty) home, then /etc/ssh/ssh_known_hosts.
    const noFile = await sync(['-i', a.clientKey, `--remote-ldirectord=${BIN}`, peer(a, remote)]);
    expect(noFile.stderr).toContain(`is not known (${join(home, '.ssh/known_hosts')} or /etc/ssh/ssh_known_hosts)`);
    writeFileSync(kh, `[127.0.90.1]:${a.port} ${a.hostKeyLine}\n`);
    await execa('ssh-keygen', ['-q', '-H', '-f', kh]);
    const hashed = await sync(['-i', a.clientKey, `--known-hosts=${kh}`, `--remote-ldirectord=${BIN}`, peer(a, remote)]);
    expect(hashed.exitCode, hashed.stderr).toBe(0);
    expect(readFileSync(remote, 'utf8')).toBe(config(7));
  });

  it('refuses a key the peer does not accept; needs some key', async () => {
    const remote = join(dir, 'auth.cf');
    writeFileSync(remote, config(1));
    const stranger = join(dir, 'stranger');
    keygen(stranger);
    const r = await sync(['-i', stranger, `--known-hosts=${a.knownHosts}`, `--remote-ldirectord=${BIN}`, peer(a, remote)]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('FAILED: authentication as root failed (tried: publickey)');
    const none = await sync([`--known-hosts=${a.knownHosts}`, peer(a, remote)]);
    expect(none.exitCode).toBe(255);
    expect(none.stderr).toContain('no key to log in with');
    expect(readFileSync(remote, 'utf8')).toBe(config(1));
  });

  it('several peers: each reported, exit 1 when one fails, the others still updated', async () => {
    const ra = join(dir, 'multi-a.cf');
    const rb = join(dir, 'multi-b.cf');
    writeFileSync(ra, config(1));
    writeFileSync(rb, config(1));
    // a's known_hosts only: b is unknown.
    const r = await sync([...auth(a), `--remote-ldirectord=${BIN}`, peer(b, rb), peer(a, ra)]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(`sync ${peer(a, ra)}: ok: ${ra} validated and installed`);
    expect(r.stderr).toContain(`sync ${peer(b, rb)}: FAILED: host key of [127.0.90.2]:${b.port} is not known`);
    expect(readFileSync(ra, 'utf8')).toBe(config(7));
    expect(readFileSync(rb, 'utf8')).toBe(config(1));
    const both = await sync([
      '-i',
      a.clientKey,
      '-i',
      b.clientKey,
      `--known-hosts=${a.knownHosts}`,
      `--known-hosts=${b.knownHosts}`,
      `--remote-ldirectord=${BIN}`,
      peer(a, ra),
      peer(b, rb),
    ]);
    expect(both.exitCode, both.stderr).toBe(0);
    expect(both.stdout.split('\n')).toHaveLength(2);
    expect(readFileSync(rb, 'utf8')).toBe(config(7));
  });

  it('sends nothing when the local config is invalid; usage errors exit 255', async () => {
    const bad = join(dir, 'bad.cf');
    writeFileSync(bad, 'virtual=127.0.90.10:80\n    service=telnet\n');
    const remote = join(dir, 'untouched.cf');
    writeFileSync(remote, config(1));
    const r = await execa(process.execPath, [BIN, bad, 'sync', ...auth(a), peer(a, remote)], { reject: false, env: { HOME: home } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${bad}:2: error: service must be`);
    expect(r.stderr).toContain('nothing was sent');
    expect(readFileSync(remote, 'utf8')).toBe(config(1));
    for (const args of [[], ['--bogus', 'h'], ['root@2001:db8::1'], ['h:relative/path'], ['-p', '0', 'h'], ['-i']]) {
      const u = await sync(args);
      expect(u.exitCode, args.join(' ')).toBe(255);
      expect(u.stderr).toMatch(/^sync: /);
    }
    const missing = await execa(process.execPath, [BIN, join(dir, 'nope.cf'), 'sync', 'h'], { reject: false });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`Config file ${join(dir, 'nope.cf')} not found`);
  });
});
