// service=ssh (an extension: the original has no such service): connect, read the
// server's identification line ("SSH-2.0-OpenSSH_9.2p1 ..."), and complete the key
// exchange with ssh2, which proves the daemon is alive past accept() (a wedged sshd, or
// one out of MaxStartups slots, accepts and then stalls or drops the connection). With
// login= set, also log in with passwd= (password, then keyboard-interactive) and
// require success: up only when authentication succeeds.
//
// receive= (optional) is a regular expression matched against the identification line,
// e.g. receive="OpenSSH_9\." to notice a host booted into the wrong image. The host key
// is not verified: a health check asks whether the service works, not who it is (a
// real's key may change on rebuild, and the director has no known_hosts for its reals).
//
// Ends at the runner's deadline whatever the peer does: the socket is destroyed when
// the signal aborts, and ssh2's own ready timeout is not used.
import type { AnyAuthMethod } from 'ssh2';
import { accountOf, type Account } from './account.js';
import { abortError, dial, type CheckAbort } from './io/dial.js';
import { lazyModule } from './lazy-module.js';
import { Outcome } from './outcome.js';
import { matchReceive } from './receive-match.js';
import { defineChecker, NEGOTIATETIMEOUT, type CheckResult, type Checker, type Endpoint } from './types.js';

const ssh2Module = lazyModule<typeof import('ssh2')>('ssh2');

export interface SshCheckOptions {
  /** Source address of the check's connections (default: the kernel's choice). */
  readonly localAddress?: string;
}

/** RFC 4253 §4.2: at most 255 bytes per identification line; bound what we keep. */
const BANNER_LIMIT = 8192;

/** The identification line, once seen in the bytes the server sent first. */
function findBanner(head: string): string | undefined {
  for (const line of head.split('\n').slice(0, -1)) {
    const text = line.replace(/\r$/, '');
    if (text.startsWith('SSH-')) return text;
  }
  return undefined;
}

function authMethods(user: string, password: string): AnyAuthMethod[] {
  return [
    { type: 'password', username: user, password },
    {
      type: 'keyboard-interactive',
      username: user,
      // Servers with PAM ask for the password this way; answer every prompt with it.
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
    },
  ];
}

export async function probeSsh(
  target: Endpoint,
  account: Account,
  signal: AbortSignal,
  options: SshCheckOptions = {},
): Promise<CheckResult> {
  const outcome = new Outcome();
  const where = `${target.host}:${target.port}`;
  const { login, passwd } = account;
  let socket;
  try {
    socket = await dial({
      host: target.host,
      port: target.port,
      signal,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
  } catch (err) {
    return outcome.down('-', { detail: `${where}: ${(err as CheckAbort).message}` });
  }
  const sock = socket;
  let ssh2: typeof import('ssh2');
  try {
    ssh2 = ssh2Module();
  } catch (err) {
    sock.destroy();
    return outcome.down('-', { detail: `${where}: ssh2: ${(err as Error).message}` });
  }
  const client = new ssh2.Client();
  return new Promise<CheckResult>((resolve) => {
    let head = '';
    let banner: string | undefined;
    let receiveOk: Promise<boolean> = Promise.resolve(true);
    let settled = false;
    const finish = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end();
      sock.destroy();
      resolve(result);
    };
    const down = (why: string): void => finish(outcome.down('-', { detail: `${where}: ${why}` }));
    const onAbort = (): void => {
      const stage = banner === undefined ? 'before an SSH identification line' : `after "${banner.slice(0, 100)}"`;
      down(`${abortError(signal).message} ${stage}`);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('data', (chunk: Buffer) => {
      if (banner !== undefined || head.length > BANNER_LIMIT) return;
      head += chunk.toString('latin1');
      banner = findBanner(head);
      if (banner === undefined) return;
      if (!/^SSH-(2\.0|1\.99)-/.test(banner)) {
        down(`not an SSH-2 server: "${banner.slice(0, 100)}"`);
      } else if (target.receive !== '') {
        const shown = banner.slice(0, 100);
        receiveOk = matchReceive(target.receive, banner, signal).then((verdict) => {
          if (verdict.kind === 'match') return true;
          down(
            verdict.kind === 'unfinished'
              ? `identification "${shown}": ${verdict.detail}`
              : `identification "${shown}" does not match receive`,
          );
          return false;
        });
      }
    });
    // The key exchange may finish before receive has been matched: up waits for it.
    const upOnceMatched = (detail: string): void => {
      void receiveOk.then((ok) => {
        if (ok) finish(outcome.up('-', { detail }));
      });
    };
    client.on('handshake', () => {
      if (login === '') upOnceMatched(`${where}: key exchange completed with "${banner ?? '?'}"`);
    });
    client.on('ready', () => upOnceMatched(`${where}: logged in as ${login}`));
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'client-authentication') down(`login as ${login} failed`);
      else down(`${banner === undefined ? '' : `after "${banner.slice(0, 100)}": `}${err.message}`);
    });
    client.on('close', () =>
      down(banner === undefined ? 'connection closed before an SSH identification line' : 'connection closed during the SSH handshake'),
    );
    client.connect({
      sock,
      username: login === '' ? 'ldirectord' : login,
      // The runner's signal is the deadline.
      readyTimeout: 2_147_483_647,
      // Not pinned: see the header comment.
      hostVerifier: () => true,
      authHandler: login === '' ? ['none'] : authMethods(login, passwd),
    });
  });
}

export function createSshChecker(options: SshCheckOptions = {}): Checker {
  return defineChecker({
    name: 'ssh',
    defaultPort: 22,
    timeout: NEGOTIATETIMEOUT,
    options: accountOf,
    probe: (endpoint, account, signal) => probeSsh(endpoint, account, signal, options),
  });
}

export const sshChecker = createSshChecker();
