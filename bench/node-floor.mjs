// Node's floor for a check: the probe's socket work alone, on the same raw TCP handle the
// daemon's checks use (connect + close for a connect check; connect, the request of
// request="/health", the response read to its end for an http check), paced as the daemon
// paces its checks (each real once per interval, spread over it), with nothing around it:
// no scheduler, deadlines, check state, table, log. What ldirectord-ts would cost per check
// were all of its own work free; the part of the gap to keepalived that is Node's.
// Run by bench/keepalived.mjs (`--floor`) as a child: it sends { check, reals, interval }
// (reals as [{ ip, port }], interval in seconds) and waits for 'ready'.
import { once } from 'node:events';
import { connectAndClose } from '../dist/checks/io/bare-connect.js';
import { exchangeHttp1 } from '../dist/checks/io/http1-exchange.js';
import { tcpBinding } from '../dist/checks/io/tcp-binding.js';
import { limitsFor, ownRequest } from '../dist/checks/http-own-request.js';

// Without the raw handle the floor would measure nothing while the servers count no probe.
if (tcpBinding() === null) throw new Error('node-floor: no raw TCP handle in this Node');
const [{ check, reals, interval: intervalS }] = await once(process, 'message');
const count = reals.length;
const interval = intervalS * 1000;
// The request bytes worked out once per real, as the daemon's http checker does.
const requests =
  check === 'http'
    ? reals.map((r) => {
        const url = new URL(`http://${r.ip}:${r.port}/health`);
        const req = ownRequest(url, undefined, 'GET', url.host);
        if (req === undefined) throw new Error(`node-floor: no request for ${url.href}`);
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
