// Plain http checks run on a TCP handle of their own (checks/io/http1-exchange.ts), not
// through undici: the same request bytes, the same results and messages as the undici
// path for what peers commonly send, and no stack trace formatted for a successful check.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpChecker } from '../../checks/http.js';
import type { Checker, CheckResult, CheckTarget } from '../../checks/types.js';
import type { VirtualService } from '../../lib/config/model.js';
import { viaStart } from './support/via-start.js';
import { makeTarget, timed } from './web-fixtures.js';

const HOST = '127.0.153.20';

const own = createHttpChecker('http');
const viaUndici = createHttpChecker('http', { undiciOnly: true });

interface Peer {
  readonly port: number;
  /** Each connection's bytes, as received. */
  readonly requests: string[];
  close(): Promise<void>;
}

const peers: Peer[] = [];
afterAll(async () => {
  await Promise.all(peers.map((p) => p.close()));
});

/** A peer on an ephemeral port; `answer` runs once the request's head has arrived. */
async function peer(answer: (socket: net.Socket) => void, host = HOST): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      requests.push(text);
      answer(socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const p: Peer = {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  peers.push(p);
  return p;
}

const at = (p: Peer, v: Partial<VirtualService> = {}, ip = HOST): CheckTarget =>
  makeTarget({ service: 'http', request: '/health', receive: 'OK', ...v }, { ip, port: p.port });

async function both(t: CheckTarget, ms = 2000): Promise<[CheckResult, CheckResult]> {
  const a = await own.probe(t, AbortSignal.timeout(ms));
  const b = await viaUndici.probe(t, AbortSignal.timeout(ms));
  return [a, b];
}

const same = (r: CheckResult) => ({ ok: r.ok, message: r.message });

/** ok, message and detail of start()'s answers, once the first has come and a while after it. */
async function startAnswers(checker: Checker, target: CheckTarget, ms: number): Promise<ReturnType<typeof withDetail>[]> {
  const started = viaStart(checker, target, AbortSignal.timeout(ms));
  await started.done;
  // a second answer would come from a callback after the first: give it the time
  await new Promise((resolve) => setTimeout(resolve, 50));
  return started.answers.map(withDetail);
}

const withDetail = (r: CheckResult) => ({ ok: r.ok, message: r.message, detail: r.detail });

describe('http: the own path beside undici', () => {
  it('writes the same request bytes', async () => {
    const p = await peer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n'));
    for (const v of [
      { request: '/health?a=1&b=%20c' },
      { request: '/x y/ü', virtualhost: 'www.example.com' },
      { request: '/', httpmethod: 'HEAD' as const, receive: '' },
    ]) {
      p.requests.length = 0;
      const [a, b] = await both(at(p, v));
      expect(same(a)).toEqual(same(b));
      expect(p.requests).toHaveLength(2);
      expect(p.requests[0]).toBe(p.requests[1]);
    }
    expect(p.requests[0]).toBe(`HEAD / HTTP/1.1\r\nhost: ${HOST}\r\nconnection: close\r\nuser-agent: libwww-perl/6.68\r\n\r\n`);
  });

  const cases: [string, string, Partial<VirtualService>?][] = [
    ['up, Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n'],
    ['receive mismatch: the body', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbroke'],
    ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nO\r\n2\r\nK\n\r\n0\r\n\r\n'],
    ['HTTP/1.0 to the close', 'HTTP/1.0 200 OK\r\n\r\nall OK'],
    ['body cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nOK'],
    ['not found', 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'],
    ['empty reason', 'HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n'],
    ['unknown code', 'HTTP/1.1 299 \r\nContent-Length: 2\r\n\r\nOK'],
    ['no response', ''],
    ['half a head', 'HTTP/1.1 200 OK\r\nX-'],
    ['garbage', 'garbage\r\n\r\n'],
    ['bare LF', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nOK'],
    ['bad header', 'HTTP/1.1 200 OK\r\nBadHeader\r\n\r\n'],
    ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', { httpmethod: 'HEAD', receive: '' }],
  ];
  for (const [label, response, v] of cases) {
    it(`same result and message: ${label}`, async () => {
      const p = await peer((s) => s.end(response));
      const [a, b] = await both(at(p, v));
      expect(same(a)).toEqual(same(b));
    });
  }

  it('same for a reset, a refused connect and endless headers', async () => {
    const reset = await peer((s) => s.resetAndDestroy());
    const [a, b] = await both(at(reset));
    expect(same(a)).toEqual(same(b));
    expect(a.message).toBe(`500 Can't connect to ${HOST}:${reset.port} (Connection reset by peer)`);

    const gone = await peer(() => undefined);
    await gone.close();
    const [c, d] = await both(at(gone));
    expect(same(c)).toEqual(same(d));
    expect(c.message).toBe(`500 Can't connect to ${HOST}:${gone.port} (Connection refused)`);

    const flood = await peer((s) => s.write(`HTTP/1.1 200 OK\r\n${'X-A: b\r\n'.repeat(65536)}`));
    const [e, f] = await both(at(flood));
    expect(same(e)).toEqual(same(f));
    expect(e.message).toBe('500 Headers Overflow Error');
  });

  it('follows a redirect to another path on the own path', async () => {
    const p = await peer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n'));
    const r = await peer((s) => s.end(`HTTP/1.1 301 Moved\r\nLocation: http://${HOST}:${p.port}/there\r\nContent-Length: 0\r\n\r\n`));
    const [a, b] = await both(at(r));
    expect(same(a)).toEqual({ ok: true, message: '200 OK' });
    expect(same(b)).toEqual(same(a));
    expect(p.requests.map((q) => q.split('\r\n')[0])).toEqual(['GET /there HTTP/1.1', 'GET /there HTTP/1.1']);
    // LWP drops the Host header on a redirect: it comes from the URL.
    expect(p.requests[0]).toContain(`\r\nhost: ${HOST}:${p.port}\r\n`);
  });

  it('IPv6: connects to [::1]', async () => {
    let p: Peer;
    try {
      p = await peer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n'), '::1');
    } catch {
      return; // no IPv6 loopback here
    }
    const t = makeTarget({ service: 'http', request: '/health', receive: 'OK' }, { ip: '[::1]', port: p.port });
    expect(same(await own.probe(t, AbortSignal.timeout(2000)))).toEqual({ ok: true, message: '200 OK' });
    expect(p.requests[0]).toContain('\r\nhost: [::1]\r\n');
  });

  it('a stalled peer: down at the deadline, the connection closed', async () => {
    let closed = 0;
    const p = await peer((s) => s.on('close', () => closed++));
    const [r, ms] = await timed(() => own.probe(at(p), AbortSignal.timeout(300)));
    expect(same(r)).toEqual({ ok: false, message: '500 Timeout Alarm' });
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(1500);
    for (let i = 0; i < 100 && closed === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(1);
  });

  // Every read lands in one buffer shared by all connections: a chunk must be copied out of
  // it before the next read overwrites it. Each answer comes in two writes apart in time, so
  // that other connections' reads come between the two halves of every body.
  const ways: [string, (t: CheckTarget) => Promise<CheckResult[]>][] = [
    ['probe()', async (t) => [await own.probe(t, AbortSignal.timeout(5000))]],
    [
      'start()',
      async (t) => {
        const started = viaStart(own, t, AbortSignal.timeout(5000));
        await started.done;
        return started.answers;
      },
    ],
  ];
  for (const [way, check] of ways) {
    it(`many checks at once through ${way}, their reads interleaved: each body stays its own`, async () => {
      const p = await peer((s) => {
        const n = /^GET \/t(\d+) /.exec(p.requests[p.requests.length - 1] ?? '')?.[1] ?? 'x';
        const body = `token-${n}-${'z'.repeat(Number(n) * 37)}`;
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 4)}`);
        setTimeout(() => s.end(body.slice(4)), 5 + (Number(n) % 7));
      });
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => check(at(p, { request: `/t${i}`, receive: `^token-${i}-z{${i * 37}}$` }))),
      );
      expect(results.map((answers) => answers.map(same))).toEqual(results.map(() => [{ ok: true, message: '200 OK' }]));
    });
  }

  it('an already aborted signal: down at once, no connection', async () => {
    const p = await peer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n'));
    const r = await own.probe(at(p), AbortSignal.abort());
    expect(same(r)).toEqual({ ok: false, message: '500 Timeout Alarm' });
    expect(p.requests).toHaveLength(0);
  });

  it('a successful check formats no stack trace (undici formats several)', async () => {
    const p = await peer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n'));
    const previous = Error.prepareStackTrace;
    let formatted = 0;
    Error.prepareStackTrace = (err, frames) => {
      formatted++;
      return previous ? previous(err, frames) : String(err);
    };
    try {
      for (let i = 0; i < 5; i++) expect((await own.probe(at(p), AbortSignal.timeout(2000))).ok).toBe(true);
      expect(formatted).toBe(0);
      for (let i = 0; i < 5; i++) expect((await viaUndici.probe(at(p), AbortSignal.timeout(2000))).ok).toBe(true);
      expect(formatted).toBeGreaterThan(0);
    } finally {
      Error.prepareStackTrace = previous;
    }
  });
});

describe('http: start() gives the answers probe() gives, once', () => {
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n';
  // label, response, up?, virtual's settings
  const cases: [string, string, boolean, Partial<VirtualService>?][] = [
    ['up', ok, true],
    ['receive does not match', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nNO\n', false],
    ['a status that is not 2xx', 'HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n', false],
    ['no response', '', false],
    ['garbage', 'garbage\r\n\r\n', false],
    ['a receive that cannot be used', ok, false, { receive: '(' }],
    // not bounded inline: matched in the regex worker, behind a promise
    [
      'a receive matched in the regex worker',
      `HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n${'ab'.repeat(2000)}`,
      true,
      { receive: '^(a|b|ab)*$' },
    ],
  ];
  for (const [label, response, up, v] of cases) {
    it(label, async () => {
      const p = await peer((s) => s.end(response));
      const expected = withDetail(await own.probe(at(p, v), AbortSignal.timeout(2000)));
      expect(expected.ok).toBe(up);
      expect(await startAnswers(own, at(p, v), 2000)).toEqual([expected]);
    });
  }

  it('a refused connect, a redirect, a stalled peer', async () => {
    const gone = await peer(() => undefined);
    await gone.close();
    const refused = withDetail(await own.probe(at(gone), AbortSignal.timeout(2000)));
    expect(refused.message).toBe(`500 Can't connect to ${HOST}:${gone.port} (Connection refused)`);
    expect(await startAnswers(own, at(gone), 2000)).toEqual([refused]);

    const p = await peer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n'));
    const r = await peer((s) => s.end(`HTTP/1.1 302 Found\r\nLocation: http://${HOST}:${p.port}/there\r\nContent-Length: 0\r\n\r\n`));
    const redirected = withDetail(await own.probe(at(r), AbortSignal.timeout(2000)));
    expect(redirected).toMatchObject({ ok: true, message: '200 OK' });
    expect(await startAnswers(own, at(r), 2000)).toEqual([redirected]);

    const stalled = await peer(() => undefined);
    const timedOut = withDetail(await own.probe(at(stalled), AbortSignal.timeout(200)));
    expect(timedOut).toMatchObject({ ok: false, message: '500 Timeout Alarm' });
    expect(await startAnswers(own, at(stalled), 200)).toEqual([timedOut]);
  });

  it('an already aborted signal: answered before start() returns, no connection', () => {
    const started = viaStart(
      own,
      makeTarget({ service: 'http', request: '/health', receive: 'OK' }, { ip: HOST, port: 9 }),
      AbortSignal.abort(),
    );
    expect(started.answers.map(same)).toEqual([{ ok: false, message: '500 Timeout Alarm' }]);
  });

  it('through undici (the path https takes), start() answers as probe() does', async () => {
    const p = await peer((s) => s.end(ok));
    const expected = withDetail(await viaUndici.probe(at(p), AbortSignal.timeout(2000)));
    expect(expected).toMatchObject({ ok: true, message: '200 OK' });
    expect(await startAnswers(viaUndici, at(p), 2000)).toEqual([expected]);
  });

  it('a proxy that is not a URL: start() reports the failure as probe() rejects', async () => {
    const proxy = createHttpChecker('http_proxy');
    const t = makeTarget({ service: 'http_proxy', request: 'http://127.0.0.1/x', receive: '' }, { ip: 'not an ip', port: 3128 });
    const rejection = await proxy.probe(t, AbortSignal.timeout(1000)).then(
      () => 'resolved',
      (err: unknown) => `failed: ${String(err)}`,
    );
    expect(rejection).toMatch(/^failed: /);
    expect((await startAnswers(proxy, t, 1000)).map((a) => a.message)).toEqual([rejection]);
  });
});
