// The IPVS connection-sync directives (ldirectord-ts extensions; the original never
// touches the kernel's sync daemons): syncdaemon, syncinterface, syncid and the optional
// syncmaxlen, syncgroup, syncport, syncttl. Read strictly, each error with its line; the
// cross-check (syncdaemon needs syncinterface) comes once the whole file is read.
import { isIPv4, isIPv6 } from './ip-literal.js';
import type { SyncDaemonMode, SyncDaemonSettings } from './model.js';
import { fail, ok, type Outcome } from './outcome.js';
import { directive } from './perl-values.js';

export const SYNC_MODES: readonly SyncDaemonMode[] = ['none', 'master', 'backup', 'both'];

/** IFNAMSIZ - 1: the kernel's longest interface name. */
const MAX_IFNAME = 15;
/** ipvsadm's own bound for --sync-maxlen (65535 less the IP and UDP headers). */
export const MAX_SYNC_MAXLEN = 65507;

export const SYNC_MSG = {
  invalidMode: 'invalid syncdaemon: write none, master, backup or both',
  invalidInterface: (v: string) =>
    `invalid syncinterface "${v}": a network interface name of 1 to ${MAX_IFNAME} characters without "/", ":" or spaces is required`,
  invalidSyncId: 'invalid syncid: a whole number from 0 to 255 is required',
  invalidMaxlen: `invalid syncmaxlen: a whole number of bytes from 1 to ${MAX_SYNC_MAXLEN} is required`,
  invalidGroup: (v: string) =>
    `invalid syncgroup "${v}": a numeric IPv4 multicast address (224.0.0.0 to 239.255.255.255) or IPv6 multicast address (ff00::/8) is required`,
  invalidPort: 'invalid syncport: a port from 1 to 65535 is required',
  invalidTtl: 'invalid syncttl: a whole number from 1 to 255 is required',
  interfaceMissing: (mode: SyncDaemonMode) =>
    `syncdaemon=${mode} needs syncinterface=: the network interface the sync messages go through (ipvsadm --mcast-interface)`,
  withoutDaemon: (name: string) => `${name} has no effect without syncdaemon=master, backup or both`,
} as const;

interface At<T> {
  readonly value: T;
  readonly line: number;
}

/** What the scan read; the last line of each directive wins, as for every directive. */
export interface SyncDraft {
  mode?: At<SyncDaemonMode>;
  interface?: At<string>;
  syncid?: At<number>;
  maxlen?: At<number>;
  group?: At<string>;
  port?: At<number>;
  ttl?: At<number>;
}

function wholeNumber(value: string, min: number, max: number): number | undefined {
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  return n >= min && n <= max ? n : undefined;
}

/** A numeric multicast address, as the kernel accepts for a sync group. */
export function isMulticastGroup(value: string): boolean {
  if (isIPv4(value)) {
    const first = Number(value.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  // No zone (%eth0): the interface is syncinterface's.
  return !value.includes('%') && isIPv6(value) && /^ff[0-9a-f]{2}:/i.test(value);
}

function isInterfaceName(value: string): boolean {
  return value.length <= MAX_IFNAME && /^[!-~]+$/.test(value) && !/[/:]/.test(value) && value !== '.' && value !== '..';
}

function numberDirective(
  text: string,
  name: string,
  min: number,
  max: number,
  error: string,
  set: (v: At<number>) => void,
  line: number,
): Outcome | undefined {
  const v = directive(text, name);
  if (v === undefined) return undefined;
  const n = wholeNumber(v, min, max);
  return n === undefined ? fail(error) : ok(() => set({ value: n, line }));
}

/** One global line: its outcome when it is a sync directive, undefined otherwise. */
export function syncDirective(text: string, d: SyncDraft, line: number): Outcome | undefined {
  if (!text.startsWith('sync')) return undefined;
  let v: string | undefined;
  if ((v = directive(text, 'syncdaemon')) !== undefined) {
    const mode = SYNC_MODES.find((m) => m === v);
    return mode ? ok(() => (d.mode = { value: mode, line })) : fail(SYNC_MSG.invalidMode);
  }
  if ((v = directive(text, 'syncinterface')) !== undefined) {
    const name = v;
    return isInterfaceName(name) ? ok(() => (d.interface = { value: name, line })) : fail(SYNC_MSG.invalidInterface(name));
  }
  if ((v = directive(text, 'syncgroup')) !== undefined) {
    const group = v;
    return isMulticastGroup(group) ? ok(() => (d.group = { value: group, line })) : fail(SYNC_MSG.invalidGroup(group));
  }
  return (
    numberDirective(text, 'syncid', 0, 255, SYNC_MSG.invalidSyncId, (x) => (d.syncid = x), line) ??
    numberDirective(text, 'syncmaxlen', 1, MAX_SYNC_MAXLEN, SYNC_MSG.invalidMaxlen, (x) => (d.maxlen = x), line) ??
    numberDirective(text, 'syncport', 1, 65535, SYNC_MSG.invalidPort, (x) => (d.port = x), line) ??
    numberDirective(text, 'syncttl', 1, 255, SYNC_MSG.invalidTtl, (x) => (d.ttl = x), line)
  );
}

/**
 * The settings once the file is read: undefined for syncdaemon=none (or unset), when the
 * daemons are never touched. Parameters without a syncdaemon are warned about: the admin
 * probably meant to turn sync on.
 */
export function buildSyncSettings(
  d: SyncDraft,
  sink: { error(line: number, message: string): void; warn(line: number, message: string): void },
): SyncDaemonSettings | undefined {
  const mode = d.mode?.value ?? 'none';
  if (mode === 'none') {
    const params: [string, At<unknown> | undefined][] = [
      ['syncinterface', d.interface],
      ['syncid', d.syncid],
      ['syncmaxlen', d.maxlen],
      ['syncgroup', d.group],
      ['syncport', d.port],
      ['syncttl', d.ttl],
    ];
    for (const [name, at] of params) if (at) sink.warn(at.line, SYNC_MSG.withoutDaemon(name));
    return undefined;
  }
  if (!d.interface) {
    sink.error(d.mode!.line, SYNC_MSG.interfaceMissing(mode));
    return undefined;
  }
  return {
    mode,
    roles: mode === 'both' ? ['master', 'backup'] : [mode],
    interface: d.interface.value,
    syncid: d.syncid?.value ?? 0,
    ...(d.maxlen ? { maxlen: d.maxlen.value } : {}),
    ...(d.group ? { group: d.group.value } : {}),
    ...(d.port ? { port: d.port.value } : {}),
    ...(d.ttl ? { ttl: d.ttl.value } : {}),
  };
}
