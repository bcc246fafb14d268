// Parsing ipvsadm's listings into the table model (table.ts). No process is run here:
// read-table.ts runs ipvsadm and hands its output to parseListings().
//
// What each listing carries (ipvsadm 1.31, checked against the real kernel in the VM):
//   `ipvsadm -S -n`            services with all options, destinations with forward and
//                              weight; NO thresholds, and a Local destination is saved as -g.
//   `ipvsadm -L -n`            the same, with the forward method as Route/Masq/Tunnel/Local.
//   `ipvsadm -L -n --thresholds`  the upper/lower thresholds, but no forward or weight.
// So the table is read from `-L -n` plus `-L -n --thresholds`, as the original does
// (spec §4.1), but with every line understood (Local included, spec §10), every line
// that is not understood reported, and ipvsadm's errors reported as errors, never as an
// empty table.
import { ownCopy, releaseLastMatch } from '../v8-strings.js';
import { IpvsadmError } from './errors.js';
import {
  canonicalNetmask,
  canonicalSchedFlags,
  parseAddressPort,
  serviceKey,
  type IpvsDestination,
  type IpvsForward,
  type IpvsProtocol,
  type IpvsService,
  type IpvsServiceId,
  type IpvsTable,
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

/** The error for a line of ipvsadm's output that is not understood (`line`: 1-based). */
export function listingParseError(message: string, line: number): IpvsadmError {
  return new IpvsadmError('parse', `cannot read ipvsadm output, line ${line}: ${message}`, { line });
}

/**
 * The service of a `-L -n` (or `--thresholds`) service line, or undefined if it is not one.
 * `lineNo` is asked for only to report an error.
 */
function parseServiceLine(text: string, lineNo: () => number): Omit<IpvsService, 'destinations'> | undefined {
  let id: IpvsServiceId;
  let scheduler: string;
  let rest: string;
  const a = ADDR_SERVICE.exec(text);
  const f = a ? undefined : FWM_SERVICE.exec(text);
  if (a) {
    const ap = parseAddressPort(a[2]!);
    if (!ap) throw listingParseError(`bad virtual address "${a[2]}"`, lineNo());
    id = { protocol: a[1]!.toLowerCase() as IpvsProtocol, family: ap.family, address: ap.address, port: ap.port };
    scheduler = a[3]!;
    rest = a[4]!;
  } else if (f) {
    id = { protocol: 'fwm', family: f[2] ? 6 : 4, fwmark: Number(f[1]) };
    scheduler = f[3]!;
    rest = f[4]!;
  } else return undefined;
  const m = SERVICE_FLAGS.exec(rest);
  if (!m) throw listingParseError(`unknown service flags "${rest.trim()}"`, lineNo());
  const persistent = m[2] !== undefined ? Number(m[2]) : undefined;
  const netmask = canonicalNetmask(id.family, persistent, m[3]);
  const schedFlags = canonicalSchedFlags(scheduler, m[1]);
  return {
    ...id,
    scheduler,
    ...(persistent !== undefined ? { persistent } : {}),
    ...(netmask !== undefined ? { netmask } : {}),
    ops: m[5] !== undefined,
    ...(schedFlags !== undefined ? { schedFlags } : {}),
    ...(m[4] !== undefined ? { pe: m[4] } : {}),
  };
}

// One pass over ipvsadm's stdout, line by line without splitting it into an array: a large
// table is two listings of megabytes, read after every convergence. With a
// scope (service keys), the destinations of other services are skipped unparsed: a
// convergence that concerns one virtual reads its part of the table, not the whole of it.

export type ListingKind = 'plain' | 'thresholds';

const LISTING_NAME: Readonly<Record<ListingKind, string>> = {
  plain: '"ipvsadm -L -n"',
  thresholds: '"ipvsadm -L -n --thresholds"',
};

/** A service block of one listing: thresholds listings leave `svc.destinations` empty. */
export interface ListedService {
  readonly key: string;
  readonly svc: Omit<IpvsService, 'destinations'>;
  readonly destinations: MutableDestination[];
  /** The address tokens as printed, to match a destination across the two listings. */
  readonly tokens: string[];
  readonly thresholds: Array<{ upper: number; lower: number }>;
}

type MutableDestination = { -readonly [K in keyof IpvsDestination]: IpvsDestination[K] };

export interface Listing {
  readonly kind: ListingKind;
  readonly services: ListedService[];
}

/**
 * Cursor over the lines of a text (a last line without '\n' counts; a final '\n' ends it).
 * Line numbers are counted only when asked for (an error to report): skipping the
 * destinations of a service outside the scope then costs one search, not one per line.
 */
class Lines {
  pos = 0;
  /** Where the line last read starts. */
  private last = 0;
  constructor(
    readonly text: string,
    private readonly firstLine = 1,
  ) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  /** The number of the line last read. */
  get lineNo(): number {
    return this.lineAt(this.last);
  }
  /** The number of the line starting at `pos`. */
  lineAt(pos: number): number {
    let n = this.firstLine;
    for (let i = this.text.indexOf('\n'); i >= 0 && i < pos; i = this.text.indexOf('\n', i + 1)) n++;
    return n;
  }
  /** Whether the next line starts with `prefix` (nothing is copied). */
  at(prefix: string): boolean {
    return this.text.startsWith(prefix, this.pos);
  }
  peek(): string {
    const end = this.text.indexOf('\n', this.pos);
    return this.text.slice(this.pos, end < 0 ? this.text.length : end);
  }
  next(): string {
    const line = this.peek();
    this.last = this.pos;
    this.pos += line.length + 1;
    return line;
  }
  /** Moves past the destination lines that follow. */
  skipDestinations(): void {
    DESTINATION_RUN.lastIndex = this.pos;
    const m = this.at('  -> ') ? DESTINATION_RUN.exec(this.text) : null;
    if (m) this.pos = m.index + 1;
    else if (this.at('  -> ')) this.pos = this.text.length;
  }
}

/** The end of a run of destination lines: a line break not followed by another one. */
const DESTINATION_RUN = /\n(?! {2}-> )/g;

const HEADER_START = 'IP Virtual Server version';
const isHeader = (line: string): boolean => line.startsWith(HEADER_START) && HEADER.test(line);

/** Memoised: a table's service lines are the same from one listing to the next. */
const serviceLineCache = new Map<string, { readonly svc: Omit<IpvsService, 'destinations'>; readonly key: string }>();
function cachedServiceLine(
  text: string,
  lineNo: () => number,
): { readonly svc: Omit<IpvsService, 'destinations'>; readonly key: string } | undefined {
  const hit = serviceLineCache.get(text);
  if (hit) return hit;
  const own = ownCopy(text);
  const svc = parseServiceLine(own, lineNo);
  if (!svc) return undefined;
  const parsed = { svc: Object.freeze(svc), key: serviceKey(svc) };
  if (serviceLineCache.size >= 1 << 14) serviceLineCache.clear();
  serviceLineCache.set(own, parsed);
  return parsed;
}

/**
 * Reads one listing from its header line up to the next header line or the end; the
 * column titles tell its kind.
 */
function scanListing(lines: Lines, scope: ReadonlySet<string> | undefined): Listing {
  const start = lines.pos;
  const first = (): number => lines.lineAt(start);
  const header = lines.done ? '' : lines.next();
  if (!isHeader(header)) {
    throw listingParseError(`expected the "IP Virtual Server version" line of ${LISTING_NAME.plain}`, first());
  }
  const title = lines.done ? '' : lines.next();
  const kind: ListingKind = TITLE_THRESHOLDS.test(title) ? 'thresholds' : 'plain';
  const titleOk = kind === 'plain' ? title === TITLE_PLAIN : TITLE_THRESHOLDS.test(title);
  if (!titleOk) throw listingParseError(`expected the column titles of ${LISTING_NAME[kind]}`, first() + 1);
  const title2 = lines.done ? '' : lines.next();
  if (!(kind === 'plain' ? TITLE_PLAIN_2 : TITLE_THRESHOLDS_2).test(title2)) {
    throw listingParseError(`expected the column titles of ${LISTING_NAME[kind]}`, first() + 2);
  }
  const services: ListedService[] = [];
  let cur: ListedService | undefined;
  const lineNo = (): number => lines.lineNo;
  while (!lines.done && !(lines.at(HEADER_START) && isHeader(lines.peek()))) {
    const text = lines.next();
    if (text.startsWith('  -> ')) {
      if (!cur) throw listingParseError('real server outside any virtual service', lineNo());
      if (kind === 'plain') {
        const d = PLAIN_DEST.exec(text);
        if (!d) throw listingParseError(`unknown line "${text}"`, lineNo());
        const ap = parseAddressPort(d[1]!);
        if (!ap) throw listingParseError(`bad real server address "${d[1]}"`, lineNo());
        cur.tokens.push(d[1]!);
        cur.destinations.push({
          address: ap.address,
          port: ap.port,
          forward: FORWARD_NAMES[d[2]!]!,
          weight: Number(d[3]),
          upperThreshold: 0,
          lowerThreshold: 0,
        });
      } else {
        const d = THRESHOLD_DEST.exec(text);
        if (!d) throw listingParseError(`unknown line "${text}"`, lineNo());
        if (!parseAddressPort(d[1]!)) throw listingParseError(`bad real server address "${d[1]}"`, lineNo());
        cur.tokens.push(d[1]!);
        cur.thresholds.push({ upper: Number(d[2]), lower: Number(d[3]) });
      }
      continue;
    }
    const parsed = cachedServiceLine(text, lineNo);
    if (!parsed) throw listingParseError(`unknown line "${text}"`, lineNo());
    const { svc, key } = parsed;
    if (scope !== undefined && !scope.has(key)) {
      // Not parsed, so not checked either: the drift check reads the whole table.
      lines.skipDestinations();
      cur = undefined;
      continue;
    }
    cur = { key, svc, destinations: [], tokens: [], thresholds: [] };
    services.push(cur);
  }
  return { kind, services };
}

/** The table that the service blocks of a plain listing describe. */
export function tableOfListing(services: readonly ListedService[]): IpvsTable {
  return { services: services.map((s) => ({ ...s.svc, destinations: s.destinations })) };
}

/**
 * Every listing of `text`, one after the other (lines numbered from `firstLine`), with
 * only the services whose keys `scope` holds when given. Empty for an empty text.
 */
export function scanListings(text: string, scope?: ReadonlySet<string>, firstLine = 1): Listing[] {
  const lines = new Lines(text, firstLine);
  const listings: Listing[] = [];
  try {
    while (!lines.done) listings.push(scanListing(lines, scope));
  } finally {
    releaseLastMatch();
  }
  return listings;
}

/** Two listings of one read disagree: the table changed between them (readTable() reads again). */
export const tableChangedWhileRead = (): IpvsadmError => new IpvsadmError('parse', 'the IPVS table changed while it was read');

/**
 * The table from the output of `-L -n` followed by `-L -n --thresholds` (in either order),
 * or only the services whose keys `scope` holds. One ipvsadm process prints both listings
 * from the same kernel table one after the other, so they show the same services and
 * destinations in the same order unless the table changed in between: they are matched by
 * position, and any difference is reported as such (readTable() then reads again).
 */
export function parseListings(stdout: string, scope?: ReadonlySet<string>): IpvsTable {
  const first = new Lines(stdout);
  if (!first.done && !isHeader(first.peek())) throw listingParseError(`unexpected line "${first.peek()}" before any listing`, 1);
  const listings = scanListings(stdout, scope);
  const plain = listings.filter((l) => l.kind === 'plain');
  const thr = listings.filter((l) => l.kind === 'thresholds');
  if (plain.length !== 1 || thr.length !== 1) {
    throw new IpvsadmError('parse', `expected one plain and one thresholds listing, got ${plain.length} and ${thr.length}`);
  }
  const p = plain[0]!.services;
  const t = thr[0]!.services;
  if (p.length !== t.length) throw tableChangedWhileRead();
  for (let i = 0; i < p.length; i++) {
    const a = p[i]!;
    const b = t[i]!;
    if (a.key !== b.key || a.tokens.length !== b.tokens.length) throw tableChangedWhileRead();
    for (let j = 0; j < a.tokens.length; j++) {
      if (a.tokens[j] !== b.tokens[j]) throw tableChangedWhileRead();
      const d = a.destinations[j]!;
      d.upperThreshold = b.thresholds[j]!.upper;
      d.lowerThreshold = b.thresholds[j]!.lower;
    }
  }
  return tableOfListing(p);
}

/** The restore-format input that prints both listings from one ipvsadm process. */
export const LISTING_COMMANDS = '-L -n\n-L -n --thresholds\n';
