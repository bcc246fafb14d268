// Real servers for the checks' tests: Debian's nginx, dovecot and vsftpd run in the
// foreground with their own config in a temp dir, on 127.0.1x.y high ports, plus
// certificates made with openssl. Not a test file itself.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * True when the binary is there. Without it the test is skipped on a developer's
 * machine, but in CI (process.env.CI set) its absence is a failure.
 */
export function haveBinary(path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI) throw new Error(`${path} is missing: .ci/install.d/30-check-servers-web.sh should have installed it`);
  return false;
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ldts-${prefix}-`));
  chmodSync(dir, 0o755); // daemons drop privileges and must traverse it
  return dir;
}

/** Resolves when host:port accepts a TCP connection, or rejects after `ms`. */
export async function waitForPort(host: string, port: number, ms = 10_000, child?: ChildProcess, log?: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child && child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode}${log && existsSync(log) ? `:\n${readFileSync(log, 'utf8')}` : ''}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`${host}:${port} did not open in ${ms} ms${log && existsSync(log) ? `:\n${readFileSync(log, 'utf8')}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// ---- certificates ------------------------------------------------------------------

export interface Certificates {
  /** A private CA, and a server certificate it signed for "backend.test" (plus the IPs asked for). */
  readonly caCert: string;
  readonly signedCert: string;
  readonly signedKey: string;
  /** A self-signed certificate for "selfsigned.test". */
  readonly selfCert: string;
  readonly selfKey: string;
}

/** `signedIps`: IP SANs of the CA-signed certificate (pops/imaps check them, https does not). */
export function makeCertificates(dir: string, signedIps: readonly string[] = []): Certificates {
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=ldirectord-ts test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=backend.test', '-keyout', f('signed.key'), '-out', f('signed.csr'));
  const sans = ['DNS:backend.test', ...signedIps.map((ip) => `IP:${ip}`)].join(',');
  writeFileSync(f('signed.ext'), `subjectAltName=${sans}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    f('signed.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('signed.ext'),
    '-out',
    f('signed.pem'),
  );
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=selfsigned.test',
    '-keyout',
    f('self.key'),
    '-out',
    f('self.pem'),
    '-addext',
    'subjectAltName=DNS:selfsigned.test',
  );
  for (const name of ['ca.pem', 'signed.pem', 'signed.key', 'self.pem', 'self.key']) chmodSync(f(name), 0o644);
  return {
    caCert: f('ca.pem'),
    signedCert: f('signed.pem'),
    signedKey: f('signed.key'),
    selfCert: f('self.pem'),
    selfKey: f('self.key'),
  };
}

// ---- nginx ---------------------------------------------------------------------------

export const NGINX = '/usr/sbin/nginx';

export interface Daemon {
  readonly dir: string;
  stop(): Promise<void>;
}

/** nginx with `serverBlocks` (the inside of http{}); waits until every `ports` entry accepts. */
export async function startNginx(dir: string, serverBlocks: string, ports: Array<[string, number]>): Promise<Daemon> {
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `
daemon off;
master_process on;
worker_processes 1;
user root root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type text/plain;
${serverBlocks}
}
`,
  );
  const child = spawn(NGINX, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    for (const [host, port] of ports) await waitForPort(host, port, 10_000, child, join(dir, 'error.log'));
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
  }
  return {
    dir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- dovecot -------------------------------------------------------------------------

export const DOVECOT = '/usr/sbin/dovecot';

export interface DovecotOptions {
  /** One address, or several separated by ", ". */
  readonly address: string;
  readonly imapPort?: number;
  readonly imapsPort?: number;
  readonly pop3Port?: number;
  readonly pop3sPort?: number;
  readonly cert: string;
  readonly key: string;
  /** user -> plaintext password */
  readonly users: Record<string, string>;
  readonly authMechanisms?: string;
}

export async function startDovecot(dir: string, o: DovecotOptions): Promise<Daemon> {
  const nobody = { uid: 65534, gid: 65534 };
  for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub), { recursive: true });
  execFileSync('chown', [`${nobody.uid}:${nobody.gid}`, join(dir, 'mail')]);
  writeFileSync(
    join(dir, 'passwd'),
    Object.entries(o.users)
      .map(([u, p]) => `${u}:{PLAIN}${p}::::::nodelay=yes\n`)
      .join(''),
  );
  chmodSync(join(dir, 'passwd'), 0o644);
  const protocols = [o.imapPort || o.imapsPort ? 'imap' : '', o.pop3Port || o.pop3sPort ? 'pop3' : ''].filter(Boolean).join(' ');
  const listener = (name: string, port: number | undefined, ssl: boolean): string =>
    `  inet_listener ${name} {\n    address = ${o.address}\n    port = ${port ?? 0}\n${ssl ? '    ssl = yes\n' : ''}  }\n`;
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(
    conf,
    `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = ${protocols}
listen = ${o.address}
ssl = yes
ssl_cert = <${o.cert}
ssl_key = <${o.key}
disable_plaintext_auth = no
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
auth_mechanisms = ${o.authMechanisms ?? 'plain login'}
mail_location = maildir:${dir}/mail/%u
first_valid_uid = ${nobody.uid}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${nobody.uid} gid=${nobody.gid} home=${dir}/mail/%u
}
service imap-login {
${listener('imap', o.imapPort, false)}${listener('imaps', o.imapsPort, true)}}
service pop3-login {
${listener('pop3', o.pop3Port, false)}${listener('pop3s', o.pop3sPort, true)}}
protocol pop3 {
  pop3_uidl_format = %08Xu%08Xv
}
`,
  );
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    for (const port of [o.imapPort, o.imapsPort, o.pop3Port, o.pop3sPort]) {
      for (const address of o.address.split(/,\s*/)) {
        if (port) await waitForPort(address, port, 10_000, child, join(dir, 'dovecot.log'));
      }
    }
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
  }
  return {
    dir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- vsftpd --------------------------------------------------------------------------

export const VSFTPD = '/usr/sbin/vsftpd';

/** vsftpd with anonymous login (any password) rooted at `dir`/root, whose files are given. */
export async function startVsftpd(dir: string, address: string, port: number, files: Record<string, string | Buffer>): Promise<Daemon> {
  const root = join(dir, 'root');
  const empty = join(dir, 'empty');
  mkdirSync(root, { recursive: true });
  mkdirSync(empty, { recursive: true });
  chmodSync(root, 0o555);
  chmodSync(empty, 0o555);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(root, name), content);
    chmodSync(join(root, name), 0o644);
  }
  const conf = join(dir, 'vsftpd.conf');
  writeFileSync(
    conf,
    [
      'listen=YES',
      'listen_ipv6=NO',
      `listen_address=${address}`,
      `listen_port=${port}`,
      'background=NO',
      'anonymous_enable=YES',
      'no_anon_password=NO',
      `anon_root=${root}`,
      'local_enable=NO',
      'write_enable=NO',
      'pasv_enable=YES',
      'port_enable=NO',
      `secure_chroot_dir=${empty}`,
      'seccomp_sandbox=NO',
      'isolate=NO',
      'isolate_network=NO',
      'xferlog_enable=YES',
      `vsftpd_log_file=${dir}/vsftpd.log`,
      'dual_log_enable=YES',
      `xferlog_file=${dir}/xfer.log`,
      'pam_service_name=vsftpd',
      'ftpd_banner=ldirectord-ts test FTP',
      'hide_ids=YES',
      'max_login_fails=1',
      'delay_failed_login=0',
      'delay_successful_login=0',
      '',
    ].join('\n'),
  );
  const child = spawn(VSFTPD, [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  try {
    await waitForPort(address, port, 10_000, child, join(dir, 'vsftpd.log'));
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${output}`, { cause: err });
  }
  return {
    dir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
