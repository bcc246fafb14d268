// One peer of `sync`: upload the config next to its destination under a hidden temporary
// name, have the peer's own ldirectord validate that file (`ldirectord -t <tmp>`), and only
// then rename it over the destination in one atomic step; optionally `ldirectord <path>
// reload`. Whatever fails, the destination is never written to: a failed step removes
// the temporary file, and a dropped connection can at worst leave that hidden file behind.
import { posix } from 'node:path';
import type { AnyAuthMethod } from 'ssh2';
import { nodeCrypto } from '../../checks/lazy-module.js';
import type { KnownHostLine } from './known-hosts.js';
import type { PeerAddress } from './peer-address.js';
import { shellCommand } from './shell-quote.js';
import { bounded, SshSession, type ExecResult, type Sftp } from './ssh-session.js';

export interface SyncSettings {
  /** The local config, byte for byte. */
  readonly content: Buffer;
  /** Mode of the local file: used when the peer has no file yet. */
  readonly localMode: number;
  readonly auth: (user: string) => readonly AnyAuthMethod[];
  readonly knownHosts: readonly KnownHostLine[];
  readonly knownHostsFiles: readonly string[];
  /** The ldirectord command on the peer (a name looked up in its PATH, or a path). */
  readonly remoteLdirectord: string;
  readonly reload: boolean;
  /** Whole exchange with one peer, connection to reload. */
  readonly timeoutMs: number;
}

export interface PeerReport {
  readonly peer: PeerAddress;
  readonly ok: boolean;
  /** One line: what was done, or what failed. */
  readonly summary: string;
  /** The remote command's output, when it explains the failure. */
  readonly output?: string;
}

class StepFailure extends Error {
  constructor(
    message: string,
    readonly output?: string,
  ) {
    super(message);
  }
}

/** `.<name>.tmp-<random>` beside the destination: same file system, so rename is atomic. */
export function tempPathFor(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.tmp-${nodeCrypto().randomBytes(6).toString('hex')}`);
}

function describeExit(r: ExecResult): string {
  return r.code !== null ? `exit ${r.code}` : `killed by SIG${r.signal ?? '?'}`;
}

export async function syncPeer(peer: PeerAddress, s: SyncSettings): Promise<PeerReport> {
  const deadline = AbortSignal.timeout(s.timeoutMs);
  let session: SshSession | undefined;
  let sftp: Sftp | undefined;
  let temp: string | undefined;
  try {
    session = await SshSession.open({
      host: peer.host,
      port: peer.port,
      user: peer.user,
      auth: s.auth(peer.user),
      knownHosts: s.knownHosts,
      knownHostsFiles: s.knownHostsFiles,
      signal: deadline,
    });
    const sf = await session.sftp(deadline);
    sftp = sf;
    // A symbolic link (/etc/ha.d/ldirectord.cf -> /etc/ldirectord.cf, say) stays one: the
    // file it points to is replaced, so the temporary file goes beside that file.
    const link = await bounded(sf.lstat(peer.path), deadline, `lstat ${peer.path}`);
    const dest = link?.isSymbolicLink() ? await bounded(sf.realpath(peer.path), deadline, `realpath ${peer.path}`) : peer.path;
    const existing = dest === peer.path ? link : await bounded(sf.stat(dest), deadline, `stat ${dest}`);
    if (existing && !existing.isFile()) throw new StepFailure(`${dest} exists and is not a regular file`);
    const mode = (existing ? existing.mode : s.localMode) & 0o7777;
    const tmp = tempPathFor(dest);
    temp = tmp;
    await bounded(sf.writeNew(tmp, s.content, mode), deadline, `upload to ${tmp}`);
    if (existing) {
      // Keep the owner too (possible as root); a file we could not chown still works
      // for the daemon, which runs as root, so this is not worth failing the peer for.
      await bounded(sf.chown(tmp, existing.uid, existing.gid), deadline, 'chown').catch(() => undefined);
    }
    const check = await session.exec(shellCommand([s.remoteLdirectord, '-t', tmp]), deadline);
    if (check.code !== 0) {
      // The diagnostics name the temporary file; name the file the operator knows.
      const output = check.output.split(tmp).join(peer.path);
      throw new StepFailure(`rejected by ${s.remoteLdirectord} -t (${describeExit(check)}); ${peer.path} left unchanged`, output);
    }
    await bounded(sf.atomicRename(tmp, dest), deadline, `rename to ${dest}`);
    temp = undefined;
    const installed = `${peer.path} validated and installed`;
    if (!s.reload) return { peer, ok: true, summary: installed };
    const reload = await session.exec(shellCommand([s.remoteLdirectord, peer.path, 'reload']), deadline);
    if (reload.code !== 0) {
      throw new StepFailure(`${installed}, but ${s.remoteLdirectord} ${peer.path} reload failed (${describeExit(reload)})`, reload.output);
    }
    return { peer, ok: true, summary: `${installed} and reloaded` };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const output = e instanceof StepFailure ? e.output : undefined;
    return { peer, ok: false, summary: e.message, ...(output !== undefined && output !== '' ? { output } : {}) };
  } finally {
    if (temp !== undefined && sftp !== undefined && session?.closed === undefined) {
      // Its own short deadline: the main one may be what ended the exchange.
      await bounded(sftp.unlink(temp), AbortSignal.timeout(5000), `removing ${temp}`).catch(() => undefined);
    }
    session?.close();
  }
}
