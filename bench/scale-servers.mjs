// The real servers of bench/scale.mjs and bench/compare-original.mjs, in a process of
// their own (so the daemon's CPU figures are the daemon's alone). Driven over IPC:
//   {cmd:'start', reals:[{ip,port}], kind:'tcp'|'http', hung:[index]}  -> {started}
//   {cmd:'kill', i, how:'refuse'|'hang'}   -> {killed:i, t}   (t: ms, Date.now())
//   {cmd:'checks', from, to, intervalMs, slackMs} -> on-time figures of the live reals
//   {cmd:'times', indices:[i]}             -> {times: [[ms...]...]}
//   {cmd:'revive', i}                      -> {revived:i, t}  (a killed 'refuse' listener listens again)
// Every accepted connection (tcp) or request (http) is one check of that real, stamped
// with its arrival time. 'refuse' closes the listener (connections are then refused);
// 'hang' hands the address to bench/hung-listeners.py (SYNs unanswered).
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

let servers = [];
let times = [];
let dead = new Set();
let reals = [];
let kind = 'tcp';
let hungHelper;
const hungWaiters = new Map();

function helper() {
  if (hungHelper) return hungHelper;
  hungHelper = spawn('python3', [fileURLToPath(new URL('./hung-listeners.py', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  createInterface({ input: hungHelper.stdout }).on('line', (line) => {
    const [, ip, port] = line.split(' ');
    const key = `${ip} ${port}`;
    hungWaiters.get(key)?.();
    hungWaiters.delete(key);
  });
  return hungHelper;
}

function hang(ip, port) {
  return new Promise((resolve) => {
    hungWaiters.set(`${ip} ${port}`, resolve);
    helper().stdin.write(`${ip} ${port}\n`);
  });
}

function listen(i, kind) {
  const { ip, port } = reals[i];
  const record = () => times[i].push(Date.now());
  const server =
    kind === 'http'
      ? http.createServer((_req, res) => {
          record();
          res.end('OK\n');
        })
      : net.createServer((s) => {
          record();
          s.destroy();
        });
  if (kind === 'http') server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: ip, port, backlog: 4096 }, () => resolve(server));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * For each live real: every gap between consecutive checks that ends in [from, to], and
 * the gap from `from` to its first check there. A real is on time in the window when no
 * gap exceeds intervalMs + slackMs.
 */
function checks({ from, to, intervalMs, slackMs }) {
  const gaps = [];
  let onTime = 0;
  let live = 0;
  let count = 0;
  for (let i = 0; i < reals.length; i++) {
    if (dead.has(i)) continue;
    live++;
    const ts = times[i];
    let prev = from;
    // the last check before the window
    for (const t of ts) if (t <= from) prev = t;
    let worst = 0;
    for (const t of ts) {
      if (t <= from || t > to) continue;
      count++;
      gaps.push(t - prev);
      worst = Math.max(worst, t - prev);
      prev = t;
    }
    worst = Math.max(worst, to - prev);
    if (worst <= intervalMs + slackMs) onTime++;
  }
  gaps.sort((a, b) => a - b);
  return {
    live,
    onTime,
    fraction: live ? onTime / live : 0,
    checks: count,
    gapP50: percentile(gaps, 50),
    gapP99: percentile(gaps, 99),
    gapMax: gaps[gaps.length - 1] ?? 0,
  };
}

process.on('message', async (m) => {
  if (m.cmd === 'start') {
    reals = m.reals;
    kind = m.kind;
    times = reals.map(() => []);
    dead = new Set(m.hung ?? []);
    servers = new Array(reals.length);
    const todo = reals.map((_, i) => i).filter((i) => !dead.has(i));
    for (let k = 0; k < todo.length; k += 500) {
      await Promise.all(
        todo.slice(k, k + 500).map(async (i) => {
          servers[i] = await listen(i, m.kind);
        }),
      );
    }
    for (const i of m.hung ?? []) await hang(reals[i].ip, reals[i].port);
    process.send({ started: todo.length, hung: (m.hung ?? []).length });
  } else if (m.cmd === 'kill') {
    const s = servers[m.i];
    const t = Date.now();
    dead.add(m.i);
    if (s) {
      s.close();
      s.closeAllConnections?.();
      servers[m.i] = undefined;
    }
    if (m.how === 'hang') await hang(reals[m.i].ip, reals[m.i].port);
    process.send({ killed: m.i, t });
  } else if (m.cmd === 'revive') {
    servers[m.i] = await listen(m.i, kind);
    dead.delete(m.i);
    process.send({ revived: m.i, t: Date.now() });
  } else if (m.cmd === 'checks') {
    process.send({ checks: checks(m) });
  } else if (m.cmd === 'times') {
    process.send({ times: m.indices.map((i) => times[i]) });
  }
});
process.on('disconnect', () => process.exit(0));
