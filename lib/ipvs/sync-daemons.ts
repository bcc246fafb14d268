// The kernel's IPVS connection-sync daemons through ipvsadm: the argument arrays of
// --start-daemon / --stop-daemon, and the parser of `ipvsadm -L --daemon`, which prints
// one line per running role:
//   master sync daemon (mcast=eth0, syncid=1)                                    (old kernels)
//   master sync daemon (mcast=eth0, syncid=1, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)
// (newer kernels report every parameter, the defaults they chose included).
import type { SyncDaemonSettings, SyncParameters, SyncRole } from '../config/model.js';
import { IpvsadmError, ipvsadmFailure } from './errors.js';
import type { IpvsadmRunner } from './ipvsadm-runner.js';
import { canonicalAddress } from './table.js';

/** One role and its parameters: what the config asks for, or what the kernel runs. */
export interface SyncDaemon extends SyncParameters {
  readonly role: SyncRole;
}

export const LIST_DAEMONS_ARGS: readonly string[] = ['-L', '--daemon'];

/** The roles a config asks for, master first. */
export function wantedDaemons(s: SyncDaemonSettings | undefined): SyncDaemon[] {
  if (!s) return [];
  return s.roles.map((role) => ({
    role,
    interface: s.interface,
    syncid: s.syncid,
    ...(s.maxlen !== undefined ? { maxlen: s.maxlen } : {}),
    ...(s.group !== undefined ? { group: s.group } : {}),
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.ttl !== undefined ? { ttl: s.ttl } : {}),
  }));
}

export function startDaemonArgs(d: SyncDaemon): string[] {
  const args = ['--start-daemon', d.role, '--mcast-interface', d.interface, '--syncid', String(d.syncid)];
  if (d.maxlen !== undefined) args.push('--sync-maxlen', String(d.maxlen));
  if (d.group !== undefined) args.push('--mcast-group', d.group);
  if (d.port !== undefined) args.push('--mcast-port', String(d.port));
  if (d.ttl !== undefined) args.push('--mcast-ttl', String(d.ttl));
  return args;
}

export function stopDaemonArgs(role: SyncRole): string[] {
  return ['--stop-daemon', role];
}

const LINE = /^(master|backup) sync daemon \((.*)\)$/;

/** Parses `ipvsadm -L --daemon`; an unknown line is an IpvsadmError `parse`. */
export function parseDaemonListing(text: string): SyncDaemon[] {
  const daemons: SyncDaemon[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line === '') return;
    const bad = (why: string) => new IpvsadmError('parse', `ipvsadm -L --daemon, line ${i + 1}: ${why}: ${line}`, { line: i + 1 });
    const m = LINE.exec(line);
    if (!m) throw bad('not a sync daemon line');
    const fields = new Map<string, string>();
    for (const part of m[2]!.split(', ')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw bad(`"${part}" is not key=value`);
      fields.set(part.slice(0, eq), part.slice(eq + 1));
    }
    const number = (key: string): number | undefined => {
      const v = fields.get(key);
      if (v === undefined) return undefined;
      if (!/^\d{1,10}$/.test(v)) throw bad(`${key} is not a number`);
      return Number(v);
    };
    const iface = fields.get('mcast');
    const syncid = number('syncid');
    if (iface === undefined || syncid === undefined) throw bad('mcast or syncid missing');
    const maxlen = number('maxlen');
    const group = fields.get('group');
    const port = number('port');
    const ttl = number('ttl');
    daemons.push({
      role: m[1] as SyncRole,
      interface: iface,
      syncid,
      ...(maxlen !== undefined ? { maxlen } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
    });
  });
  return daemons;
}

function sameGroup(a: string, b: string): boolean {
  return (canonicalAddress(a)?.address ?? a) === (canonicalAddress(b)?.address ?? b);
}

/**
 * Whether the kernel runs `want` as the config asks. A parameter the config leaves unset
 * is the kernel's choice, and one the kernel does not report (old kernels) cannot be
 * compared: neither counts as a difference. maxlen may be lower than asked: the kernel
 * lowers it to fit the interface's MTU.
 */
export function runsAsWanted(want: SyncDaemon, have: SyncDaemon): boolean {
  if (want.role !== have.role || want.interface !== have.interface || want.syncid !== have.syncid) return false;
  if (want.maxlen !== undefined && have.maxlen !== undefined && have.maxlen > want.maxlen) return false;
  if (want.group !== undefined && have.group !== undefined && !sameGroup(want.group, have.group)) return false;
  if (want.port !== undefined && have.port !== undefined && want.port !== have.port) return false;
  if (want.ttl !== undefined && have.ttl !== undefined && want.ttl !== have.ttl) return false;
  return true;
}

/** `master (mcast=eth0, syncid=1, port=8849)`: how log lines and errors name a role. */
export function describeDaemon(d: SyncDaemon): string {
  const parts = [`mcast=${d.interface}`, `syncid=${d.syncid}`];
  if (d.maxlen !== undefined) parts.push(`maxlen=${d.maxlen}`);
  if (d.group !== undefined) parts.push(`group=${d.group}`);
  if (d.port !== undefined) parts.push(`port=${d.port}`);
  if (d.ttl !== undefined) parts.push(`ttl=${d.ttl}`);
  return `${d.role} (${parts.join(', ')})`;
}

/** The running daemons. Throws IpvsadmError (`no-ipvs`, `spawn`, `timeout`, `failed`, `parse`). */
export async function readSyncDaemons(runner: IpvsadmRunner): Promise<SyncDaemon[]> {
  const r = await runner.run(LIST_DAEMONS_ARGS);
  if (r.exitCode !== 0) throw ipvsadmFailure(LIST_DAEMONS_ARGS, r.exitCode, r.stderr);
  return parseDaemonListing(r.stdout);
}

/** Runs one --start-daemon / --stop-daemon; throws IpvsadmError when ipvsadm refuses. */
export async function runDaemonCommand(runner: IpvsadmRunner, args: readonly string[]): Promise<void> {
  const r = await runner.run(args);
  if (r.exitCode !== 0) throw ipvsadmFailure(args, r.exitCode, r.stderr);
}
