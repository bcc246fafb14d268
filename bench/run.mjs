// `npm run bench`: runs every benchmark that can run on this machine and prints
// a Markdown table to paste into bench/RESULTS.md.
import { benchParse } from './parse.mjs';

const fmt = (n) => n.toFixed(1);
const rows = [];
const parse = await benchParse();
rows.push(`| ${parse.name} (${parse.reals} reals, ${(parse.bytes / 1024).toFixed(0)} KiB) | cold ${fmt(parse.coldMs)} ms; warm median ${fmt(parse.medianMs)} ms (min ${fmt(parse.minMs)}, max ${fmt(parse.maxMs)}, ${parse.runs - 1} runs) | < 200 ms |`);

console.log(`node ${process.version}, ${new Date().toISOString()}\n`);
console.log('| benchmark | result | target |');
console.log('|---|---|---|');
for (const r of rows) console.log(r);
