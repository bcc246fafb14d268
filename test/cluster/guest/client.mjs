// The cluster's client, run in the guest's "client" namespace:
//   ip netns exec client node client.mjs <vip> <interval ms> <port>...
// Every <interval> ms it opens one new TCP connection to each <vip>:<port> and sends an
// HTTP request (timeout 1 s), and prints one JSON line when it ends:
// {t: start (epoch ms), port, ms: duration, b: body} or {t, port, ms, e: error code}.
// It runs until it is killed.
import http from 'node:http';

const [vip, interval, ...ports] = process.argv.slice(2);

function once(port) {
  const t = Date.now();
  const done = (r) => process.stdout.write(`${JSON.stringify({ t, port, ms: Date.now() - t, ...r })}\n`);
  const req = http.request({ host: vip, port, path: '/', agent: false, timeout: 1000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => done({ b: body.trim() }));
    res.on('error', (err) => done({ e: err.code ?? err.message }));
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  req.on('error', (err) => done({ e: err.code ?? err.message }));
  req.end();
}

setInterval(() => {
  for (const p of ports) once(Number(p));
}, Number(interval));
process.stdout.write(`${JSON.stringify({ ready: Date.now() })}\n`);
