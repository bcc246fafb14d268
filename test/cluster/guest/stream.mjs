// A long-lived connection through the VIP, run in the guest's "client" namespace:
//   ip netns exec client node stream.mjs <vip> <port>...
// For each <vip>:<port> it opens ONE TCP connection and GETs /cgi-bin/stream, a CGI of the
// reals that sends a line every 100 ms for many minutes; the client also writes a line on the
// connection every second (as an interactive session does). The writes matter for what a
// failover does to the connection: they go through the director whatever the method, so a
// director that does not know the connection answers them with a reset at once, instead of
// leaving the client waiting on a stream that never comes back.
// One JSON line per fact:
//   {port, t, local, real}     the first line arrived (local: the client's port; real: who sends)
//   {port, t, stall, bytes}    a line arrived after more than 1 s without one (stall in ms)
//   {port, t, bytes}           progress, every 10 s
//   {port, t, e, bytes}        the connection failed (e: error code) or ended ("end")
// It runs until it is killed.
import net from 'node:net';

const [vip, ...ports] = process.argv.slice(2);
const out = (o) => process.stdout.write(`${JSON.stringify({ ...o, t: Date.now() })}\n`);

for (const port of ports.map(Number)) {
  let bytes = 0;
  let last = 0;
  let over = false;
  let real = '';
  const sock = net.connect({ host: vip, port }, () => {
    sock.write(`GET /cgi-bin/stream HTTP/1.0\r\nHost: ${vip}\r\n\r\n`);
  });
  const tick = setInterval(() => {
    if (last !== 0 && !over) sock.write('.\n');
  }, 1000);
  const progress = setInterval(() => {
    if (!over) out({ port, bytes });
  }, 10_000);
  const end = (e) => {
    if (over) return;
    over = true;
    clearInterval(tick);
    clearInterval(progress);
    out({ port, e, bytes });
  };
  sock.on('data', (d) => {
    const now = Date.now();
    if (real === '') {
      real = /(?:dr|nat)\d/.exec(d.toString('latin1'))?.[0] ?? '';
      if (real !== '') out({ port, local: sock.localPort, real });
    } else if (now - last > 1000) {
      out({ port, stall: now - last, bytes: bytes + d.length });
    }
    bytes += d.length;
    last = now;
  });
  sock.on('error', (err) => end(err.code ?? err.message));
  sock.on('close', () => end('end'));
}
