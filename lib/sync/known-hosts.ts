// Host key verification for `sync`, against OpenSSH known_hosts files (sshd(8),
// "SSH_KNOWN_HOSTS FILE FORMAT"). There is no trust on first use: a peer whose key is
// not listed is refused, with the fingerprint and the ssh-keyscan line that adds it, so
// the operator checks the key once, out of band, exactly as with ssh(1).
//
// Supported: plain and negated (!) host patterns with * and ?, hashed names
// (|1|salt|hash, as `ssh-keygen -H` writes them), the `[host]:port` form for ports other
// than 22, and the @revoked marker (a revoked key is refused whatever other lines say).
// @cert-authority lines are skipped: host certificates are not supported.
import { readFileSync } from 'node:fs';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { nodeCrypto } from '../../checks/lazy-module.js';

export interface KnownHostLine {
  readonly file: string;
  readonly line: number;
  readonly marker?: 'revoked' | 'cert-authority';
  /** The host field as written: comma-separated patterns, or one hashed name. */
  readonly hosts: string;
  readonly keyType: string;
  readonly key: Buffer;
}

/** Parses one known_hosts text; malformed lines are skipped, as ssh(1) skips them. */
export function parseKnownHosts(text: string, file: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostLine['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [hosts, keyType, b64] = fields;
    if (hosts === undefined || keyType === undefined || b64 === undefined || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return;
    const key = Buffer.from(b64, 'base64');
    if (keyTypeOf(key) !== keyType) return;
    out.push({ file, line: i + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  });
  return out;
}

/** Reads known_hosts files; a missing file is skipped unless `required`. */
export function loadKnownHosts(files: readonly string[], required: boolean): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`cannot read known_hosts file ${file}: ${(err as Error).message}`, { cause: err });
    }
    out.push(...parseKnownHosts(text, file));
  }
  return out;
}

/** The algorithm name at the start of an SSH public key blob ("ssh-ed25519", ...). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:...` as ssh-keygen -l prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${nodeCrypto().createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name a host is filed under: `host`, or `[host]:port` when the port is not 22. */
export function hostKeyName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(name);
}

/** Whether a host field names `name` (hashed, or a pattern list where a negation vetoes). */
export function hostsFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (salt === undefined || hash === undefined) return false;
    const mac = nodeCrypto().createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const raw of hosts.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (pattern === '' || !globMatch(pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { readonly ok: true; readonly line: KnownHostLine }
  | { readonly ok: false; readonly reason: 'revoked' | 'changed' | 'unknown'; readonly message: string };

/** Where a verdict came from, for messages. */
const at = (l: KnownHostLine): string => `${l.file}:${l.line}`;

/**
 * Verifies the key a peer presented. `files` only names the files in messages.
 */
export function verifyHostKey(
  lines: readonly KnownHostLine[],
  host: string,
  port: number,
  presented: Buffer,
  files: readonly string[],
): HostKeyVerdict {
  const name = hostKeyName(host, port);
  const type = keyTypeOf(presented) ?? 'unknown-type';
  const print = `${type} ${fingerprint(presented)}`;
  // A revoked key is refused for every host: it must never be accepted again.
  const revoked = lines.find((l) => l.marker === 'revoked' && l.key.equals(presented));
  if (revoked) return { ok: false, reason: 'revoked', message: `host key of ${name} (${print}) is marked @revoked in ${at(revoked)}` };
  const forHost = lines.filter((l) => l.marker === undefined && hostsFieldMatches(l.hosts, name));
  const same = forHost.find((l) => l.key.equals(presented));
  if (same) return { ok: true, line: same };
  const other = forHost.find((l) => l.keyType === type);
  if (other) {
    return {
      ok: false,
      reason: 'changed',
      message:
        `HOST KEY OF ${name} HAS CHANGED: it presents ${print}, but ${at(other)} lists another ${type} key ` +
        `(someone may be intercepting the connection). If the change is expected, remove the old key with ` +
        `ssh-keygen -R '${name}' -f ${other.file} and add the new one`,
    };
  }
  const keyscan = `ssh-keyscan${port === 22 ? '' : ` -p ${port}`} -t ${type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-nistp\d+$/, 'ecdsa')} ${host}`;
  const where = files.length > 0 ? files.join(' or ') : '(no known_hosts file)';
  return {
    ok: false,
    reason: 'unknown',
    message:
      `host key of ${name} is not known (${where}); it presents ${print}. ` +
      `Check that fingerprint on the peer (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add the key: ` +
      `${keyscan} >> ${files[0] ?? '~/.ssh/known_hosts'}`,
  };
}

/** ssh2 host key algorithm names for the key types known for a host, most wanted first. */
export function knownAlgorithms(lines: readonly KnownHostLine[], host: string, port: number): ServerHostKeyAlgorithm[] {
  const name = hostKeyName(host, port);
  const algs: ServerHostKeyAlgorithm[] = [];
  for (const l of lines) {
    if (l.marker !== undefined || !hostsFieldMatches(l.hosts, name)) continue;
    const names = l.keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [l.keyType];
    for (const n of names) {
      const alg = SUPPORTED_HOST_KEY_ALGORITHMS.find((a) => a === n);
      if (alg !== undefined && !algs.includes(alg)) algs.push(alg);
    }
  }
  return algs;
}

/** What ssh2 can verify, in its default order of preference. */
export const SUPPORTED_HOST_KEY_ALGORITHMS: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];
