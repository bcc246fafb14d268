// http, https and http_proxy against Debian's nginx (self-signed and CA-signed
// certificates made with openssl), plus hand-written misbehaving peers.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHttpChecker, checkUrl, HTTP_USER_AGENT } from '../../checks/http.js';
import type { CheckTarget } from '../../checks/types.js';
import type { RealServer, VirtualService } from '../../lib/config/model.js';
import { flood, makeTarget, startRawServer, timed, trickle, type RawServer } from './web-fixtures.js';
import { haveBinary, makeCertificates, makeTempDir, NGINX, startNginx, type Certificates, type Daemon } from './web-servers.js';

const HTTP = '127.0.10.1';
const HTTPS_SELF = '127.0.10.2';
const HTTPS_SIGNED = '127.0.10.3';
const PROXY = '127.0.10.4';
const PEERS = '127.0.16.1';
const NOBODY = '127.0.16.250'; // nothing listens here

const enabled = haveBinary(NGINX);
let nginx: Daemon | undefined;
let certs: Certificates;
let certDir: string;

const redirectChain = Array.from(
  { length: 8 },
  (_, k) => `    location = /c${k + 1} { return 302 /${k === 7 ? 'ok' : `c${k + 2}`}; }`,
).join('\n');

const site = `
    absolute_redirect off;
    location = /ok { return 200 "It works\\n"; }
    location = /vhost { return 200 "host=$host\\n"; }
    location = /ua { return 200 "ua=$http_user_agent\\n"; }
    location = /head { if ($request_method != HEAD) { return 405; } return 200 "never sent\\n"; }
    location = /missing { return 404; }
    location = /redirect { return 302 /vhost; }
    location = /loop { return 302 /loop; }
    location = /via-proxy { return 200 "proxied=$http_x_proxied\\n"; }
    location = /utf8 { return 200 "grüße\\n"; }
${redirectChain}
`;

beforeAll(async () => {
  if (!enabled) return;
  certDir = makeTempDir('http-certs');
  certs = makeCertificates(certDir);
  nginx = await startNginx(
    makeTempDir('nginx'),
    `
  server { listen ${HTTP}:10080; ${site} }
  server { listen ${HTTPS_SELF}:10443 ssl; ssl_certificate ${certs.selfCert}; ssl_certificate_key ${certs.selfKey}; ${site} }
  server { listen ${HTTPS_SIGNED}:10443 ssl; ssl_certificate ${certs.signedCert}; ssl_certificate_key ${certs.signedKey}; ${site} }
  server { listen ${PROXY}:13128; location / { proxy_pass http://${HTTP}:10080; proxy_set_header X-Proxied yes; } }
`,
    [
      [HTTP, 10080],
      [HTTPS_SELF, 10443],
      [HTTPS_SIGNED, 10443],
      [PROXY, 13128],
    ],
  );
});

afterAll(async () => {
  await nginx?.stop();
});

const http = createHttpChecker('http');
const httpsSystemTrust = createHttpChecker('https');
const proxy = createHttpChecker('http_proxy');

function target(v: Partial<VirtualService>, r: Partial<RealServer>): CheckTarget {
  return makeTarget({ service: 'http', ...v }, { ip: HTTP, port: 10080, ...r });
}

const probe = (checker = http, t: CheckTarget, ms = 3000) => checker.probe(t, AbortSignal.timeout(ms));

describe.runIf(enabled)('http against nginx', () => {
  it('GET / of a page: up with the status line', async () => {
    const r = await probe(http, target({ request: '/ok' }, {}));
    expect(r).toMatchObject({ ok: true, message: '200 OK' });
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it('receive matches the body (unanchored Perl regex)', async () => {
    expect(await probe(http, target({ request: '/ok', receive: 'works' }, {}))).toMatchObject({ ok: true, message: '200 OK' });
    expect(await probe(http, target({ request: '/ok', receive: '(?i)^it WORKS$' }, {}))).toMatchObject({ ok: true });
  });

  it('receive mismatch: down, and the monitor message is the body', async () => {
    expect(await probe(http, target({ request: '/ok', receive: 'broken' }, {}))).toMatchObject({ ok: false, message: 'It works\n' });
  });

  it('receive sees bytes, as Perl does', async () => {
    // "ü" and "ß" are two bytes each in UTF-8: Perl's "." matches one byte.
    expect(await probe(http, target({ request: '/utf8', receive: '^gr....e$' }, {}))).toMatchObject({ ok: true });
    expect(await probe(http, target({ request: '/utf8', receive: '^grüße$' }, {}))).toMatchObject({ ok: true });
    expect(await probe(http, target({ request: '/utf8', receive: '^gr..e$' }, {}))).toMatchObject({ ok: false });
  });

  it('wrong status: down with the status line', async () => {
    expect(await probe(http, target({ request: '/missing' }, {}))).toMatchObject({ ok: false, message: '404 Not Found' });
    expect(await probe(http, target({ request: '/missing', receive: 'x' }, {}))).toMatchObject({ ok: false, message: '404 Not Found' });
  });

  it('connection refused: the LWP status line', async () => {
    expect(await probe(http, target({ request: '/ok' }, { ip: NOBODY, port: 10080 }))).toMatchObject({
      ok: false,
      message: `500 Can't connect to ${NOBODY}:10080 (Connection refused)`,
    });
  });

  it('Host header: the real IP without port, or virtualhost', async () => {
    expect(await probe(http, target({ request: '/vhost', receive: `^host=${HTTP.replace(/\./g, '\\.')}$` }, {}))).toMatchObject({
      ok: true,
    });
    expect(
      await probe(http, target({ request: '/vhost', receive: '^host=www\\.example\\.com$', virtualhost: 'www.example.com' }, {})),
    ).toMatchObject({ ok: true });
  });

  it('sends the original User-Agent', async () => {
    expect(await probe(http, target({ request: '/ua', receive: `^ua=${HTTP_USER_AGENT.replace(/\./g, '\\.')}$` }, {}))).toMatchObject({
      ok: true,
    });
  });

  it('httpmethod=HEAD sends HEAD (nginx answers 405 to anything else)', async () => {
    expect(await probe(http, target({ request: '/head', httpmethod: 'HEAD' }, {}))).toMatchObject({ ok: true, message: '200 OK' });
    expect(await probe(http, target({ request: '/head', httpmethod: 'GET' }, {}))).toMatchObject({ ok: false, message: '405 Not Allowed' });
  });

  it('follows redirects up to 7; the Host header then comes from the URL', async () => {
    expect(
      await probe(
        http,
        target({ request: '/redirect', receive: `^host=${HTTP.replace(/\./g, '\\.')}$`, virtualhost: 'www.example.com' }, {}),
      ),
    ).toMatchObject({ ok: true, message: '200 OK' });
    expect(await probe(http, target({ request: '/c2' }, {}))).toMatchObject({ ok: true, message: '200 OK' }); // 7 redirects
    expect(await probe(http, target({ request: '/c1' }, {}))).toMatchObject({ ok: false, message: '302 Moved Temporarily' }); // 8
    expect(await probe(http, target({ request: '/loop' }, {}))).toMatchObject({ ok: false, message: '302 Moved Temporarily' });
  });

  it('a per-real absolute URL connects to the URL host, not to the real', async () => {
    const t = target({ request: '/', receive: '' }, { ip: NOBODY, port: 80, request: `/http://${HTTP}:10080/ok`, receive: 'works' });
    expect(checkUrl('http', t)).toBe(`http://${HTTP}:10080/ok`);
    expect(await probe(http, t)).toMatchObject({ ok: true, message: '200 OK' });
  });

  it('a per-real relative request goes to the real with its own receive', async () => {
    const t = target({ request: '/missing', receive: 'nothing' }, { request: '/ok', receive: 'It' });
    expect(checkUrl('http', t)).toBe(`http://${HTTP}:10080/ok`);
    expect(await probe(http, t)).toMatchObject({ ok: true });
  });

  it('checkport overrides the real port', async () => {
    expect(await probe(http, target({ request: '/ok', checkport: 10080 }, { port: 9 }))).toMatchObject({ ok: true });
  });
});

describe.runIf(enabled)('https: chain verified, host name not, no SNI', () => {
  const t = (ip: string, v: Partial<VirtualService> = {}) =>
    makeTarget({ service: 'https', request: '/ok', receive: 'works', ...v }, { ip, port: 10443 });

  it('a self-signed backend fails as in the original', async () => {
    expect(await probe(httpsSystemTrust, t(HTTPS_SELF))).toMatchObject({
      ok: false,
      message: `500 Can't connect to ${HTTPS_SELF}:10443 (certificate verify failed)`,
    });
  });

  it('a backend signed by a CA outside the trust store fails', async () => {
    expect(await probe(httpsSystemTrust, t(HTTPS_SIGNED))).toMatchObject({
      ok: false,
      message: `500 Can't connect to ${HTTPS_SIGNED}:10443 (certificate verify failed)`,
    });
  });

  it('a trusted chain is up although the certificate names another host', async () => {
    const https = createHttpChecker('https', { trust: { ca: readFileSync(certs.caCert) } });
    expect(await probe(https, t(HTTPS_SIGNED))).toMatchObject({ ok: true, message: '200 OK' });
    expect(
      await probe(https, t(HTTPS_SIGNED, { request: '/vhost', receive: '^host=www\\.example\\.com$', virtualhost: 'www.example.com' })),
    ).toMatchObject({ ok: true });
    // Trusting the CA does not make the self-signed one pass.
    expect(await probe(https, t(HTTPS_SELF))).toMatchObject({ ok: false });
  });

  it('the default trust is the system bundle, and SSL_CERT_FILE (OpenSSL) names it', async () => {
    const saved = process.env.SSL_CERT_FILE;
    process.env.SSL_CERT_FILE = certs.caCert;
    try {
      vi.resetModules();
      const fresh = await import('../../checks/http.js');
      expect(await probe(fresh.httpsChecker, t(HTTPS_SIGNED))).toMatchObject({ ok: true, message: '200 OK' });
    } finally {
      if (saved === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = saved;
      vi.resetModules();
    }
  });
});

describe.runIf(enabled)('http_proxy', () => {
  it('requests the absolute URL through the real as a proxy', async () => {
    const t = makeTarget(
      { service: 'http_proxy', request: `/http://${HTTP}:10080/via-proxy`, receive: '^proxied=yes$' },
      { ip: PROXY, port: 13128 },
    );
    expect(checkUrl('http_proxy', t)).toBe(`http://${HTTP}:10080/via-proxy`);
    expect(await probe(proxy, t)).toMatchObject({ ok: true, message: '200 OK' });
  });

  it('is down when the proxy is down, with the proxy in the message', async () => {
    const t = makeTarget({ service: 'http_proxy', request: `/http://${HTTP}:10080/ok` }, { ip: NOBODY, port: 13128 });
    expect(await probe(proxy, t)).toMatchObject({ ok: false, message: `500 Can't connect to ${NOBODY}:13128 (Connection refused)` });
  });

  it('passes the origin status through', async () => {
    const t = makeTarget({ service: 'http_proxy', request: `/http://${HTTP}:10080/missing` }, { ip: PROXY, port: 13128 });
    expect(await probe(proxy, t)).toMatchObject({ ok: false, message: '404 Not Found' });
  });
});

describe('http against misbehaving peers: bounded time and memory', () => {
  const servers: RawServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  const peer = async (port: number, fn: Parameters<typeof startRawServer>[2]) => {
    const s = await startRawServer(PEERS, port, fn);
    servers.push(s);
    return s;
  };
  const at = (port: number, v: Partial<VirtualService> = {}) => makeTarget({ service: 'http', ...v }, { ip: PEERS, port });

  it('hangs after accept: down at the deadline with "500 Timeout Alarm"', async () => {
    await peer(16001, () => undefined);
    const [r, ms] = await timed(() => probe(http, at(16001), 400));
    expect(r).toMatchObject({ ok: false, message: '500 Timeout Alarm' });
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(1500);
  });

  it('trickles the body one byte at a time: still ends at the deadline', async () => {
    await peer(16002, (s) => trickle(s, 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n', 20));
    const [r, ms] = await timed(() => probe(http, at(16002, { receive: 'y' }), 500));
    expect(r).toMatchObject({ ok: false, message: '500 Timeout Alarm' });
    expect(ms).toBeLessThan(1500);
  });

  it('sends 100 MB: reads at most 1 MiB, matches that prefix, and ends fast', async () => {
    const s = await peer(16003, (sock) => flood(sock, 'HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\nSTART', 100 * 1024 * 1024));
    const [r, ms] = await timed(() => probe(http, at(16003, { receive: '^START' }), 5000));
    expect(r).toMatchObject({ ok: true, message: '200 OK' });
    expect(r.detail).toContain('body cut at 1048576 bytes');
    expect(ms).toBeLessThan(3000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.bytesWritten()).toBeLessThan(32 * 1024 * 1024);
  });

  it('sends endless headers: down quickly (header size capped)', async () => {
    await peer(16004, (sock) => flood(sock, 'HTTP/1.1 200 OK\r\n', 50 * 1024 * 1024, 'X-A: b\r\n'));
    const [r, ms] = await timed(() => probe(http, at(16004), 3000));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^500 /);
    expect(r.message).not.toBe('500 Timeout Alarm');
    expect(ms).toBeLessThan(2000);
  });

  it('closes without a response: the LWP message', async () => {
    await peer(16005, (sock) => sock.end());
    expect(await probe(http, at(16005))).toMatchObject({
      ok: false,
      message: '500 Server closed connection without sending any data back',
    });
  });

  it('an empty reason phrase is replaced by the standard one', async () => {
    await peer(16006, (sock) => sock.end('HTTP/1.1 503 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    expect(await probe(http, at(16006))).toMatchObject({ ok: false, message: '503 Service Unavailable' });
  });
});
