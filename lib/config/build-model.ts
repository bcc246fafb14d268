// Turns scanned drafts into the immutable model: resolves names and ports
// (spec §2.4, §2.5), expands real ranges, applies the derived defaults and the
// virtual-else-global inheritance of §2.6, and finds duplicate virtuals.
import type { Config, FallbackServer, Family, GlobalSettings, RealServer, Service, VirtualService } from './model.js';
import { LENIENT, MSG, OUR_ERRORS } from './messages.js';
import { NameCache, resolvePort, stripBrackets } from './resolve.js';
import { parseRealFlags, splitRealAddress, type FallbackPart } from './real-line.js';
import { perlTrue } from './perl-values.js';
import { emailSettings } from './email-directives.js';
import type { GlobalDraft } from './global-directives.js';
import type { VirtualDraft } from './virtual-directives.js';
import type { ScanIssue } from './scan.js';
import { isIPv6 } from './ip-literal.js';
import { buildSyncSettings } from './sync-directives.js';

/** Larger ranges are refused: the original would loop over every address. */
export const MAX_RANGE = 65536;

/**
 * The service a virtual's port implies when service= is unset (spec §2.6): part of the
 * config language, so it lives here. The other direction, a service's default check
 * port, is each checker's own declaration (checks/registry.ts); a test keeps the two
 * in agreement. Extensions (ssh) are never implied by a port.
 */
export const SERVICE_OF_PORT: ReadonlyMap<number, Service> = new Map([
  [21, 'ftp'],
  [25, 'smtp'],
  [53, 'dns'],
  [80, 'http'],
  [110, 'pop'],
  [119, 'nntp'],
  [143, 'imap'],
  [389, 'ldap'],
  [443, 'https'],
  [587, 'submission'],
  [636, 'ldaps'],
  [993, 'imaps'],
  [995, 'pops'],
  [1521, 'oracle'],
  [1812, 'radius'],
  [3128, 'http_proxy'],
  [3306, 'mysql'],
  [5060, 'sip'],
  [5432, 'pgsql'],
]);

function ipToInt(ip: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return -1;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return -1;
  return ((o[0]! * 256 + o[1]!) * 256 + o[2]!) * 256 + o[3]!;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** How many reals the original's string-comparing loop would add (bounded). */
function originalRangeCount(first: number, last: number): number {
  let count = 0;
  for (let i = first; String(i) <= String(last) && count <= MAX_RANGE; i++) count++;
  return count;
}

/** Names the scan found; queue them so they resolve concurrently. */
export function wantNames(g: GlobalDraft, virtuals: VirtualDraft[], cache: NameCache): void {
  if (g.fallback) cache.want(g.fallback.part.host, 4);
  if (g.fallback6) cache.want(g.fallback6.part.host, 6);
  for (const vs of virtuals) {
    if (vs.invalid) continue;
    if (vs.fallback) cache.want(vs.fallback.part.host, vs.family);
    if (vs.ipPort) cache.want(splitHostPort(vs.ipPort).host, vs.family);
    for (const r of vs.reals) {
      const a = (r.address ??= splitRealAddress(r.value));
      if ('error' in a) continue;
      cache.want(a.host, vs.family);
      if (a.rangeEnd) cache.want(a.rangeEnd, vs.family);
    }
  }
}

/** ld_gethostservbyname's split of `host:port`. */
function splitHostPort(hostPort: string): { host: string; port?: string } {
  const m = /(:(\d+|[A-Za-z0-9_-]+))?$/.exec(hostPort)!;
  return { host: hostPort.slice(0, m.index), port: m[2] };
}

interface Sink {
  error(line: number, message: string): void;
  warn(line: number, message: string): void;
}

function resolveFallback(
  entry: { part: FallbackPart; line: number },
  protocol: string,
  family: Family,
  cache: NameCache,
  sink: Sink,
): FallbackServer | undefined {
  const ip = cache.get(entry.part.host, family);
  if (ip === null) {
    sink.error(entry.line, MSG.fallbackUnresolvable(family === 4 ? 'IPv4' : 'IPv6', entry.part.host));
    return undefined;
  }
  let port: number | undefined;
  if (perlTrue(entry.part.port)) {
    port = resolvePort(entry.part.port!, protocol === 'fwm' ? 'tcp' : protocol);
    if (port === undefined) {
      sink.error(entry.line, MSG.fallbackBadPort);
      return undefined;
    }
  } else if (entry.part.port !== undefined) port = 0;
  return { ip, port, forward: entry.part.forward, line: entry.line };
}

function buildReals(vs: VirtualDraft, cache: NameCache, sink: Sink): RealServer[] {
  const reals: RealServer[] = [];
  for (const r of vs.reals) {
    const line = r.line;
    const a = (r.address ??= splitRealAddress(r.value));
    if ('error' in a) {
      sink.error(line, a.error);
      continue;
    }
    const ip1 = cache.get(a.host, vs.family);
    if (ip1 === null) {
      sink.error(line, MSG.realUnresolvableHost(a.host));
      continue;
    }
    const port = resolvePort(a.port, '');
    if (port === undefined) {
      sink.error(line, MSG.realBadPort(a.port));
      continue;
    }
    let addresses = [ip1];
    if (a.rangeEnd !== undefined) {
      const ip2 = cache.get(a.rangeEnd, vs.family);
      if (ip2 === null) {
        sink.error(line, MSG.realUnresolvableEndHost(a.rangeEnd));
        continue;
      }
      if (vs.family === 6) {
        sink.error(line, MSG.ipv6Range);
        continue;
      }
      const first = ipToInt(ip1);
      const last = ipToInt(ip2);
      if (first < 0 || last < 0) {
        sink.error(line, MSG.invalidIp(first < 0 ? ip1 : ip2));
        continue;
      }
      if (first > last) {
        sink.error(line, MSG.invalidRange(ip1, ip2));
        continue;
      }
      const count = last - first + 1;
      if (count > MAX_RANGE) {
        sink.error(line, OUR_ERRORS.rangeTooLarge(count, MAX_RANGE));
        continue;
      }
      const theirs = originalRangeCount(first, last);
      if (theirs !== count) sink.warn(line, LENIENT.rangeStringCompare(count, theirs));
      addresses = [];
      for (let n = first; n <= last; n++) addresses.push(intToIp(n));
    }
    const flags = parseRealFlags(a.flags);
    if (flags.error !== undefined) {
      sink.error(line, flags.error);
      continue;
    }
    for (const w of flags.warnings) sink.warn(line, w);
    const f = flags.flags!;
    for (const ip of addresses) {
      const real: { -readonly [K in keyof RealServer]: RealServer[K] } = {
        ip,
        port,
        forward: f.forward,
        weight: f.weight,
        lowerThreshold: f.lower,
        upperThreshold: f.upper,
        line,
      };
      if (f.request !== undefined) {
        real.request = f.request;
        real.receive = f.receive!;
      }
      reals.push(real);
    }
  }
  return reals;
}

function firstSet(...values: (number | undefined)[]): number | undefined {
  return values.find((v) => v !== undefined);
}

export interface BuildInput {
  readonly file: string;
  readonly globals: GlobalDraft;
  readonly virtuals: VirtualDraft[];
  readonly cache: NameCache;
  /** Validates a receive regex; returns why it cannot be used, or null. */
  readonly validateReceive?: (source: string) => string | null;
}

export function buildModel(input: BuildInput): { config: Config; issues: ScanIssue[] } {
  const issues: ScanIssue[] = [];
  let errorCount = 0;
  const sink: Sink = {
    error: (line, message) => {
      errorCount++;
      issues.push({ severity: 'error', line, message });
    },
    warn: (line, message) => issues.push({ severity: 'warning', line, message }),
  };
  const g = input.globals;
  const { cache } = input;

  const globalFallback = (entry: GlobalDraft['fallback'], family: Family): FallbackServer | undefined => {
    if (!entry) return undefined;
    // Resolved once per protocol by the original; the result is the same address.
    const tcp = resolveFallback(entry, 'tcp', family, cache, sink);
    if (tcp && entry.part.port !== undefined && perlTrue(entry.part.port)) {
      // The original also resolves the port for udp; a tcp-only name fails there.
      if (resolvePort(entry.part.port, 'udp') === undefined) sink.error(entry.line, MSG.fallbackBadPort);
    }
    return tcp;
  };
  const fallback4 = globalFallback(g.fallback, 4);
  const fallback6 = globalFallback(g.fallback6, 6);

  const syncdaemon = buildSyncSettings(g.sync, sink);
  const globalEmail = emailSettings(g.emailalert, g.emailalertfreq, g.emailalertstatus, g.smtp);
  const globals: GlobalSettings = {
    ...(g.checktimeout !== undefined ? { checktimeout: g.checktimeout } : {}),
    ...(g.negotiatetimeout !== undefined ? { negotiatetimeout: g.negotiatetimeout } : {}),
    checkinterval: g.checkinterval,
    checkcount: g.checkcount,
    failurecount: g.failurecount,
    successcount: g.successcount,
    slowstart: g.slowstart,
    ...(g.statusaddress ? { statusaddress: g.statusaddress } : {}),
    ...(fallback4 ? { fallback: fallback4 } : {}),
    ...(fallback6 ? { fallback6 } : {}),
    ...(g.fallbackcommand !== undefined ? { fallbackcommand: g.fallbackcommand } : {}),
    autoreload: g.autoreload,
    ...(g.callback !== undefined ? { callback: g.callback } : {}),
    logfile: g.logfile,
    execute: [...g.execute],
    fork: g.fork,
    supervised: g.supervised,
    quiescent: g.quiescent,
    readdquiescent: g.readdquiescent,
    email: globalEmail,
    ...(g.emailalertfrom !== undefined ? { emailalertfrom: g.emailalertfrom } : {}),
    cleanstop: g.cleanstop,
    ...(g.maintenancedir !== undefined ? { maintenancedir: g.maintenancedir } : {}),
    ...(syncdaemon ? { syncdaemon } : {}),
  };

  const virtuals: VirtualService[] = [];
  const seen = new Set<string>();
  for (const vs of input.virtuals) {
    if (vs.invalid) continue;
    const errorsBefore = errorCount;
    const ownFallback = vs.fallback ? resolveFallback(vs.fallback, vs.protocol, vs.family, cache, sink) : undefined;

    let ip: string | undefined;
    let port: number | undefined;
    if (vs.ipPort !== undefined) {
      const hp = splitHostPort(vs.ipPort);
      if (vs.family === 6 && hp.host.startsWith('[') && !isIPv6(stripBrackets(hp.host))) {
        sink.error(vs.line, MSG.invalidIpv6Virtual);
        continue;
      }
      const addr = cache.get(hp.host, vs.family);
      const p = hp.port === undefined ? undefined : resolvePort(hp.port, vs.protocol);
      if (addr === null || (hp.port !== undefined && p === undefined)) {
        sink.error(vs.line, MSG.invalidVirtualService);
      } else {
        ip = addr;
        port = p;
      }
    }
    const fwmark = vs.fwmark !== undefined ? Number(vs.fwmark) : undefined;
    const service: Service = vs.service ?? (port !== undefined ? (SERVICE_OF_PORT.get(port) ?? 'none') : 'none');
    const reals = buildReals(vs, cache, sink);

    const receiveErrors = (source: string, line: number): void => {
      const why = source === '' ? null : (input.validateReceive?.(source) ?? null);
      if (why !== null) sink.error(line, OUR_ERRORS.receiveRegex(why));
    };
    receiveErrors(vs.receive, vs.receiveLine);
    for (const r of reals) if (r.receive !== undefined) receiveErrors(r.receive, r.line);

    const name = ip !== undefined ? `${ip}:${port}` : String(fwmark ?? '');
    const id = vs.protocol === 'fwm' ? `fwm${vs.family === 6 ? '6' : ''}:${fwmark}` : `${vs.protocol}:${name}`;
    if (errorCount > errorsBefore) continue;
    if (seen.has(id)) {
      sink.error(vs.endLine, MSG.duplicateVirtual);
      continue;
    }
    seen.add(id);

    let fallback = ownFallback;
    if (!fallback) {
      const inherited = vs.family === 4 ? fallback4 : fallback6;
      // A fallback without a port borrows the virtual's (a fwmark's is 0): this
      // also fixes the original's invalid command for fwmark virtuals (§4.5).
      if (inherited) fallback = { ...inherited, port: inherited.port ?? port ?? 0 };
    } else if (fallback.port === undefined) fallback = { ...fallback, port: port ?? 0 };

    const checktimeout = firstSet(vs.checktimeout, vs.negotiatetimeout, g.checktimeout, g.negotiatetimeout) ?? 5;
    const negotiatetimeout = firstSet(vs.negotiatetimeout, vs.checktimeout, g.negotiatetimeout, g.checktimeout) ?? 30;
    const email = emailSettings(
      vs.emailalert ?? g.emailalert,
      vs.emailalertfreq ?? g.emailalertfreq,
      vs.emailalertstatus ?? g.emailalertstatus,
      vs.smtp ?? g.smtp,
    );
    const fallbackcommand = vs.fallbackcommand ?? g.fallbackcommand;
    const virtual: VirtualService = {
      id,
      name,
      family: vs.family,
      protocol: vs.protocol,
      ...(ip !== undefined ? { ip, port } : { fwmark }),
      line: vs.line,
      reals,
      ...(fallback ? { fallback } : {}),
      ...(fallbackcommand !== undefined ? { fallbackcommand } : {}),
      checktype: vs.checktype,
      service,
      checkcommand: vs.checkcommand,
      checktimeout,
      negotiatetimeout,
      checkinterval: vs.checkinterval ?? g.checkinterval,
      checkcount: vs.checkcount ?? g.checkcount,
      failurecount: vs.failurecount ?? g.failurecount,
      successcount: vs.successcount ?? g.successcount,
      slowstart: vs.slowstart ?? g.slowstart,
      ...(vs.checkport !== undefined ? { checkport: vs.checkport } : {}),
      request: vs.request,
      receive: vs.receive,
      httpmethod: vs.httpmethod,
      ...(vs.virtualhost !== undefined ? { virtualhost: vs.virtualhost } : {}),
      login: vs.login,
      passwd: vs.passwd,
      database: vs.database,
      secret: vs.secret,
      scheduler: vs.scheduler,
      ...(vs.persistent !== undefined ? { persistent: vs.persistent } : {}),
      ...(vs.netmask !== undefined ? { netmask: vs.netmask } : {}),
      ops: vs.ops,
      ...(vs.schedflags !== undefined ? { schedflags: vs.schedflags } : {}),
      quiescent: vs.quiescent ?? g.quiescent,
      cleanstop: vs.cleanstop ?? g.cleanstop,
      email,
      ...(vs.monitorfile !== undefined ? { monitorfile: vs.monitorfile } : {}),
      ...(vs.servicename !== undefined ? { servicename: vs.servicename } : {}),
      ...(vs.comment !== undefined ? { comment: vs.comment } : {}),
    };
    virtuals.push(virtual);
  }
  return { config: { file: input.file, globals, virtuals }, issues };
}
