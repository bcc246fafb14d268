// The arguments after `sync`: options first (GNU style, --name=value or --name value,
// -i/-p with a separate or attached value), then one or more peers; `--` ends options.
export interface SyncArgs {
  readonly identities: readonly string[];
  readonly knownHosts: readonly string[];
  readonly port: number;
  readonly reload: boolean;
  readonly remoteLdirectord: string;
  readonly timeoutSeconds: number;
  readonly peers: readonly string[];
}

export const SYNC_DEFAULTS = { port: 22, remoteLdirectord: 'ldirectord', timeoutSeconds: 60 } as const;

type Valued = 'identity' | 'known-hosts' | 'port' | 'remote-ldirectord' | 'timeout';
const VALUED: readonly Valued[] = ['identity', 'known-hosts', 'port', 'remote-ldirectord', 'timeout'];
const SHORT: Record<string, Valued> = { i: 'identity', p: 'port' };

export function parseSyncArgs(argv: readonly string[]): SyncArgs | { error: string } {
  const identities: string[] = [];
  const knownHosts: string[] = [];
  let port: number = SYNC_DEFAULTS.port;
  let reload = false;
  let remoteLdirectord: string = SYNC_DEFAULTS.remoteLdirectord;
  let timeoutSeconds: number = SYNC_DEFAULTS.timeoutSeconds;
  const set = (name: Valued, value: string): string | undefined => {
    switch (name) {
      case 'identity':
        identities.push(value);
        return undefined;
      case 'known-hosts':
        knownHosts.push(value);
        return undefined;
      case 'remote-ldirectord':
        if (value === '') return '--remote-ldirectord needs a command';
        remoteLdirectord = value;
        return undefined;
      case 'port':
        if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) return `invalid port "${value}"`;
        port = Number(value);
        return undefined;
      case 'timeout':
        if (!/^\d+$/.test(value) || Number(value) < 1) return `invalid timeout "${value}" (whole seconds, at least 1)`;
        timeoutSeconds = Number(value);
        return undefined;
    }
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    let name: Valued | undefined;
    let value: string | undefined;
    if (a === '--reload') {
      reload = true;
      continue;
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = a.slice(2, eq < 0 ? undefined : eq);
      name = VALUED.find((v) => v === key);
      if (!name) return { error: `unknown option ${a}` };
      if (eq >= 0) value = a.slice(eq + 1);
    } else if (a.startsWith('-') && a.length > 1) {
      name = SHORT[a[1]!];
      if (!name) return { error: `unknown option ${a}` };
      if (a.length > 2) value = a.slice(2);
    } else break;
    if (value === undefined) {
      if (i + 1 >= argv.length) return { error: `option ${a} needs a value` };
      value = argv[++i]!;
    }
    const problem = set(name, value);
    if (problem) return { error: problem };
  }
  const peers = argv.slice(i);
  if (peers.length === 0) return { error: 'no peer given' };
  return { identities, knownHosts, port, reload, remoteLdirectord, timeoutSeconds, peers };
}
