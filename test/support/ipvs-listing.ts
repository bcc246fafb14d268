// Reading ipvsadm output the daemon itself never reads: a lone `-L -n` or `--thresholds`
// listing, and saved tables (`ipvsadm -S -n`), for tests and the e2e guest that compare
// what the real and the fake ipvsadm print. The daemon reads both listings from one
// process (lib/ipvs/listing-parser.ts parseListings); the lone listings here go through
// the same scanner.
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import {
  listingParseError,
  scanListings,
  tableChangedWhileRead,
  tableOfListing,
  type Listing,
  type ListingKind,
} from '../../lib/ipvs/listing-parser.js';
import {
  canonicalNetmask,
  canonicalSchedFlags,
  destinationKey,
  parseAddressPort,
  serviceKey,
  type IpvsDestination,
  type IpvsForward,
  type IpvsProtocol,
  type IpvsService,
  type IpvsServiceId,
  type IpvsTable,
} from '../../lib/ipvs/table.js';

const LISTING_NAME: Readonly<Record<ListingKind, string>> = {
  plain: '"ipvsadm -L -n"',
  thresholds: '"ipvsadm -L -n --thresholds"',
};

/** The one listing, of kind `kind`, that `text` holds. */
function loneListing(text: string, kind: ListingKind, firstLine: number, scope?: ReadonlySet<string>): Listing {
  const listings = scanListings(text, scope, firstLine);
  if (listings.length === 0) {
    throw listingParseError(`expected the "IP Virtual Server version" line of ${LISTING_NAME[kind]}`, firstLine);
  }
  if (listings.length > 1 || listings[0]!.kind !== kind) {
    throw new IpvsadmError(
      'parse',
      `expected one ${LISTING_NAME[kind]} listing, got ${listings.map((l) => LISTING_NAME[l.kind]).join(', ')}`,
    );
  }
  return listings[0]!;
}

/** Parses the output of `ipvsadm -L -n`. Thresholds are not in it and read as 0. */
export function parseListing(text: string, firstLine = 1, scope?: ReadonlySet<string>): IpvsTable {
  return tableOfListing(loneListing(text, 'plain', firstLine, scope).services);
}

/** Thresholds by service key, then destination key, from `ipvsadm -L -n --thresholds`. */
export type ThresholdMap = Map<string, Map<string, { upper: number; lower: number }>>;

/** Parses the output of `ipvsadm -L -n --thresholds`. */
export function parseThresholdListing(text: string, firstLine = 1): ThresholdMap {
  const out: ThresholdMap = new Map();
  for (const s of loneListing(text, 'thresholds', firstLine).services) {
    const m = new Map<string, { upper: number; lower: number }>();
    for (const t of s.thresholds) m.set(destinationKey(t), { upper: t.upper, lower: t.lower });
    out.set(s.key, m);
  }
  return out;
}

/**
 * Adds the thresholds to a table read with `-L -n`. Throws when the two listings do not
 * show the same services and destinations (the table changed between them).
 */
export function mergeThresholds(table: IpvsTable, thresholds: ThresholdMap): IpvsTable {
  if (thresholds.size !== table.services.length) throw tableChangedWhileRead();
  return {
    services: table.services.map((s) => {
      const t = thresholds.get(serviceKey(s));
      if (!t || t.size !== s.destinations.length) throw tableChangedWhileRead();
      return {
        ...s,
        destinations: s.destinations.map((d) => {
          const x = t.get(destinationKey(d));
          if (!x) throw tableChangedWhileRead();
          return { ...d, upperThreshold: x.upper, lowerThreshold: x.lower };
        }),
      };
    }),
  };
}

// ------------------------------------------------------------ ipvsadm -S ----

interface MutableService {
  id: IpvsServiceId;
  svc: Omit<IpvsService, 'destinations'>;
  destinations: IpvsDestination[];
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function takeService(tokens: string[], lineNo: number): IpvsServiceId {
  const opt = tokens.shift();
  const arg = tokens.shift();
  if (arg === undefined) throw listingParseError('missing virtual service', lineNo);
  if (opt === '-f') {
    const six = tokens[0] === '-6';
    if (six) tokens.shift();
    if (!/^\d+$/.test(arg)) throw listingParseError(`bad fwmark "${arg}"`, lineNo);
    return { protocol: 'fwm', family: six ? 6 : 4, fwmark: Number(arg) };
  }
  const protocol: IpvsProtocol | undefined = opt === '-t' ? 'tcp' : opt === '-u' ? 'udp' : opt === '--sctp-service' ? 'sctp' : undefined;
  const ap = parseAddressPort(arg);
  if (!protocol || !ap) throw listingParseError(`bad virtual service "${opt} ${arg}"`, lineNo);
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
      let scheduler = 'wlc',
        persistent: number | undefined,
        netmask: string | undefined,
        ops = false;
      let flags: string | undefined, pe: string | undefined;
      while (tokens.length > 0) {
        const t = tokens.shift()!;
        if (t === '-s') scheduler = tokens.shift() ?? '';
        else if (t === '-p') persistent = Number(tokens.shift());
        else if (t === '-M') netmask = tokens.shift();
        else if (t === '--pe') pe = tokens.shift();
        else if (t === '-o') ops = true;
        else if (t === '-b') flags = tokens.shift() ?? '';
        else throw listingParseError(`unknown option "${t}"`, lineNo);
      }
      const nm = canonicalNetmask(id.family, persistent, netmask);
      const sf = canonicalSchedFlags(scheduler, flags);
      const svc = {
        ...id,
        scheduler,
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
      if (!s) throw listingParseError('real server of a virtual service not saved before it', lineNo);
      let ap: ReturnType<typeof parseAddressPort>,
        forward: IpvsForward = 'gate',
        weight = 1;
      while (tokens.length > 0) {
        const t = tokens.shift()!;
        if (t === '-r') ap = parseAddressPort(tokens.shift() ?? '');
        else if (t === '-g') forward = 'gate';
        else if (t === '-m') forward = 'masq';
        else if (t === '-i') forward = 'ipip';
        else if (t === '-w') weight = Number(tokens.shift());
        else if (t === '--tun-type' || t === '--tun-port') tokens.shift();
        else if (t === '--tun-nocsum' || t === '--tun-csum' || t === '--tun-remcsum') continue;
        else throw listingParseError(`unknown option "${t}"`, lineNo);
      }
      if (!ap) throw listingParseError('bad or missing real server address', lineNo);
      s.destinations.push({ address: ap.address, port: ap.port, forward, weight, upperThreshold: 0, lowerThreshold: 0 });
    } else {
      throw listingParseError(`unknown line "${lines[i]}"`, lineNo);
    }
  }
  return { services: [...services.values()].map((s) => ({ ...s.svc, destinations: s.destinations })) };
}
