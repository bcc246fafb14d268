// service=dns against Debian's dnsmasq on 127.0.22.1:35353 (UDP and TCP), plus
// hand-written DNS peers on 127.0.22.2 (truncation, SERVFAIL, dropped first query).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import {
  createDnsChecker,
  createDnsConnectChecker,
  DNS_MESSAGES as M,
  parseDnsRequest,
  question,
  resolverDefaults,
  reverseName,
  searchNames,
  type ResolverDefaults,
} from '../../checks/dns.js';
import {
  closedPort,
  LATE_MS,
  run,
  tcpServer,
  testTarget,
  testVirtual,
  udpServer,
  type TcpServer,
  type UdpServer,
  describeMisbehavingPeers,
} from '../support/data-servers.js';
import { dnsmasqBinary, startDnsmasq, type Running } from '../support/data-daemons.js';

const HOST = '127.0.22.1';
const PEERS = '127.0.22.2';
const PORT = 35353;
const NO_SEARCH: ResolverDefaults = { searchlist: [], ndots: 1, retrans: 5, retry: 4 };
const dns = createDnsChecker({ defaults: () => NO_SEARCH });
const dnsmasq = dnsmasqBinary();
let server: Running | undefined;

const udpV = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({ service: 'dns', protocol: 'udp', id: 'udp:10.0.0.1:53', negotiatetimeout: 1, checktimeout: 5, ...over });
const tcpV = (over: Parameters<typeof testVirtual>[0] = {}) => udpV({ protocol: 'tcp', id: 'tcp:10.0.0.1:53', ...over });

describe('dns: the parts of Net::DNS that decide what is asked', () => {
  it('has the original default port and times out at negotiatetimeout', () => {
    expect(dns.defaultPort).toBe(53);
    expect(dns.timeoutSeconds(testVirtual({ negotiatetimeout: 8, checktimeout: 2 }))).toBe(8);
  });

  it('turns IP addresses into PTR questions like Net::DNS::Question', () => {
    expect(reverseName('192.0.2.10')).toBe('10.2.0.192.in-addr.arpa.');
    expect(reverseName('10.1')).toBe('1.10.in-addr.arpa.');
    expect(reverseName('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
    expect(reverseName('::ffff:192.0.2.1')).toBe('1.2.0.192.in-addr.arpa.');
    expect(reverseName('host1')).toBeUndefined();
    expect(question('192.0.2.10', undefined)).toEqual({ name: '10.2.0.192.in-addr.arpa.', type: 'PTR' });
    expect(question('www.example.test', undefined)).toEqual({ name: 'www.example.test', type: 'A' });
  });

  it('tries names in the order of Net::DNS search()', () => {
    const d = { searchlist: ['a.test', 'b.test'], ndots: 1 };
    expect(searchNames('www', d)).toEqual(['www.a.test', 'www.b.test']);
    expect(searchNames('www.x', d)).toEqual(['www.x']);
    expect(searchNames('www.x', { ...d, ndots: 2 })).toEqual(['www.x', 'www.x.a.test', 'www.x.b.test']);
    expect(searchNames('www.', d)).toEqual(['www.']);
    expect(searchNames('192.0.2.1', d)).toEqual(['192.0.2.1']);
    expect(searchNames('www', { searchlist: [], ndots: 1 })).toEqual(['www']);
    expect(searchNames('', d)).toEqual(['.']);
  });

  it('reads the search list and options as Net::DNS::Resolver::UNIX does', () => {
    const conf = 'nameserver 10.0.0.1\ndomain one.test\nsearch two.test three.test.\noptions ndots:2 timeout:1 attempts:3 # x\n';
    expect(resolverDefaults(conf, {}, 'vm')).toEqual({ searchlist: ['two.test', 'three.test'], ndots: 2, retrans: 1, retry: 3 });
    expect(resolverDefaults('domain one.test\n', {}, 'vm').searchlist).toEqual(['one.test']);
    expect(resolverDefaults(undefined, {}, 'host.site.test').searchlist).toEqual(['site.test']);
    expect(resolverDefaults(conf, { LOCALDOMAIN: 'env.test', RES_OPTIONS: 'ndots:3' }, 'vm')).toMatchObject({
      searchlist: ['env.test'],
      ndots: 3,
    });
  });

  it('reads an optional query type after the name (our AAAA extension)', () => {
    expect(parseDnsRequest('/www.example.test')).toEqual({ name: 'www.example.test', type: undefined });
    expect(parseDnsRequest('/www.example.test AAAA')).toEqual({ name: 'www.example.test', type: 'AAAA' });
    expect(parseDnsRequest('/www.example.test aaaa')).toEqual({ name: 'www.example.test', type: 'AAAA' });
    expect(parseDnsRequest('/www.example.test MX')).toEqual({ name: 'www.example.test MX', type: undefined });
  });
});

describe.skipIf(!dnsmasq)('dns against dnsmasq', () => {
  beforeAll(async () => {
    server = await startDnsmasq(dnsmasq as string, HOST, PORT, [
      'www.example.test,192.0.2.10,2001:db8::10',
      'host1.example.test,192.0.2.11',
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const at = (v: ReturnType<typeof udpV>, own = {}) => testTarget(v, HOST, PORT, own);

  it('UDP: an A answer matching receive is up ("Success")', async () => {
    const r = await run(dns, at(udpV({ request: '/www.example.test', receive: '^192\\.0\\.2\\.10$' })));
    expect(r).toMatchObject({ ok: true, message: M.success, detail: 'A 192.0.2.10' });
  });

  it('TCP (tcp virtual): an A answer matching receive is up', async () => {
    const r = await run(dns, at(tcpV({ request: '/www.example.test', receive: '192.0.2.10' })));
    expect(r).toMatchObject({ ok: true, message: M.success });
  });

  it('an IPv4 request is a PTR query, matched on the name', async () => {
    const r = await run(dns, at(udpV({ request: '/192.0.2.11', receive: '^host1\\.example\\.test$' })));
    expect(r).toMatchObject({ ok: true, message: M.success, detail: 'PTR host1.example.test' });
  });

  it('AAAA: "name AAAA" asks for AAAA and matches the address text', async () => {
    const r = await run(dns, at(tcpV({ request: '/www.example.test AAAA', receive: '^2001:db8::10$' })));
    expect(r).toMatchObject({ ok: true, message: M.success, detail: 'AAAA 2001:db8::10' });
  });

  it('an A query never matches an IPv6 receive (the original never saw AAAA)', async () => {
    const r = await run(dns, at(udpV({ request: '/www.example.test', receive: '2001:db8' })));
    expect(r).toMatchObject({ ok: false, message: M.mismatch });
  });

  it('answers that do not match receive are "Response mismatch"', async () => {
    const r = await run(dns, at(udpV({ request: '/www.example.test', receive: '^10\\.' })));
    expect(r).toMatchObject({ ok: false, message: M.mismatch, detail: 'no answer matched: A 192.0.2.10' });
  });

  it('an empty receive is always down', async () => {
    const r = await run(dns, at(udpV({ request: '/www.example.test', receive: '' })));
    expect(r).toMatchObject({ ok: false, message: M.mismatch, detail: 'receive is empty' });
  });

  it('per-real request/receive override the virtual ones', async () => {
    const r = await run(dns, at(udpV({ request: '/nothing.test', receive: 'x' }), { request: '/host1.example.test', receive: '\\.11$' }));
    expect(r.ok).toBe(true);
  });

  it('NXDOMAIN (no answers) is "Connection timed out", returned at once', async () => {
    const r = await run(dns, at(udpV({ request: '/missing.example.test', receive: '.' })));
    expect(r).toMatchObject({ ok: false, message: M.timeout });
    expect(r.detail).toContain('NXDOMAIN, 0 answer(s)');
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });

  it('uses the search list: "host1" is asked as host1.example.test', async () => {
    const searching = createDnsChecker({ defaults: () => ({ ...NO_SEARCH, searchlist: ['nowhere.test', 'example.test'] }) });
    const r = await run(searching, at(udpV({ request: '/host1', receive: '192.0.2.11' })));
    expect(r).toMatchObject({ ok: true, message: M.success });
  });

  it('TCP: connection refused is "Connection timed out" (the original\'s only failure message)', async () => {
    const r = await run(dns, testTarget(tcpV({ request: '/www.example.test', receive: '.' }), HOST, await closedPort(HOST)));
    expect(r).toMatchObject({ ok: false, message: M.timeout });
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });
});

describe('dns against hand-written peers', () => {
  let silentUdp: UdpServer;
  let servfail: UdpServer;
  let dropsFirst: UdpServer;
  let truncating: UdpServer;
  let tcpForTruncated: TcpServer;
  let queriesSeen = 0;

  const answer = (query: Buffer, flags = 0, rcode?: string): Buffer => {
    const q = dnsPacket.decode(query);
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: flags | (rcode === 'SERVFAIL' ? 2 : 0),
      questions: q.questions,
      answers: rcode || flags ? [] : [{ type: 'A', name: q.questions?.[0]?.name ?? '', data: '198.51.100.7', ttl: 1 }],
    });
  };

  beforeAll(async () => {
    silentUdp = await udpServer(PEERS, () => undefined);
    servfail = await udpServer(PEERS, (m) => [answer(m, 0, 'SERVFAIL')]);
    dropsFirst = await udpServer(PEERS, (m) => (queriesSeen++ === 0 ? undefined : [answer(m)]));
    tcpForTruncated = await tcpServer(PEERS, (s, rec) => {
      s.on('data', () => {
        if (rec.data.length >= 2 && rec.data.length >= 2 + rec.data.readUInt16BE(0)) {
          const reply = answer(rec.data.subarray(2, 2 + rec.data.readUInt16BE(0)));
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          s.end(Buffer.concat([len, reply]));
        }
      });
    });
    truncating = await udpServer(PEERS, (m) => [answer(m, dnsPacket.TRUNCATED_RESPONSE)], tcpForTruncated.port);
  });
  afterAll(async () => {
    await Promise.all([silentUdp, servfail, dropsFirst, truncating].map((s) => s.close()));
    await tcpForTruncated.close();
  });

  it('UDP: a silent server is "Connection timed out" at negotiatetimeout', async () => {
    const r = await run(dns, testTarget(udpV({ negotiatetimeout: 0.5, request: '/a.test', receive: '.' }), PEERS, silentUdp.port));
    expect(r).toMatchObject({ ok: false, message: M.timeout });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('SERVFAIL is down at once ("Connection timed out")', async () => {
    const r = await run(dns, testTarget(udpV({ request: '/a.test', receive: '.' }), PEERS, servfail.port));
    expect(r).toMatchObject({ ok: false, message: M.timeout });
    expect(r.detail).toContain('SERVFAIL');
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });

  it('UDP: retransmits after `timeout` seconds like Net::DNS', async () => {
    const quick = createDnsChecker({ defaults: () => ({ ...NO_SEARCH, retrans: 1 }) });
    const r = await run(quick, testTarget(udpV({ negotiatetimeout: 3, request: '/a.test', receive: '198\\.51' }), PEERS, dropsFirst.port));
    expect(r).toMatchObject({ ok: true, message: M.success });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(950);
    expect(dropsFirst.received.length).toBe(2);
  });

  it('UDP: a truncated reply is asked again over TCP', async () => {
    const r = await run(dns, testTarget(udpV({ request: '/a.test', receive: '^198\\.51\\.100\\.7$' }), PEERS, tcpForTruncated.port));
    expect(r).toMatchObject({ ok: true, message: M.success });
    expect(truncating.received.length).toBe(1);
    expect(tcpForTruncated.received.length).toBe(1);
  });
});

describeMisbehavingPeers('dns over TCP', dns, tcpV({ negotiatetimeout: 0.5, request: '/a.test', receive: '.' }), '127.0.22.9', [M.timeout]);

// checktype=connect on a udp dns virtual (seed tutorial 3 has no request/receive).
describe('dns-connect: a udp connect check on service=dns', () => {
  const connect = createDnsConnectChecker({ defaults: () => NO_SEARCH });
  let servfail: UdpServer;
  let garbage: UdpServer;
  let silent: UdpServer;
  const NOT_DNS = '127.0.22.3';
  beforeAll(async () => {
    servfail = await udpServer(NOT_DNS, (m) => {
      const q = dnsPacket.decode(m);
      return [dnsPacket.encode({ type: 'response', id: q.id, flags: 2, questions: q.questions })];
    });
    garbage = await udpServer(NOT_DNS, () => [Buffer.from('hello, not DNS\n')]);
    silent = await udpServer(NOT_DNS, () => undefined);
  });
  afterAll(async () => {
    await Promise.all([servfail, garbage, silent].map((s) => s.close()));
  });

  it.skipIf(!dnsmasq)('without request and receive: any DNS reply is up (a root NS query to dnsmasq)', async () => {
    const own = await startDnsmasq(dnsmasq as string, '127.0.22.4', PORT, ['www.example.test,192.0.2.10']);
    try {
      const r = await run(connect, testTarget(udpV(), '127.0.22.4', PORT));
      expect(r).toMatchObject({ ok: true, message: M.success });
      expect(r.detail).toMatch(/^\. NS: /);
    } finally {
      await own.stop();
    }
  });

  it('any reply code counts: a SERVFAIL still proves a DNS server answers there', async () => {
    const r = await run(connect, testTarget(udpV(), NOT_DNS, servfail.port));
    expect(r).toMatchObject({ ok: true, message: M.success });
    expect(r.detail).toContain('SERVFAIL');
    expect(dnsPacket.decode(servfail.received.at(-1)!).questions).toEqual([{ name: '.', type: 'NS', class: 'IN' }]);
  });

  it('the request names the query when one is set', async () => {
    await run(connect, testTarget(udpV({ request: '/www.example.test' }), NOT_DNS, servfail.port));
    expect(dnsPacket.decode(servfail.received.at(-1)!).questions).toEqual([{ name: 'www.example.test', type: 'A', class: 'IN' }]);
  });

  it('a UDP peer that answers with something other than DNS is down by the deadline', async () => {
    const r = await run(connect, testTarget(udpV({ negotiatetimeout: 1.5 }), NOT_DNS, garbage.port));
    expect(r).toMatchObject({ ok: false, message: M.timeout });
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('a silent port is down by the deadline, after resending each second', async () => {
    const before = silent.received.length;
    const r = await run(connect, testTarget(udpV({ negotiatetimeout: 2.5 }), NOT_DNS, silent.port));
    expect(r).toMatchObject({ ok: false, message: M.timeout });
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
    expect(silent.received.length - before).toBeGreaterThanOrEqual(2);
  });

  it('with a receive it is the dns check itself (mismatch is down)', async () => {
    const r = await run(connect, testTarget(udpV({ request: '/a.test', receive: '.' }), NOT_DNS, servfail.port));
    expect(r).toMatchObject({ ok: false, message: M.timeout });
  });
});
