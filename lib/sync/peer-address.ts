// Where `sync` sends the config: one command-line argument per peer, in either of two
// forms that cannot be misread, IPv6 included:
//
//   [user@]host[:/abs/path]                       scp style; port from --port (default 22)
//   ssh://[user@]host[:port][/abs/path]           URI style; the port is in the argument
//
// An IPv6 address is always written in brackets ([2001:db8::2]); a bare one is refused
// rather than guessed at, since its colons would read as the path or port separator. The
// path is taken literally (no %-decoding, no ~) and must be absolute: SFTP resolves a
// relative path against the login directory, which is never what a director wants.
import { isIPv6 } from 'node:net';

export interface PeerAddress {
  /** The argument as given: names the peer in the report. */
  readonly text: string;
  readonly user: string;
  /** Without brackets. */
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

export interface PeerDefaults {
  readonly user: string;
  readonly port: number;
  /** The locally resolved absolute config path. */
  readonly path: string;
}

const URI = /^ssh:\/\/(?:([^@/]+)@)?(\[[^\]/]*\]|[^:/[\]@]*)(?::(\d*))?(\/.*)?$/s;
const SCP = /^(?:([^@:/[\]]+)@)?(\[[^\]/]*\]|[^:/[\]@]*)(?::(.*))?$/s;

export function parsePeer(text: string, defaults: PeerDefaults): PeerAddress | { error: string } {
  const uri = text.startsWith('ssh://');
  const m = (uri ? URI : SCP).exec(text);
  if (!m) {
    return { error: `cannot read peer "${text}": expected [user@]host[:/path] or ssh://[user@]host[:port][/path]` };
  }
  const [, user, rawHost, third, uriPath] = m;
  const bracketed = rawHost!.startsWith('[');
  const host = bracketed ? rawHost!.slice(1, -1) : rawHost!;
  if (host === '') return { error: `peer "${text}" has no host` };
  if (bracketed && !isIPv6(host)) return { error: `peer "${text}": [${host}] is not an IPv6 address` };
  let port = defaults.port;
  let path: string | undefined;
  if (uri) {
    if (third !== undefined) {
      if (!/^\d+$/.test(third) || Number(third) < 1 || Number(third) > 65535) return { error: `peer "${text}" has an invalid port` };
      port = Number(third);
    }
    path = uriPath;
  } else if (third !== undefined && third !== '') {
    if (!bracketed && isIPv6(`${host}:${third}`))
      return { error: `peer "${text}": write an IPv6 address in brackets (user@[2001:db8::2])` };
    path = third;
  }
  path ??= defaults.path;
  if (!path.startsWith('/')) return { error: `peer "${text}": the remote path must be absolute` };
  if (path.includes('\0')) return { error: `peer "${text}": the remote path contains a NUL byte` };
  if (path.endsWith('/')) return { error: `peer "${text}": the remote path names a directory` };
  return { text, user: user ?? defaults.user, host, port, path };
}
