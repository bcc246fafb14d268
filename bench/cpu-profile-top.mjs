// Lists a CPU profile (.cpuprofile, from `node --cpu-prof`, e.g. BENCH_DAEMON_NODE_ARGS for
// bench/keepalived.mjs or bench/scale.mjs) by self time per function and per file, counting
// only the samples in the last `window` seconds of the profile (the steady state before the
// stop), and the inclusive time of the functions whose name matches `--incl <regex>`.
// Usage: node bench/cpu-profile-top.mjs <file> [--window 30] [--rows 30] [--incl regex]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const windowS = Number(opt('window', 30));
const rows = Number(opt('rows', 30));
const incl = opt('incl') ? new RegExp(opt('incl')) : undefined;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const short = (url) => url.replace(/.*\/(dist\/lib|dist\/checks|node_modules)\//, '$1/').replace(/^file:\/\/.*\/(bin|bench)\//, '$1/');
const label = (f) => `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}`;

// sample i lasted timeDeltas[i + 1]; keep those in the window
const t = [];
let at = profile.startTime;
for (const d of profile.timeDeltas) {
  at += d;
  t.push(at);
}
const from = profile.endTime - windowS * 1e6;
const self = new Map();
const files = new Map();
const inclusive = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length - 1; i++) {
  if (t[i] < from) continue;
  const dt = t[i + 1] - t[i];
  const node = byId.get(profile.samples[i]);
  total += dt;
  const k = label(node.callFrame);
  self.set(k, (self.get(k) ?? 0) + dt);
  const f = short(node.callFrame.url) || `(${node.callFrame.functionName})`;
  files.set(f, (files.get(f) ?? 0) + dt);
  if (incl) {
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      const key = label(cf);
      if (incl.test(cf.functionName) && !seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
      }
    }
  }
}
const pct = (x) => `${((100 * x) / total).toFixed(1).padStart(5)} %`;
const list = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows))
    console.log(`${pct(v)} ${(v / 1e3).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${(total / 1e6).toFixed(1)} s of samples in the last ${windowS} s`);
list('self time by function', self);
list('self time by file', files);
if (incl) list(`inclusive time, functions matching ${incl}`, inclusive);
