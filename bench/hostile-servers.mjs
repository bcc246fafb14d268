// The hostile real servers of bench/hostile.mjs, in a process of their own (so the
// daemon's figures are the daemon's alone). Driven over IPC:
//   {cmd:'start', reals:[{ip, port, kind}], bombKiB, catastrophicLength} -> {started}
// Kinds, each what a broken or malicious backend can do to a check:
//   regex-bomb    200 with a body of "status " repeated (bombKiB): receive="status.*up"
//                 backtracks quadratically over it
//   catastrophic  200 with "aaa…a!" (catastrophicLength a's): receive="(a+)+$" backtracks
//                 exponentially
//   tls-stall     accepts and never answers the ClientHello
//   slowloris     a status line, then one header line every 500 ms, never the end of them
//   endless       200 and a body that never ends, sent as fast as it is read
//   rst           accepts and resets the connection at once
//   garbage       4 KiB of random bytes, then closes
import net from 'node:net';
import { randomBytes } from 'node:crypto';

const sockets = new Set();

function track(s) {
  sockets.add(s);
  s.on('error', () => undefined);
  s.once('close', () => sockets.delete(s));
}

/** Calls `answer(socket)` once the request's head has arrived (or at once for `now`). */
function onRequest(s, answer) {
  let head = '';
  const onData = (d) => {
    head += d.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    s.off('data', onData);
    answer(s);
  };
  s.on('data', onData);
}

function response(body) {
  return Buffer.concat([
    Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
    body,
  ]);
}

function handlers({ bombKiB, catastrophicLength }) {
  const bomb = response(Buffer.from('status '.repeat(Math.ceil((bombKiB * 1024) / 7)).slice(0, bombKiB * 1024)));
  const catastrophic = response(Buffer.from(`${'a'.repeat(catastrophicLength)}!`));
  return {
    'regex-bomb': (s) => onRequest(s, () => s.end(bomb)),
    catastrophic: (s) => onRequest(s, () => s.end(catastrophic)),
    'tls-stall': () => undefined,
    slowloris: (s) =>
      onRequest(s, () => {
        s.write('HTTP/1.1 200 OK\r\n');
        const t = setInterval(() => s.write('X-Slow: 1\r\n'), 500);
        s.once('close', () => clearInterval(t));
      }),
    endless: (s) =>
      onRequest(s, () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (!s.destroyed && s.write(chunk));
        };
        s.on('drain', pump);
        pump();
      }),
    rst: (s) => s.resetAndDestroy(),
    garbage: (s) => s.end(randomBytes(4096)),
  };
}

process.on('message', async (m) => {
  if (m.cmd !== 'start') return;
  const kinds = handlers(m);
  await Promise.all(
    m.reals.map(
      (r) =>
        new Promise((resolve, reject) => {
          const server = net.createServer((s) => {
            track(s);
            kinds[r.kind](s);
          });
          server.once('error', reject);
          server.listen({ host: r.ip, port: r.port, backlog: 1024 }, resolve);
        }),
    ),
  );
  process.send({ started: m.reals.length });
});
process.on('disconnect', () => process.exit(0));
