// Reading the kernel's IPVS table through ipvsadm.
//
// What each listing carries (ipvsadm 1.31, checked against the real kernel in the VM):
//   `ipvsadm -S -n`            services with all options, destinations with forward and
//                              weight; NO thresholds, and a Local destination is saved as -g.
//   `ipvsadm -L -n`            the same, with the forward method as Route/Masq/Tunnel/Local.
//   `ipvsadm -L -n --thresholds`  the upper/lower thresholds, but no forward or weight.
// So the table is read from `-L -n` plus `-L -n --thresholds`, as the original does
// (spec §4.1), but with every line understood (Local included, spec §10), every line
// that is not understood reported, and ipvsadm's errors reported as errors, never as an
// empty table. parseSave() reads `-S -n` output (saved tables, fixtures).
import type { IpvsadmRunner } from './ipvsadm.js';
import { IpvsadmError, ipvsadmFailure } from './errors.js';
import {
  canonicalNetmask, canonicalSchedFlags, destinationKey, parseAddressPort, serviceKey,
  type IpvsDestination, type IpvsForward, type IpvsProtocol, type IpvsService, type IpvsServiceId, type IpvsTable,
} from './table.js';

const HEADER = /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)$/;
const TITLE_PLAIN = 'Prot LocalAddress:Port Scheduler Flags';
const TITLE_PLAIN_2 = /^ {2}-> RemoteAddress:Port +Forward Weight ActiveConn InActConn$/;
const TITLE_THRESHOLDS = /^Prot LocalAddress:Port +Uthreshold Lthreshold ActiveConn InActConn *$/;
const TITLE_THRESHOLDS_2 = /^ {2}-> RemoteAddress:Port$/;

const ADDR_SERVICE = /^(TCP|UDP|SCTP) {1,2}(\S+) (\S+)(.*)$/;
const FWM_SERVICE = /^FWM {2}(\d+)( IPv6)? (\S+)(.*)$/;
const SERVICE_FLAGS = /^(?: \(([^)]*)\))?(?: persistent (\d+)(?: mask (\S+))?(?: pe (\S+))?)?( ops)?$/;
const PLAIN_DEST = /^ {2}-> (\S+) +(Route|Masq|Tunnel|Local) +(\d+) +(\d+) +(\d+) *$/;
const THRESHOLD_DEST = /^ {2}-> (\S+) +(\d+) +(\d+) +(\d+) +(\d+) *$/;

const FORWARD_NAMES: Readonly<Record<string, IpvsForward>> = { Route: 'gate', Masq: 'masq', Tunnel: 'ipip', Local: 'local' };

function parseError(message: string, line: number): IpvsadmError {
  return new IpvsadmError('parse', `cannot read ipvsadm output, line ${line}: ${message}`, { line });
}

interface MutableService { id: IpvsServiceId; svc: Omit<IpvsService, 'destinations'>; destinations: IpvsDestination[] }

/** The service of a `-L -n` (or `--thresholds`) service line, or undefined if it is not one. */
function parseServiceLine(text: string, lineNo: number): Omit<IpvsService, 'destinations'> | undefined {
  let id: IpvsServiceId;
  let scheduler: string;
  let rest: string;
  const a = ADDR_SERVICE.exec(text);
  const f = a ? undefined : FWM_SERVICE.exec(text);
  if (a) {
    const ap = parseAddressPort(a[2]!);
    if (!ap) throw parseError(`bad virtual address "${a[2]}"`, lineNo);
    id = { protocol: a[1]!.toLowerCase() as IpvsProtocol, family: ap.family, address: ap.address, port: ap.port };
    scheduler = a[3]!;
    rest = a[4]!;
  } else if (f) {
    id = { protocol: 'fwm', family: f[2] ? 6 : 4, fwmark: Number(f[1]) };
    scheduler = f[3]!;
    rest = f[4]!;
  } else return undefined;
  const m = SERVICE_FLAGS.exec(rest);
  if (!m) throw parseError(`unknown service flags "${rest.trim()}"`, lineNo);
  const persistent = m[2] !== undefined ? Number(m[2]) : undefined;
  const netmask = canonicalNetmask(id.family, persistent, m[3]);
  const schedFlags = canonicalSchedFlags(scheduler, m[1]);
  return {
    ...id, scheduler,
    ...(persistent !== undefined ? { persistent } : {}),
    ...(netmask !== undefined ? { netmask } : {}),
    ops: m[5] !== undefined,
    ...(schedFlags !== undefined ? { schedFlags } : {}),
    ...(m[4] !== undefined ? { pe: m[4] } : {}),
  };
}

function checkHeader(lines: readonly string[], title: (l: string) => boolean, title2: RegExp, what: string): void {
  if (!HEADER.test(lines[0] ?? '')) throw parseError(`expected the "IP Virtual Server version" line of ${what}`, 1);
  if (!title(lines[1] ?? '')) throw parseError(`expected the column titles of ${what}`, 2);
  if (!title2.test(lines[2] ?? '')) throw parseError(`expected the column titles of ${what}`, 3);
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Parses the output of `ipvsadm -L -n`. Thresholds are not in it and read as 0. */
export function parseListing(text: string, firstLine = 1): IpvsTable {
  const lines = splitLines(text);
  try {
    checkHeader(lines, (l) => l === TITLE_PLAIN, TITLE_PLAIN_2, '"ipvsadm -L -n"');
  } catch (e) {
    throw shiftLine(e, firstLine);
  }
  const services: MutableService[] = [];
  for (let i = 3; i < lines.length; i++) {
    const text = lines[i]!;
    const lineNo = firstLine + i;
    const svc = parseServiceLine(text, lineNo);
    if (svc) {
      services.push({ id: svc, svc, destinations: [] });
      continue;
    }
    const d = PLAIN_DEST.exec(text);
    if (!d) throw parseError(`unknown line "${text}"`, lineNo);
    const cur = services[services.length - 1];
    if (!cur) throw parseError('real server outside any virtual service', lineNo);
    const ap = parseAddressPort(d[1]!);
    if (!ap) throw parseError(`bad real server address "${d[1]}"`, lineNo);
    cur.destinations.push({
      address: ap.address, port: ap.port, forward: FORWARD_NAMES[d[2]!]!, weight: Number(d[3]),
      upperThreshold: 0, lowerThreshold: 0,
    });
  }
  return { services: services.map((s) => ({ ...s.svc, destinations: s.destinations })) };
}

/** Thresholds by service key, then destination key, from `ipvsadm -L -n --thresholds`. */
export type ThresholdMap = Map<string, Map<string, { upper: number; lower: number }>>;

/** Parses the output of `ipvsadm -L -n --thresholds`. */
export function parseThresholdListing(text: string, firstLine = 1): ThresholdMap {
  const lines = splitLines(text);
  try {
    checkHeader(lines, (l) => TITLE_THRESHOLDS.test(l), TITLE_THRESHOLDS_2, '"ipvsadm -L -n --thresholds"');
  } catch (e) {
    throw shiftLine(e, firstLine);
  }
  const out: ThresholdMap = new Map();
  let cur: Map<string, { upper: number; lower: number }> | undefined;
  for (let i = 3; i < lines.length; i++) {
    const text = lines[i]!;
    const lineNo = firstLine + i;
    const svc = parseServiceLine(text, lineNo);
    if (svc) {
      cur = new Map();
      out.set(serviceKey(svc), cur);
      continue;
    }
    const d = THRESHOLD_DEST.exec(text);
    if (!d) throw parseError(`unknown line "${text}"`, lineNo);
    if (!cur) throw parseError('real server outside any virtual service', lineNo);
    const ap = parseAddressPort(d[1]!);
    if (!ap) throw parseError(`bad real server address "${d[1]}"`, lineNo);
    cur.set(destinationKey(ap), { upper: Number(d[2]), lower: Number(d[3]) });
  }
  return out;
}

function shiftLine(e: unknown, firstLine: number): unknown {
  if (e instanceof IpvsadmError && e.details.line !== undefined && firstLine !== 1) {
    const line = e.details.line + firstLine - 1;
    return new IpvsadmError('parse', e.message.replace(/line \d+/, `line ${line}`), { line });
  }
  return e;
}

/**
 * Adds the thresholds to a table read with `-L -n`. Throws when the two listings do not
 * show the same services and destinations (the table changed between them).
 */
export function mergeThresholds(table: IpvsTable, thresholds: ThresholdMap): IpvsTable {
  if (thresholds.size !== table.services.length) throw new IpvsadmError('parse', 'the IPVS table changed while it was read');
  return {
    services: table.services.map((s) => {
      const t = thresholds.get(serviceKey(s));
      if (!t || t.size !== s.destinations.length) throw new IpvsadmError('parse', 'the IPVS table changed while it was read');
      return {
        ...s,
        destinations: s.destinations.map((d) => {
          const x = t.get(destinationKey(d));
          if (!x) throw new IpvsadmError('parse', 'the IPVS table changed while it was read');
          return { ...d, upperThreshold: x.upper, lowerThreshold: x.lower };
        }),
      };
    }),
  };
}

/**
 * The listings in one stdout (ipvsadm -R running several -L commands prints them one
 * after the other), each with its kind and first line number.
 */
export function splitListings(stdout: string): Array<{ kind: 'plain' | 'thresholds'; text: string; firstLine: number }> {
  const lines = splitLines(stdout);
  const out: Array<{ kind: 'plain' | 'thresholds'; text: string; firstLine: number }> = [];
  let start = -1;
  const flush = (end: number): void => {
    if (start < 0) return;
    const chunk = lines.slice(start, end);
    out.push({ kind: TITLE_THRESHOLDS.test(chunk[1] ?? '') ? 'thresholds' : 'plain', text: chunk.join('\n') + '\n', firstLine: start + 1 });
  };
  for (let i = 0; i < lines.length; i++) {
    if (HEADER.test(lines[i]!)) {
      flush(i);
      start = i;
    } else if (start < 0) {
      throw parseError(`unexpected line "${lines[i]}" before any listing`, i + 1);
    }
  }
  flush(lines.length);
  return out;
}

/** The table from the output of `-L -n` followed by `-L -n --thresholds` (in either order). */
export function parseListings(stdout: string): IpvsTable {
  const parts = splitListings(stdout);
  const plain = parts.filter((p) => p.kind === 'plain');
  const thr = parts.filter((p) => p.kind === 'thresholds');
  if (plain.length !== 1 || thr.length !== 1) {
    throw new IpvsadmError('parse', `expected one plain and one thresholds listing, got ${plain.length} and ${thr.length}`);
  }
  return mergeThresholds(parseListing(plain[0]!.text, plain[0]!.firstLine), parseThresholdListing(thr[0]!.text, thr[0]!.firstLine));
}

/** The restore-format input that prints both listings from one ipvsadm process. */
export const LISTING_COMMANDS = '-L -n\n-L -n --thresholds\n';

// ------------------------------------------------------------ ipvsadm -S ----

function takeService(tokens: string[], lineNo: number): IpvsServiceId {
  const opt = tokens.shift();
  const arg = tokens.shift();
  if (arg === undefined) throw parseError('missing virtual service', lineNo);
  if (opt === '-f') {
    const six = tokens[0] === '-6';
    if (six) tokens.shift();
    if (!/^\d+$/.test(arg)) throw parseError(`bad fwmark "${arg}"`, lineNo);
    return { protocol: 'fwm', family: six ? 6 : 4, fwmark: Number(arg) };
  }
  const protocol: IpvsProtocol | undefined = opt === '-t' ? 'tcp' : opt === '-u' ? 'udp' : opt === '--sctp-service' ? 'sctp' : undefined;
  const ap = parseAddressPort(arg);
  if (!protocol || !ap) throw parseError(`bad virtual service "${opt} ${arg}"`, lineNo);
  return { protocol, family: ap.family, address: ap.address, port: ap.port };
}

/** Parses `ipvsadm -S -n` output. Thresholds are not saved by ipvsadm and read as 0. */
export function parseSave(text: string): IpvsTable {
  const services = new Map<string, MutableService>();
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const tokens = lines[i]!.split(/[ \t]+/).filter((t) => t !== '');
    if (tokens.length === 0) continue;
    const cmd = tokens.shift();
    if (cmd === '-A') {
      const id = takeService(tokens, lineNo);
      let scheduler = 'wlc', persistent: number | undefined, netmask: string | undefined, ops = false;
      let flags: string | undefined, pe: string | undefined;
      while (tokens.length > 0) {
        const t = tokens.shift()!;
        if (t === '-s') scheduler = tokens.shift() ?? '';
        else if (t === '-p') persistent = Number(tokens.shift());
        else if (t === '-M') netmask = tokens.shift();
        else if (t === '--pe') pe = tokens.shift();
        else if (t === '-o') ops = true;
        else if (t === '-b') flags = tokens.shift() ?? '';
        else throw parseError(`unknown option "${t}"`, lineNo);
      }
      const nm = canonicalNetmask(id.family, persistent, netmask);
      const sf = canonicalSchedFlags(scheduler, flags);
      const svc = {
        ...id, scheduler,
        ...(persistent !== undefined ? { persistent } : {}),
        ...(nm !== undefined ? { netmask: nm } : {}),
        ops,
        ...(sf !== undefined ? { schedFlags: sf } : {}),
        ...(pe !== undefined ? { pe } : {}),
      };
      services.set(serviceKey(id), { id, svc, destinations: [] });
    } else if (cmd === '-a') {
      const id = takeService(tokens, lineNo);
      const s = services.get(serviceKey(id));
      if (!s) throw parseError('real server of a virtual service not saved before it', lineNo);
      let ap: ReturnType<typeof parseAddressPort>, forward: IpvsForward = 'gate', weight = 1;
      while (tokens.length > 0) {
        const t = tokens.shift()!;
        if (t === '-r') ap = parseAddressPort(tokens.shift() ?? '');
        else if (t === '-g') forward = 'gate';
        else if (t === '-m') forward = 'masq';
        else if (t === '-i') forward = 'ipip';
        else if (t === '-w') weight = Number(tokens.shift());
        else if (t === '--tun-type' || t === '--tun-port') tokens.shift();
        else if (t === '--tun-nocsum' || t === '--tun-csum' || t === '--tun-remcsum') continue;
        else throw parseError(`unknown option "${t}"`, lineNo);
      }
      if (!ap) throw parseError('bad or missing real server address', lineNo);
      s.destinations.push({ address: ap.address, port: ap.port, forward, weight, upperThreshold: 0, lowerThreshold: 0 });
    } else {
      throw parseError(`unknown line "${lines[i]}"`, lineNo);
    }
  }
  return { services: [...services.values()].map((s) => ({ ...s.svc, destinations: s.destinations })) };
}

// --------------------------------------------------------------- reading ----

/**
 * Reads the kernel table: one ipvsadm process runs `-L -n` and `-L -n --thresholds`
 * (restore input may hold any ipvsadm command, listings included). One process instead
 * of two halves the cost of a read and narrows the window in which the table can change
 * between the two listings; if it did change, the read is repeated.
 * Throws IpvsadmError: `no-ipvs`, `spawn`, `timeout`, `failed` or `parse`.
 */
export async function readTable(runner: IpvsadmRunner, attempts = 3): Promise<IpvsTable> {
  for (let i = 1; ; i++) {
    const text = await readListings(runner);
    try {
      return parseListings(text);
    } catch (e) {
      if (i >= attempts || !(e instanceof IpvsadmError) || !/changed while/.test(e.message)) throw e;
    }
  }
}

/** The listings readTable() parses, as ipvsadm printed them (one process). */
export async function readListings(runner: IpvsadmRunner): Promise<string> {
  const r = await runner.run(['-R'], LISTING_COMMANDS);
  if (r.exitCode !== 0) throw ipvsadmFailure(['-R'], r.exitCode, r.stderr);
  return r.stdout;
}

