// The runner's http checks go through Checker.start(), without a promise, on the raw TCP
// handle with its shared read buffer. A real that accepts and never answers, and one that
// trickles its head a byte at a time, must be ended by the check's own signal at
// negotiatetimeout, reported down, and leave no TCP handle behind; the healthy real beside
// them stays up, checked every interval. Real http checker (the runner's registry), real
// listeners, real timers. Addresses: 127.0.132.72 (ports 23132-23134).
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runChecks } from './support/runner-results.js';

const HOST = '127.0.132.72';
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

function listen(port: number, onRequest: (s: net.Socket) => void): Promise<void> {
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.once('data', () => onRequest(s));
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(port, HOST, () => resolve()));
}

beforeAll(async () => {
  await listen(23132, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n'));
  await listen(23133, () => undefined);
  await listen(23134, (s) => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nOK\n';
    let i = 0;
    const t = setInterval(() => {
      if (s.destroyed || i >= head.length) return clearInterval(t);
      s.write(head[i++]!);
    }, 100);
    s.on('close', () => clearInterval(t));
  });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

it('stalled and trickling http reals end at negotiatetimeout through start(): down, no handle left, the healthy real up', async () => {
  const { results, handlesBefore, handlesAfter } = await runChecks(
    `checkinterval=1\nnegotiatetimeout=1\nvirtual=10.0.0.1:80\n    real=${HOST}:23132 masq\n    real=${HOST}:23133 masq\n    real=${HOST}:23134 masq\n    service=http\n    checktype=negotiate\n    request="/health"\n    receive="OK"\n`,
    3_500,
  );
  for (const port of [23133, 23134]) {
    const bad = results.filter((x) => x.port === port);
    expect(bad.length).toBeGreaterThanOrEqual(1);
    // Ended by the check's own signal (the runner's expiry would say "Timeout"); a window,
    // not the deadline's slot: a loaded machine fires timers late.
    for (const x of bad) {
      expect(x).toMatchObject({ ok: false, message: '500 Timeout Alarm' });
      expect(x.ms).toBeGreaterThanOrEqual(950);
      expect(x.ms).toBeLessThan(1_900);
    }
  }
  const good = results.filter((x) => x.port === 23132);
  expect(good.length).toBeGreaterThanOrEqual(3);
  expect(good.every((x) => x.ok)).toBe(true);
  expect(handlesAfter).toBe(handlesBefore);
});
