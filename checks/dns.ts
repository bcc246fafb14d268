// service=dns (spec §3.3): the original's Net::DNS `search(request)` against the real
// as the only nameserver, on checkport, over TCP for tcp virtuals and UDP otherwise
// (UDP answers with TC set are retried over TCP, as Net::DNS does). Up when an answer
// is an A record whose address, or a PTR record whose name, matches receive; an empty
// receive is always down. Whole check under negotiatetimeout.
//
// Kept from Net::DNS: the search list and ndots of resolv.conf (and LOCALDOMAIN,
// RES_SEARCHLIST, RES_OPTIONS), the name-to-PTR rule for IP addresses, retransmission
// every `timeout` seconds doubling over `attempts` rounds, "a reply counts when it has
// answers", and the monitor messages.
// Added: AAAA. A request may end in a query type (`request="www.example.com AAAA"`,
// also A, PTR, ANY); AAAA answers are compared as RFC 5952 text (`2001:db8::10`).
// The original always sent the whole request as the name, so such requests failed there.
//
// Library: dns-packet (the encoder/decoder behind multicast-dns, widely used) for the
// wire format, over our own sockets. node:dns was rejected: it cannot force TCP, hides
// the answer records and the reply code, and applies its own retry policy.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import type dnsPacketModule from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { ipv6Hex } from './io/address.js';
import { Scope, why } from './io/deadline.js';
import { closeUdp, dialIn, dialUdp } from './io/dial.js';
import { lazyModule } from './lazy-module.js';
import { Outcome } from './outcome.js';
import { matchReceive } from './receive-match.js';
import { withoutSlash } from './request.js';
import { defineChecker, NEGOTIATETIMEOUT, type Checker, type CheckResult, type Endpoint } from './types.js';

const dnsPacket = lazyModule<typeof dnsPacketModule>('dns-packet');

export const DNS_MESSAGES = {
  timeout: 'Connection timed out',
  mismatch: 'Response mismatch',
  success: 'Success',
} as const;

/** The parts of Net::DNS's resolver defaults that change what the check sends. */
export interface ResolverDefaults {
  readonly searchlist: readonly string[];
  readonly ndots: number;
  /** Seconds to wait for the first UDP reply (doubles each round). */
  readonly retrans: number;
  /** Number of UDP rounds. */
  readonly retry: number;
}

/**
 * Net::DNS::Resolver::UNIX defaults: the host name's domain, then resolv.conf
 * (`domain`, `search`, `options ndots: timeout: attempts:`), then the environment.
 */
export function resolverDefaults(
  resolvConf: string | undefined,
  env: Record<string, string | undefined> = {},
  hostname = '',
): ResolverDefaults {
  const domain = hostname.includes('.') ? hostname.slice(hostname.indexOf('.') + 1) : '';
  const d = { searchlist: domain ? [domain] : ([] as string[]), ndots: 1, retrans: 5, retry: 4 };
  const option = (text: string): void => {
    const [name = '', value] = text.split(':');
    const n = Number(value ?? '1');
    if (!Number.isInteger(n) || n < 0) return;
    switch (name.toLowerCase()) {
      case 'ndots':
        d.ndots = n;
        break;
      case 'timeout':
      case 'retrans':
        d.retrans = n;
        break;
      case 'attempts':
      case 'retry':
        d.retry = n;
        break;
      default:
        break;
    }
  };
  const names = (list: string[]): string[] => list.map((s) => s.replace(/\.$/, ''));
  const search: string[] = [];
  for (const raw of (resolvConf ?? '').split('\n')) {
    const line = raw.replace(/[;#].*$/, '');
    const [keyword, ...args] = line.trim().split(/\s+/);
    if (!/^\S/.test(line) || keyword === undefined) continue;
    if (keyword.startsWith('domain') && args[0] !== undefined) d.searchlist = names([args[0]]);
    else if (keyword.startsWith('search')) search.push(...args);
    else if (keyword.startsWith('option')) args.forEach(option);
  }
  if (search.length > 0) d.searchlist = names(search);
  const words = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter((w) => w !== '');
  if (env.LOCALDOMAIN !== undefined) d.searchlist = names(words(env.LOCALDOMAIN));
  if (env.RES_SEARCHLIST !== undefined) d.searchlist = names(words(env.RES_SEARCHLIST));
  words(env.RES_OPTIONS).forEach(option);
  return d;
}

/** The names Net::DNS's search() tries, in order. */
export function searchNames(name: string, defaults: Pick<ResolverDefaults, 'searchlist' | 'ndots'>): string[] {
  const n = name === '' ? '.' : name;
  const dots = n.split('.').length - 1;
  const suffixes = dots < defaults.ndots ? defaults.searchlist : [];
  if (/:|\.\d*$/.test(n)) return [n];
  const candidates: Array<string | undefined> = dots > 0 ? [undefined, ...suffixes] : [...suffixes];
  if (candidates.length === 0) candidates.push(undefined);
  return candidates.map((s) => (s ? `${n}.${s}` : n));
}

/** Net::DNS::Question's reverse-lookup name for an IP address, or undefined. */
export function reverseName(input: string): string | undefined {
  const s = input.replace(/%.+$/, '');
  if (!/^[a-fA-F0-9:./]+$/.test(s)) return undefined;
  const [address = '', prefix] = s.split('/');
  const explicit = prefix !== undefined && Number(prefix) > 0 ? Number(prefix) : undefined;
  if (/^\d*[.\d]*\d(\/\d+)?$/.test(s)) {
    const parts = address.split('.');
    while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // Perl split
    const pfxlen = explicit ?? parts.length << 3;
    const last = pfxlen > 24 ? 3 : (pfxlen - 1) >> 3;
    return (
      [...parts, '0', '0', '0']
        .slice(0, last + 1)
        .reverse()
        .join('.') + '.in-addr.arpa.'
    );
  }
  if (!net.isIPv6(address)) return undefined;
  const mapped = /^[:0]*:0*:ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return reverseName(mapped[1] as string);
  const nibbles = ipv6Hex(address);
  const len = explicit === undefined ? 32 : explicit > 124 ? 32 : (explicit + 3) >> 2;
  return nibbles.slice(0, len).split('').reverse().join('.') + '.ip6.arpa.';
}

const QUERY_TYPES = new Set<RecordType>(['A', 'AAAA', 'PTR', 'ANY' as RecordType]);

/** The question for one candidate name: Net::DNS's PTR rule, plus an optional type. */
export function question(name: string, type: RecordType | undefined): { name: string; type: RecordType } {
  if (/:|\d$/.test(name)) {
    const reverse = reverseName(name);
    if (reverse) return { name: reverse, type: type ?? 'PTR' };
  }
  return { name, type: type ?? 'A' };
}

/** Splits `name [TYPE]` (our AAAA extension); a plain name has no explicit type. */
export function parseDnsRequest(request: string): { name: string; type: RecordType | undefined } {
  const body = withoutSlash(request);
  const m = /^(\S+)\s+(\S+)\s*$/.exec(body);
  const type = m?.[2]?.toUpperCase() as RecordType | undefined;
  if (m && type && QUERY_TYPES.has(type)) return { name: m[1] as string, type };
  return { name: body, type: undefined };
}

type Reply = DecodedPacket & { rcode?: string };

function accept(buf: Buffer, id: number): Reply | undefined {
  try {
    const reply = dnsPacket().decode(buf) as Reply;
    return reply.type === 'response' && reply.id === id ? reply : undefined;
  } catch {
    return undefined;
  }
}

function encodeQuery(q: { name: string; type: RecordType }): { id: number; data: Buffer } {
  const id = Math.floor(Math.random() * 0x10000);
  const data = dnsPacket().encode({
    type: 'query',
    id,
    flags: dnsPacket().RECURSION_DESIRED,
    questions: [{ name: q.name, type: q.type, class: 'IN' }],
  });
  return { id, data };
}

async function tcpQuery(scope: Scope, host: string, port: number, q: { id: number; data: Buffer }): Promise<Reply | undefined> {
  const socket = await dialIn(scope, { host, port }).catch(() => undefined);
  if (!socket) return undefined;
  const length = Buffer.alloc(2);
  length.writeUInt16BE(q.data.length);
  socket.write(Buffer.concat([length, q.data]));
  const reply = await scope.race(
    new Promise<Buffer | undefined>((resolve) => {
      // At most 2 + 65535 bytes are ever kept: the length prefix bounds the message.
      let buf: Buffer | undefined = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        if (buf === undefined) return;
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = undefined;
        }
      });
      socket.once('close', () => resolve(undefined));
    }),
  );
  socket.destroy();
  return reply ? accept(reply, q.id) : undefined;
}

async function udpQuery(
  scope: Scope,
  host: string,
  port: number,
  q: { id: number; data: Buffer },
  defaults: ResolverDefaults,
): Promise<Reply | undefined> {
  const socket = await dialUdp(scope, host, port);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await scope.race(
      new Promise<Reply | undefined>((resolve) => {
        socket.on('message', (msg: Buffer) => {
          const reply = accept(msg, q.id);
          if (reply) resolve(reply);
        });
        let round = 0;
        let wait = Math.max(1, defaults.retrans) * 1000;
        const send = (): void => {
          if (round++ >= Math.max(1, defaults.retry)) return resolve(undefined);
          socket.send(q.data);
          timer = setTimeout(send, wait);
          wait *= 2;
        };
        send();
      }),
    );
  } finally {
    clearTimeout(timer);
    closeUdp(socket);
  }
}

export interface DnsCheckerOptions {
  /** Resolver defaults; read once from /etc/resolv.conf and the environment when omitted. */
  readonly defaults?: () => ResolverDefaults;
}

let systemDefaults: ResolverDefaults | undefined;
function readSystemDefaults(): ResolverDefaults {
  if (!systemDefaults) {
    let text: string | undefined;
    try {
      text = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      text = undefined;
    }
    systemDefaults = resolverDefaults(text, process.env, os.hostname());
  }
  return systemDefaults;
}

/** What a dns check reads from the config, beyond the endpoint: TCP for tcp virtuals. */
export interface DnsTransport {
  readonly tcp: boolean;
}

async function probeDns(target: Endpoint, useTcp: boolean, defaults: ResolverDefaults, signal: AbortSignal): Promise<CheckResult> {
  const out = new Outcome();
  const scope = new Scope(signal);
  const { name, type } = parseDnsRequest(target.request);
  const tried: string[] = [];
  try {
    let answered: Reply | undefined;
    for (const candidate of searchNames(name, defaults)) {
      const q = question(candidate, type);
      const query = encodeQuery(q);
      let reply = useTcp
        ? await tcpQuery(scope, target.host, target.port, query)
        : await udpQuery(scope, target.host, target.port, query, defaults);
      if (reply && !useTcp && reply.flag_tc) reply = await tcpQuery(scope, target.host, target.port, query);
      tried.push(`${q.name} ${q.type}: ${reply ? `${reply.rcode ?? '?'}, ${reply.answers?.length ?? 0} answer(s)` : 'no reply'}`);
      if (reply && (reply.answers?.length ?? 0) > 0) {
        answered = reply;
        break;
      }
    }
    if (!answered) return out.down(DNS_MESSAGES.timeout, { detail: tried.join('; ') });
    const seen: string[] = [];
    for (const rr of answered.answers ?? []) {
      if (rr.type !== 'A' && rr.type !== 'AAAA' && rr.type !== 'PTR') continue;
      const text = rr.data as string;
      seen.push(`${rr.type} ${text}`);
      if (target.receive.length === 0) continue;
      const verdict = await matchReceive(target.receive, text, signal);
      if (verdict.kind === 'match') return out.up(DNS_MESSAGES.success, { detail: `${rr.type} ${text}` });
      if (verdict.kind === 'unfinished') {
        return out.down(signal.aborted ? DNS_MESSAGES.timeout : DNS_MESSAGES.mismatch, { detail: `${rr.type} ${text}: ${verdict.detail}` });
      }
    }
    const detail =
      target.receive.length === 0 ? 'receive is empty' : `no answer matched: ${seen.join(', ') || 'none of type A, AAAA, PTR'}`;
    return out.down(DNS_MESSAGES.mismatch, { detail });
  } catch (err) {
    return out.down(DNS_MESSAGES.timeout, { detail: [...tried, why(err, scope)].join('; ') });
  } finally {
    scope.close();
  }
}

export function createDnsChecker(options: DnsCheckerOptions = {}): Checker {
  const defaultsOf = options.defaults ?? readSystemDefaults;
  return defineChecker({
    name: 'dns',
    defaultPort: 53,
    timeout: NEGOTIATETIMEOUT,
    options: (target): DnsTransport => ({ tcp: target.virtual.protocol === 'tcp' }),
    probe: (endpoint, { tcp }, signal) => probeDns(endpoint, tcp, defaultsOf(), signal),
  });
}

export const dnsChecker: Checker = createDnsChecker();

/**
 * checktype=connect on a udp dns virtual (§10: a UDP "connect" runs the service check).
 * With a receive it is the dns check. Without one, the dns check could never pass (an
 * empty receive is always down there, as in the original), yet the seed tutorial's
 * config has none and the original kept its reals in by pinging: here the real is up
 * when it answers a DNS query at all (any reply code), which proves the server runs
 * where a ping proves only the host. The query is the request's name, else the root NS.
 */
export function createDnsConnectChecker(options: DnsCheckerOptions = {}): Checker {
  const defaultsOf = options.defaults ?? readSystemDefaults;
  return defineChecker({
    name: 'dns-connect',
    defaultPort: 53,
    timeout: NEGOTIATETIMEOUT,
    options: (target): DnsTransport => ({ tcp: target.virtual.protocol === 'tcp' }),
    async probe(target, { tcp }, signal) {
      if (target.receive.length > 0) return probeDns(target, tcp, defaultsOf(), signal);
      const out = new Outcome();
      const scope = new Scope(signal);
      // The default request is "/": no name.
      const asked = parseDnsRequest(target.request);
      const q = asked.name.length > 0 ? question(asked.name, asked.type) : { name: '.', type: 'NS' as const };
      // Resent every second until the deadline: one lost datagram must not fail the check.
      const resend: ResolverDefaults = { searchlist: [], ndots: 1, retrans: 1, retry: 3600 };
      try {
        const reply = await udpQuery(scope, target.host, target.port, encodeQuery(q), resend);
        if (!reply) return out.down(DNS_MESSAGES.timeout, { detail: `${q.name} ${q.type}: no reply` });
        return out.up(DNS_MESSAGES.success, {
          detail: `${q.name} ${q.type}: ${reply.rcode ?? '?'}, ${reply.answers?.length ?? 0} answer(s)`,
        });
      } catch (err) {
        return out.down(DNS_MESSAGES.timeout, { detail: `${q.name} ${q.type}: ${why(err, scope)}` });
      } finally {
        scope.close();
      }
    },
  });
}

export const dnsConnectChecker: Checker = createDnsConnectChecker();
