// `ldirectord [configfile] sync [options] peer...`: validate the local config, then send
// it to every peer (in parallel, each with its own deadline) and report one line per
// peer in the order given. Exit 0 only when every peer succeeded.
import { readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { authMethods, loadCredentials } from './auth-methods.js';
import { loadKnownHosts } from './known-hosts.js';
import { parsePeer, type PeerAddress } from './peer-address.js';
import { parseSyncArgs } from './sync-options.js';
import { syncPeer, type PeerReport } from './sync-peer.js';

export const SYNC_USAGE = `Usage: ldirectord [configfile] sync [--reload] [-i identity_file]... [--known-hosts=file]...
         [-p port] [--remote-ldirectord=command] [--timeout=seconds] [--] peer...
  peer: [user@]host[:/remote/path] or ssh://[user@]host[:port][/remote/path]; IPv6 in brackets
`;

export const SYNC_EXIT = { ok: 0, failed: 1, configError: 2, usage: 255 } as const;

export interface SyncIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface SyncRequest {
  /** The local config's path, as found (see config-path.ts). */
  readonly configPath: string;
  /** Arguments after the word `sync`. */
  readonly argv: readonly string[];
  /** Parses the local config: diagnostics lines and whether it is valid. */
  readonly validate: (path: string) => Promise<{ valid: boolean; diagnostics: readonly string[] }>;
  readonly env?: NodeJS.ProcessEnv;
  readonly home?: string;
}

function defaultUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? 'root';
  }
}

export function formatReport(r: PeerReport): string[] {
  const head = `sync ${r.peer.text}: ${r.ok ? 'ok' : 'FAILED'}: ${r.summary}`;
  const body = (r.output ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `    ${l}`);
  return [head, ...body];
}

export async function runSync(req: SyncRequest, io: SyncIo): Promise<number> {
  const env = req.env ?? process.env;
  const home = req.home ?? homedir();
  const args = parseSyncArgs(req.argv);
  const usage = (why: string): number => {
    io.err(`sync: ${why}`);
    for (const l of SYNC_USAGE.trimEnd().split('\n')) io.err(l);
    return SYNC_EXIT.usage;
  };
  if ('error' in args) return usage(args.error);
  const configPath = resolve(req.configPath);
  const peers: PeerAddress[] = [];
  for (const text of args.peers) {
    const p = parsePeer(text, { user: defaultUser(env), port: args.port, path: configPath });
    if ('error' in p) return usage(p.error);
    peers.push(p);
  }

  // A config the local parser rejects is not sent anywhere.
  const local = await req.validate(configPath);
  for (const d of local.diagnostics) io.err(d);
  if (!local.valid) {
    io.err(`sync: ${configPath} has errors; nothing was sent`);
    return SYNC_EXIT.configError;
  }

  const named = args.knownHosts.length > 0;
  const knownHostsFiles = named ? args.knownHosts : [join(home, '.ssh/known_hosts'), '/etc/ssh/ssh_known_hosts'];
  let knownHosts;
  try {
    knownHosts = loadKnownHosts(knownHostsFiles, named);
  } catch (err) {
    io.err(`sync: ${(err as Error).message}`);
    return SYNC_EXIT.usage;
  }
  const credentials = loadCredentials(args.identities, env, home);
  if (credentials instanceof Error) {
    io.err(`sync: ${credentials.message}`);
    return SYNC_EXIT.usage;
  }
  if (credentials.keys.length === 0 && credentials.agent === undefined) {
    io.err('sync: no key to log in with: give -i <identity_file>, or run ssh-agent (SSH_AUTH_SOCK)');
    return SYNC_EXIT.usage;
  }
  const content = readFileSync(configPath);
  const localMode = statSync(configPath).mode;

  const reports = await Promise.all(
    peers.map((peer) =>
      syncPeer(peer, {
        content,
        localMode,
        auth: (user) => authMethods(credentials, user),
        knownHosts,
        knownHostsFiles,
        remoteLdirectord: args.remoteLdirectord,
        reload: args.reload,
        timeoutMs: args.timeoutSeconds * 1000,
      }),
    ),
  );
  for (const r of reports) for (const line of formatReport(r)) (r.ok ? io.out : io.err)(line);
  return reports.every((r) => r.ok) ? SYNC_EXIT.ok : SYNC_EXIT.failed;
}
