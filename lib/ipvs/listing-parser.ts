// Parsing ipvsadm's listings into the table model (table.ts). No process is run here:
// read-table.ts runs ipvsadm and hands its output to a ListingStream as it arrives.
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
import { plainDestination, thresholdDestination } from './destination-bytes.js';
import { IpvsadmError } from './errors.js';
import { digestOf, mixBytes, mixText, newLanes, type DigestLanes } from './service-digest.js';
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

// The daemon parses ipvsadm's stdout line by line as it arrives (ListingStream): a large
// table is two listings of megabytes, which are then never held whole, nor the buffers
// they came in. With a scope (service keys), the destinations of other services are
// skipped unparsed: a convergence that concerns one virtual reads its part of the table,
// not the whole of it.

export type ListingKind = 'plain' | 'thresholds';

const LISTING_NAME: Readonly<Record<ListingKind, string>> = {
  plain: '"ipvsadm -L -n"',
  thresholds: '"ipvsadm -L -n --thresholds"',
};

/** A service block of one listing: thresholds listings leave `destinations` empty. */
export interface ListedService {
  readonly key: string;
  readonly svc: Omit<IpvsService, 'destinations'>;
  readonly destinations: MutableDestination[];
  /** Thresholds listings only: each destination with its thresholds. */
  readonly thresholds: Array<{ readonly address: string; readonly port: number; readonly upper: number; readonly lower: number }>;
}

type MutableDestination = { -readonly [K in keyof IpvsDestination]: IpvsDestination[K] };

export interface Listing {
  readonly kind: ListingKind;
  readonly services: ListedService[];
}

const HEADER_START = 'IP Virtual Server version';
const DEST_PREFIX = '  -> ';
/** DEST_PREFIX as bytes. */
const DEST_BYTES = Buffer.from(DEST_PREFIX, 'latin1');
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

/** Where the scanner is within a listing: which line it expects next. */
type Stage = 'header' | 'title' | 'title2' | 'body';

/** With digests: a listing's kind and how many service and destination lines it had. */
interface ListingShape {
  readonly kind: ListingKind;
  services: number;
  destinations: number;
}

/**
 * Reads listings line by line, in order, with one state across calls, so that a listing
 * can be parsed as ipvsadm prints it. A listing runs from its header line to the next
 * header line or the end; the column titles tell its kind.
 * Throws IpvsadmError `parse` at the first line it does not understand.
 */
export class ListingScanner {
  private listings: Listing[] = [];
  private stage: Stage = 'header';
  private kind: ListingKind = 'plain';
  private cur: ListedService | undefined;
  /** Within the destinations of a service outside the scope. */
  private skipping = false;
  /** Line number of the current listing's header. */
  private headerLine = 0;
  /** Number of the next line given. */
  private nextLine: number;
  /** Per service key, the digest of its lines so far (service-digest.ts); undefined: none kept. */
  private readonly lanes: Map<string, DigestLanes> | undefined;
  /** Those of the service whose lines are being read. */
  private curLanes: DigestLanes | undefined;
  private readonly shapes: ListingShape[] = [];
  /** The last of `shapes`, kept at hand: it is counted at every destination line. */
  private shape: ListingShape | undefined;

  /** Digests kept for services outside the scope too. */
  private readonly digestAll: boolean;

  /** `digests`: keep a digest of each service of the scope, or of every service listed (digests()). */
  constructor(
    private readonly scope?: ReadonlySet<string>,
    firstLine = 1,
    digests?: 'scope' | 'all',
  ) {
    this.nextLine = firstLine;
    this.lanes = digests ? new Map() : undefined;
    this.digestAll = digests === 'all';
  }

  /** One line, without its line break; `digested`: a destination line already given to digestDestination(). */
  line(text: string, digested = false): void {
    const n = this.nextLine++;
    const destination = text.startsWith(DEST_PREFIX);
    if (destination && !digested && this.lanes && this.stage === 'body') {
      this.shape!.destinations++;
      if (this.curLanes) mixText(this.curLanes, text, true);
    }
    if (!(this.skipping && destination)) this.take(text, () => n);
  }

  /** A destination line's bytes (from `start` to its line break at `end`) for the digest of its service. */
  digestDestination(chunk: Buffer, start: number, end: number): void {
    if (!this.lanes || this.stage !== 'body') return;
    this.shape!.destinations++;
    if (this.curLanes) mixBytes(this.curLanes, chunk, start, end, true);
  }

  private lanesOf(key: string): DigestLanes {
    let l = this.lanes!.get(key);
    if (!l) this.lanes!.set(key, (l = newLanes()));
    return l;
  }

  /**
   * Each service's digest, by key (an empty map when the scanner keeps none), once every
   * line has been given. Throws IpvsadmError `parse` when the two listings do not list as
   * many services and destinations (as joinListings() would for a parsed table).
   */
  digests(): Map<string, number> {
    const plain = this.shapes.filter((l) => l.kind === 'plain');
    const thr = this.shapes.filter((l) => l.kind === 'thresholds');
    if (this.lanes && (plain.length !== 1 || thr.length !== 1)) throw bothListingsExpected(plain.length, thr.length);
    if (this.lanes && (plain[0]!.services !== thr[0]!.services || plain[0]!.destinations !== thr[0]!.destinations)) {
      throw tableChangedWhileRead();
    }
    const out = new Map<string, number>();
    for (const [key, l] of this.lanes ?? []) out.set(key, digestOf(l));
    return out;
  }

  /** Whether destination lines are being passed over (a service outside the scope): skip() them unread. */
  get skippingDestinations(): boolean {
    return this.skipping;
  }

  /** A destination line of a service outside the scope, not read. */
  skip(): void {
    this.nextLine++;
  }

  /**
   * A destination line given as the bytes it came in (from `start` to its line break at
   * `end`): read there if it is an IPv4 one (destination-bytes.ts); else false, nothing
   * consumed, for line() to read as text.
   */
  destinationBytes(chunk: Buffer, start: number, end: number): boolean {
    const cur = this.cur;
    if (this.stage !== 'body' || !cur) return false;
    if (this.kind === 'plain') {
      const d = plainDestination(chunk, start, end);
      if (!d) return false;
      cur.destinations.push(d);
    } else {
      const t = thresholdDestination(chunk, start, end);
      if (!t) return false;
      cur.thresholds.push(t);
    }
    this.nextLine++;
    return true;
  }

  /** The listings, once every line has been given. */
  end(): Listing[] {
    if (this.stage === 'title' || this.stage === 'title2') {
      const line = this.headerLine + (this.stage === 'title' ? 1 : 2);
      throw listingParseError(`expected the column titles of ${LISTING_NAME[this.kind]}`, line);
    }
    // Handed over, not kept: a read's stream lives on in its pipe's listeners until the pipe
    // has closed, while the caller already works with (or has dropped) what it parsed.
    const listings = this.listings;
    this.listings = [];
    return listings;
  }

  private take(text: string, lineNo: () => number): void {
    if (this.stage === 'body') {
      if (text.startsWith(DEST_PREFIX)) {
        if (!this.cur) throw listingParseError('real server outside any virtual service', lineNo());
        this.destination(this.cur, text, lineNo);
        return;
      }
      if (!isHeader(text)) {
        this.service(text, lineNo);
        return;
      }
      this.stage = 'header';
      this.skipping = false;
      this.curLanes = undefined;
    }
    switch (this.stage) {
      case 'header':
        if (!isHeader(text)) {
          throw listingParseError(`expected the "IP Virtual Server version" line before any listing, got "${text}"`, lineNo());
        }
        this.headerLine = lineNo();
        this.stage = 'title';
        return;
      case 'title': {
        this.kind = TITLE_THRESHOLDS.test(text) ? 'thresholds' : 'plain';
        const ok = this.kind === 'plain' ? text === TITLE_PLAIN : TITLE_THRESHOLDS.test(text);
        if (!ok) throw listingParseError(`expected the column titles of ${LISTING_NAME[this.kind]}`, lineNo());
        this.stage = 'title2';
        return;
      }
      default:
        if (!(this.kind === 'plain' ? TITLE_PLAIN_2 : TITLE_THRESHOLDS_2).test(text)) {
          throw listingParseError(`expected the column titles of ${LISTING_NAME[this.kind]}`, lineNo());
        }
        this.listings.push({ kind: this.kind, services: [] });
        if (this.lanes) this.shapes.push((this.shape = { kind: this.kind, services: 0, destinations: 0 }));
        this.cur = undefined;
        this.stage = 'body';
    }
  }

  private service(text: string, lineNo: () => number): void {
    const parsed = cachedServiceLine(text, lineNo);
    if (!parsed) throw listingParseError(`unknown line "${text}"`, lineNo());
    const { svc, key } = parsed;
    // Not parsed, so not checked either: the drift check reads the whole table.
    this.skipping = this.scope !== undefined && !this.scope.has(key);
    if (this.lanes) {
      this.shape!.services++;
      this.curLanes = this.digestAll || !this.skipping ? this.lanesOf(key) : undefined;
      if (this.curLanes) mixText(this.curLanes, text, false);
    }
    this.cur = this.skipping ? undefined : { key, svc, destinations: [], thresholds: [] };
    if (this.cur) this.listings.at(-1)!.services.push(this.cur);
  }

  private destination(cur: ListedService, text: string, lineNo: () => number): void {
    if (this.kind === 'plain') {
      const d = PLAIN_DEST.exec(text);
      if (!d) throw listingParseError(`unknown line "${text}"`, lineNo());
      const ap = parseAddressPort(d[1]!);
      if (!ap) throw listingParseError(`bad real server address "${d[1]}"`, lineNo());
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
      const ap = parseAddressPort(d[1]!);
      if (!ap) throw listingParseError(`bad real server address "${d[1]}"`, lineNo());
      cur.thresholds.push({ address: ap.address, port: ap.port, upper: Number(d[2]), lower: Number(d[3]) });
    }
  }
}

/**
 * ipvsadm's stdout given chunk by chunk as it arrives. Each line is decoded on its own,
 * straight from the chunk: no string of a chunk's size is made, which V8 would promote
 * and keep until its next full collection. The first error is kept, and what follows it
 * ignored, until end(): whether it counts depends on how ipvsadm exited, known only then.
 */
export class ListingStream {
  private readonly scanner: ListingScanner;
  private partial = '';
  private error: unknown;

  /** `digests`: see ListingScanner. */
  constructor(scope?: ReadonlySet<string>, firstLine = 1, digests?: 'scope' | 'all') {
    this.scanner = new ListingScanner(scope, firstLine, digests);
  }

  /**
   * ipvsadm prints ASCII (the runner sets LC_ALL=C: addresses, numbers, names), and
   * decoding as ascii is a plain copy where utf8 or latin1 decode byte by byte. The
   * destinations of services outside the scope are recognised in the bytes and not decoded.
   */
  push(chunk: Buffer): void {
    if (this.error !== undefined) return;
    let start = 0;
    try {
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        const from = start;
        start = nl + 1;
        let digested = false;
        if (this.partial === '' && isDestination(chunk, from, nl)) {
          this.scanner.digestDestination(chunk, from, nl);
          digested = true;
          if (this.scanner.skippingDestinations) {
            this.scanner.skip();
            continue;
          }
          if (this.scanner.destinationBytes(chunk, from, nl)) continue;
        }
        const text = chunk.toString('ascii', from, nl);
        const whole = this.partial === '' ? text : this.partial + text;
        this.partial = '';
        this.scanner.line(whole, digested);
      }
      if (start < chunk.length) this.partial += chunk.toString('ascii', start);
    } catch (e) {
      this.error = e;
    } finally {
      releaseLastMatch();
    }
  }

  /** The listings; throws the first error (IpvsadmError `parse`). */
  end(): Listing[] {
    if (this.error === undefined && this.partial !== '') {
      try {
        this.scanner.line(this.partial);
      } catch (e) {
        this.error = e;
      }
      this.partial = '';
    }
    if (this.error !== undefined) throw this.error;
    return this.scanner.end();
  }

  /** Each service's digest, by key, once end() has returned (see ListingScanner). */
  digests(): Map<string, number> {
    return this.scanner.digests();
  }
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
  const stream = new ListingStream(scope, firstLine);
  stream.push(Buffer.from(text, 'latin1'));
  return stream.end();
}

const bothListingsExpected = (plain: number, thresholds: number): IpvsadmError =>
  new IpvsadmError('parse', `expected one plain and one thresholds listing, got ${plain} and ${thresholds}`);

/** Two listings of one read disagree: the table changed between them (readTable() reads again). */
export const tableChangedWhileRead = (): IpvsadmError => new IpvsadmError('parse', 'the IPVS table changed while it was read');

/**
 * The table from the listings of `-L -n` and `-L -n --thresholds` (in either order). One
 * ipvsadm process prints both from the same kernel table one after the other, so they
 * show the same services and destinations in the same order unless the table changed in
 * between: they are matched by position, and any difference is reported as such
 * (readTable() then reads again).
 */
export function joinListings(listings: readonly Listing[]): IpvsTable {
  const plain = listings.filter((l) => l.kind === 'plain');
  const thr = listings.filter((l) => l.kind === 'thresholds');
  if (plain.length !== 1 || thr.length !== 1) throw bothListingsExpected(plain.length, thr.length);
  const p = plain[0]!.services;
  const t = thr[0]!.services;
  if (p.length !== t.length) throw tableChangedWhileRead();
  for (let i = 0; i < p.length; i++) {
    const a = p[i]!;
    const b = t[i]!;
    if (a.key !== b.key || a.destinations.length !== b.thresholds.length) throw tableChangedWhileRead();
    for (let j = 0; j < a.destinations.length; j++) {
      const d = a.destinations[j]!;
      const th = b.thresholds[j]!;
      if (d.address !== th.address || d.port !== th.port) throw tableChangedWhileRead();
      d.upperThreshold = th.upper;
      d.lowerThreshold = th.lower;
    }
  }
  return tableOfListing(p);
}

/** The table from ipvsadm's whole output of LISTING_COMMANDS (see joinListings()), or only the services in `scope`. */
export function parseListings(stdout: string, scope?: ReadonlySet<string>): IpvsTable {
  return joinListings(scanListings(stdout, scope));
}

/** The restore-format input that prints both listings from one ipvsadm process. */
export const LISTING_COMMANDS = '-L -n\n-L -n --thresholds\n';

/** Whether the bytes from `start` to `end` begin with DEST_PREFIX. */
function isDestination(chunk: Buffer, start: number, end: number): boolean {
  return end - start >= DEST_BYTES.length && chunk.compare(DEST_BYTES, 0, DEST_BYTES.length, start, start + DEST_BYTES.length) === 0;
}
