// The LVS client of test/e2e/daemon.test.ts, run in the guest's "client" namespace:
//   ip netns exec client node daemon-client.mjs <vip> <port> <first source port>
// Sends one HTTP request through the VIP every N ms, each from its own source port
// (an IPVS connection entry in TIME_WAIT would send a reused port to the same real server
// again, whatever its weight now is), one connection per request, and prints one JSON line
// per request when it ends: {p: source port, t: start (epoch ms), ms: duration, b: body} or
// {p, t, ms, e: error code}. It starts paused, and is paced by commands on stdin (the guest
// has one slow CPU, which the daemon's command line needs between the measurements).
// It runs until it is killed or its stdin ends.
import http from 'node:http';
import { createInterface } from 'node:readline';

const [vip, port, first] = process.argv.slice(2);
let next = Number(first);

function once() {
  const localPort = next++;
  const t = Date.now();
  const done = (r) => process.stdout.write(`${JSON.stringify({ p: localPort, t, ms: Date.now() - t, ...r })}\n`);
  const req = http.request({ host: vip, port: Number(port), path: '/', localPort, agent: false, timeout: 3000 }, (res) => {
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

let timer;
// Commands on stdin: "go <interval ms>" starts (or re-paces) the requests, "stop" pauses them.
const input = createInterface({ input: process.stdin });
input.on('close', () => process.exit(0));
input.on('line', (line) => {
  const [cmd, ms] = line.trim().split(/\s+/);
  clearInterval(timer);
  timer = cmd === 'go' ? setInterval(once, Number(ms)) : undefined;
  process.stdout.write(`${JSON.stringify({ ack: line.trim(), at: Date.now() })}\n`);
});
process.stdout.write(`${JSON.stringify({ ready: Date.now() })}\n`);
