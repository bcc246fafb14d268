// Child process of the hostile-backend fault tests: runs one checker (the built code in
// dist/, as the daemon runs it) many times against a server, under deadlines taken from
// the daemon's own DeadlineSlots, and reports each check's outcome and duration with the
// process's open fds, RSS (after a full GC) and active handles. Its own process so that
// what is measured is the checks' and nothing else's. Started with --expose-gc; driven
// over IPC: {type:'run', spec} -> {type:'result', ...}; {type:'exit'}.
import { readdirSync, readFileSync } from 'node:fs';

const DIST = new URL('../../../dist/', import.meta.url);
const load = (path) => import(new URL(path, DIST).href);
const { DeadlineSlots } = await load('lib/daemon/slot-timers.js');
const { getChecker } = await load('checks/registry.js');
const { createHttpChecker } = await load('checks/http.js');
const { createPopChecker } = await load('checks/pop.js');
const { createImapChecker } = await load('checks/imap.js');

const deadlines = new DeadlineSlots(() => Date.now(), 50);

function checkerFor(c) {
  const trust = c.trustCa ? { trust: { ca: readFileSync(c.trustCa, 'utf8') } } : {};
  if (c.name === 'http' || c.name === 'https') return createHttpChecker(c.name, trust);
  if (c.name === 'pop' || c.name === 'pops') return createPopChecker(c.name, trust);
  if (c.name === 'imap' || c.name === 'imaps') return createImapChecker(c.name, trust);
  const checker = getChecker(c.name);
  if (!checker) throw new Error(`no checker ${c.name}`);
  return checker;
}

/** A CheckTarget of the spec's target, whose virtual and real the parent built. */
function target(t) {
  return { virtual: t.virtual, real: t.real, host: t.host, port: t.port, request: t.request ?? '/', receive: t.receive ?? '' };
}

/** The first 300 characters as a string of their own: a slice would keep a 1 MiB body alive. */
const copy = (text) => Buffer.from(text.slice(0, 300), 'utf8').toString('utf8');

/** How long past its deadline a probe may run before it counts as hung. */
const HUNG_MS = 3000;

async function probeOnce(checker, tgt, timeoutMs) {
  const started = performance.now();
  const deadline = deadlines.join(Date.now() + timeoutMs, () => new Error('check timed out'));
  let hungTimer;
  try {
    const hung = new Promise((resolve) => {
      hungTimer = setTimeout(() => resolve({ ok: false, message: 'HUNG', detail: 'probe never settled' }), timeoutMs + HUNG_MS);
    });
    const r = await Promise.race([checker.probe(tgt, deadline.signal), hung]);
    return { ok: r.ok, message: copy(r.message), detail: copy(r.detail ?? ''), ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, message: 'THREW', detail: String(err), ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(hungTimer);
    deadline.release();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fds = () => readdirSync('/proc/self/fd').length;
function memory() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}
function resources() {
  const counts = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

async function batch(checker, tgt, timeoutMs, n, concurrency, healthy, out) {
  let left = n;
  while (left > 0) {
    const k = Math.min(concurrency, left);
    left -= k;
    const work = Array.from({ length: k }, () => probeOnce(checker, tgt, timeoutMs).then((r) => out.hostile.push(r)));
    if (healthy) {
      // A healthy real checked while the hostile checks are in flight, as the daemon does.
      work.push(
        sleep(Math.floor(timeoutMs / 3))
          .then(() => probeOnce(healthy.checker, healthy.target, healthy.timeoutMs))
          .then((r) => out.healthy.push(r)),
      );
    }
    await Promise.all(work);
  }
}

async function run(spec) {
  const checker = checkerFor(spec.checker);
  const tgt = target(spec.target);
  const healthy = spec.healthy
    ? { checker: checkerFor(spec.healthy.checker), target: target(spec.healthy.target), timeoutMs: spec.healthy.timeoutMs }
    : undefined;
  const out = { hostile: [], healthy: [] };
  // One check first so that lazily loaded libraries are in before the baseline.
  await probeOnce(checker, tgt, spec.timeoutMs);
  if (healthy) await probeOnce(healthy.checker, healthy.target, healthy.timeoutMs);
  await sleep(200);
  const base = { fds: fds(), ...memory(), resources: resources() };
  await batch(checker, tgt, spec.timeoutMs, spec.warmup, spec.concurrency, healthy, out);
  await sleep(100);
  const afterWarmup = { fds: fds(), ...memory() };
  await batch(checker, tgt, spec.timeoutMs, spec.count - spec.warmup, spec.concurrency, healthy, out);
  await sleep(100);
  const afterAll = { fds: fds(), ...memory() };
  // Whatever a check closes politely (QUIT, then up to a second for the peer) is gone by now.
  const until = Date.now() + 3000;
  while (fds() > base.fds && Date.now() < until) await sleep(50);
  await sleep(50);
  const settled = { fds: fds(), ...memory(), resources: resources() };
  return { base, afterWarmup, afterAll, settled, ...out };
}

process.on('message', (msg) => {
  if (msg.type === 'exit') process.exit(0);
  if (msg.type === 'run') {
    run(msg.spec).then(
      (result) => process.send({ type: 'result', result }),
      (err) => process.send({ type: 'error', error: String(err?.stack ?? err) }),
    );
  }
});
process.send({ type: 'ready' });
