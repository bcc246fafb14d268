// `npm run bench`: runs every benchmark that can run on this machine and prints
// a Markdown table to paste into bench/RESULTS.md.
import { benchParse } from './parse.mjs';
import { benchChecks } from './checks.mjs';

const fmt = (n) => n.toFixed(1);
const rows = [];
const parse = await benchParse();
rows.push(
  `| ${parse.name} (${parse.reals} reals, ${(parse.bytes / 1024).toFixed(0)} KiB) | fresh process: median ${fmt(parse.coldMs)} ms wall (min ${fmt(parse.coldMinMs)}, max ${fmt(parse.coldMaxMs)}, ${parse.coldRuns} runs), ${fmt(parse.coldCpuMs)} ms CPU; warmed up: median ${fmt(parse.medianMs)} ms (min ${fmt(parse.minMs)}, max ${fmt(parse.maxMs)}, ${parse.runs - 1} runs) | < 200 ms |`,
);

for (const c of await benchChecks()) {
  rows.push(
    `| ${c.name} checks against a local server, 64 in flight | ${c.perCpuSecond.toFixed(0)} checks per CPU-second of the checking process (${c.perWallSecond.toFixed(0)}/s wall, ${c.checks} in ${c.wallSeconds.toFixed(1)} s, ${c.failed} failed) | — |`,
  );
}

console.log(
  `node ${process.version}, ${new Date().toISOString()}, load average ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
console.log('| benchmark | result | target |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
