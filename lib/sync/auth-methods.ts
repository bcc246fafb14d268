// Which credentials `sync` offers, in ssh(1)'s spirit: keys named with -i first, then
// the ssh-agent (SSH_AUTH_SOCK), then, only when no -i was given, the default key files
// ~/.ssh/id_ed25519, id_ecdsa and id_rsa. Passwords are never used: a director syncs
// unattended. An encrypted key file cannot be unlocked here; load it into ssh-agent.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import ssh2, { type AnyAuthMethod, type ParsedKey } from 'ssh2';

export interface Credentials {
  readonly keys: readonly { readonly file: string; readonly key: ParsedKey }[];
  /** True when the keys were named with -i (they go before the agent). */
  readonly named: boolean;
  readonly agent?: string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function readKey(file: string): ParsedKey | Error {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    return new Error(`cannot read identity file ${file}: ${(err as Error).message}`);
  }
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    return new Error(`identity file ${file}: ${encrypted ? 'the key is encrypted; add it to ssh-agent instead' : parsed.message}`);
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!key || !key.isPrivateKey()) return new Error(`identity file ${file} holds no private key`);
  return key;
}

/** The credentials, or the first problem with a key file the user named. */
export function loadCredentials(
  identities: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): Credentials | Error {
  const keys: { file: string; key: ParsedKey }[] = [];
  for (const file of identities) {
    const key = readKey(file);
    if (key instanceof Error) return key;
    keys.push({ file, key });
  }
  if (identities.length === 0) {
    for (const name of DEFAULT_KEYS) {
      const file = join(home, '.ssh', name);
      const key = readKey(file);
      // Default files are optional: a missing or locked one is skipped, as ssh does.
      if (!(key instanceof Error)) keys.push({ file, key });
    }
  }
  const agent = env.SSH_AUTH_SOCK;
  return { keys, named: identities.length > 0, ...(agent ? { agent } : {}) };
}

/** The ssh2 authHandler list for one user. */
export function authMethods(c: Credentials, username: string): AnyAuthMethod[] {
  const keys: AnyAuthMethod[] = c.keys.map(({ key }) => ({ type: 'publickey', username, key }));
  const agent: AnyAuthMethod[] = c.agent === undefined ? [] : [{ type: 'agent', username, agent: c.agent }];
  return c.named ? [...keys, ...agent] : [...agent, ...keys];
}
