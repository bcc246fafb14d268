// Node's floor for a check: the probe's socket work alone, on the same raw TCP handle the
// daemon's checks use (connect + close for a connect check; connect, the request of
// request="/health", the response read to its end for an http check), paced as the daemon
// paces its checks (each real once per interval, spread over it), with nothing around it:
// no scheduler, deadlines, check state, table, log. What ldirectord-ts would cost per check
// were all of its own work free; the part of the gap to keepalived that is Node's.
// Run by bench/keepalived.mjs (`--floor`): node bench/node-floor.mjs <connect|http> <count>
// <third> <intervalS>. Reals as benchReals(): 127.0.<third>.<1 + i%250>, port 8080 + i/250.
import { connectAndClose } from '../dist/checks/io/bare-connect.js';
import { exchangeHttp1 } from '../dist/checks/io/http1-exchange.js';
import { limitsFor, ownRequest } from '../dist/checks/http-own-request.js';

const [check, countArg, thirdArg, intervalArg] = process.argv.slice(2);
const count = Number(countArg);
const interval = Number(intervalArg) * 1000;
const reals = Array.from({ length: count }, (_, i) => ({
  ip: `127.0.${Number(thirdArg)}.${1 + (i % 250)}`,
  port: 8080 + Math.floor(i / 250),
}));
// The request bytes worked out once per real, as the daemon's http checker does.
const requests =
  check === 'http'
    ? reals.map((r) => {
        const url = new URL(`http://${r.ip}:${r.port}/health`);
        const req = ownRequest(url, undefined, 'GET', url.host);
        if (req === undefined) throw new Error('node-floor: no raw TCP handle in this Node');
        return req;
      })
    : [];
const limits = limitsFor(undefined);
// Never aborted: the floor has no deadlines (every real answers at once here).
const signal = new AbortController().signal;
let failures = 0;
const failed = () => failures++;

function probe(i) {
  if (check === 'http') {
    exchangeHttp1(requests[i], signal, limits)?.then((r) => {
      if (!r.ok) failed();
    }, failed);
  } else {
    const r = reals[i];
    connectAndClose(r.ip, r.port, signal).then((err) => {
      if (err !== undefined) failed();
    }, failed);
  }
}

// Every 20 ms (the daemon's slot) the reals whose turn has come: real i at i/count of the
// interval, from the start.
const TICK_MS = 20;
const start = performance.now();
let next = 0;
let round = 0;
setInterval(() => {
  const now = performance.now() - start;
  for (;;) {
    const due = round * interval + (next * interval) / count;
    if (due > now) break;
    probe(next);
    if (++next === count) {
      next = 0;
      round++;
    }
  }
}, TICK_MS);

process.on('SIGTERM', () => {
  if (failures > 0) console.error(`node-floor: ${failures} probes failed`);
  process.exit(0);
});
process.send?.('ready');
