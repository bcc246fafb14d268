// Lists a sampling heap profile (.heapprofile, e.g. from bench/promoted-heap.mjs) by
// allocation site: bytes per innermost `depth` frames, largest first.
// Usage: node bench/heap-profile-top.mjs <file> [depth 1] [rows 30]
import { readFileSync } from 'node:fs';

const [file, depthArg = '1', rowsArg = '30'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const depth = Number(depthArg);
const bytes = new Map();
let total = 0;
const short = (url) => url.replace(/.*\/(dist\/lib|dist\/checks|node_modules)\//, '$1/').replace('node:', '');
(function walk(node, stack) {
  const f = node.callFrame;
  const here = [`${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}`, ...stack];
  if (node.selfSize) {
    const key = here.slice(0, depth).join(' < ');
    bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const c of node.children) walk(c, here);
})(profile.head, []);
const mb = (b) => (b / 1048576).toFixed(1);
console.log(`total ${mb(total)} MB`);
for (const [k, b] of [...bytes].sort((x, y) => y[1] - x[1]).slice(0, Number(rowsArg))) console.log(`${mb(b).padStart(7)} MB  ${k}`);
