// A real OpenSSH server for tests (Debian's openssh-server): /usr/sbin/sshd -D -e on a
// loopback address with a generated config, host key and authorized key, in its own temp
// directory. Not a test file. Root login by key only; password logins always fail (root
// has no usable password and PermitRootLogin is prohibit-password), which is what the
// checks' wrong-password test needs.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const haveSshd = existsSync(SSHD) && existsSync('/usr/bin/ssh-keygen');

export interface Sshd {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** "ssh-ed25519 AAAA... comment" of the server's host key. */
  readonly hostKeyLine: string;
  /** A private key the server accepts for root. */
  readonly clientKey: string;
  /** A known_hosts file listing this server's key under [host]:port. */
  readonly knownHosts: string;
  /** What sshd wrote to stderr so far (-e). */
  log(): string;
  /** Kills sshd and every process under it at once (a dropped connection). */
  crash(): void;
  stop(): Promise<void>;
}

export function keygen(file: string, type = 'ed25519', comment = 'test'): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', comment, '-f', file], { stdio: 'pipe' });
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

function waitForPort(host: string, port: number, child: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) {
        reject(new Error(`sshd exited with ${child.exitCode}: ${log()}`));
        return;
      }
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`sshd did not listen on ${host}:${port}: ${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Pids of every process below `root`, from /proc. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name, which may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      /* gone meanwhile */
    }
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, ppid] of parent)
      if (ppid === pid) {
        found.push(child);
        walk(child);
      }
  };
  walk(root);
  return found;
}

export async function startSshd(host: string, port: number, extraConfig: readonly string[] = []): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'sshd-'));
  const hostKey = join(dir, 'host_ed25519_key');
  const hostKeyLine = keygen(hostKey, 'ed25519', 'host');
  const clientKey = join(dir, 'client_key');
  writeFileSync(join(dir, 'authorized_keys'), `${keygen(clientKey, 'ed25519', 'client')}\n`);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[${host}]:${port} ${hostKeyLine}\n`);
  // Sessions find this node first: the peer's "remote ldirectord" is this project's bin.
  const path = [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
  const config = [
    `ListenAddress ${host}:${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'Subsystem sftp internal-sftp',
    `SetEnv PATH=${path}`,
    'MaxStartups 100',
    'LogLevel VERBOSE',
    ...extraConfig,
  ];
  const configFile = join(dir, 'sshd_config');
  writeFileSync(configFile, `${config.join('\n')}\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
  const child = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const log = (): string => stderr;
  await waitForPort(host, port, child, log);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // sshd puts each connection in a session of its own (setsid), so a process-group kill
  // would miss them: kill sshd and its descendants by pid.
  const killAll = (sig: NodeJS.Signals): void => {
    for (const pid of [child.pid!, ...descendants(child.pid!)]) {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  return {
    host,
    port,
    dir,
    hostKeyLine,
    clientKey,
    knownHosts,
    log,
    crash: () => killAll('SIGKILL'),
    stop: async () => {
      killAll('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      killAll('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
