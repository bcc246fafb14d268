// Parse time of a generated 10,000-real config (1,000 virtuals x 10 reals),
// through the same entry point the CLI uses. Target: < 200 ms.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../dist/lib/config/parse.js';
import { translateReceive } from '../dist/lib/config/receive.js';

export function generateConfig(virtuals = 1000, realsPer = 10) {
  const out = ['checktimeout=3', 'checkinterval=5', 'quiescent=yes', ''];
  for (let v = 0; v < virtuals; v++) {
    const vip = `10.${(v >> 8) & 255}.${v & 255}.1`;
    out.push(`virtual=${vip}:80`);
    for (let r = 0; r < realsPer; r++) {
      const n = v * realsPer + r;
      out.push(`    real=127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}:8080 masq ${1 + (n % 5)}`);
    }
    out.push('    service=http', '    request="/health"', '    receive="OK"', '    scheduler=wlc', '');
  }
  return out.join('\n');
}

/** One parse in a fresh process: what `ldirectord -t` pays (JIT warm-up included). */
function coldRuns(text, runs) {
  const dir = mkdtempSync(join(tmpdir(), 'ldirectord-bench-'));
  const file = join(dir, 'bench.cf');
  writeFileSync(file, text);
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--once', file], { encoding: 'utf8' });
    const [w, c] = out.trim().split(' ').map(Number);
    wall.push(w);
    cpu.push(c);
  }
  rmSync(dir, { recursive: true, force: true });
  return { wall: wall.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
}

export async function benchParse({ runs = 15, cold = 7 } = {}) {
  const text = generateConfig();
  const colds = coldRuns(text, cold);
  const times = [];
  let reals = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await parseConfig(text, { file: 'bench.cf', openForAppend: () => null, validateReceive: translateReceive });
    times.push(performance.now() - t0);
    if (!r.config) throw new Error(`bench config did not parse: ${JSON.stringify(r.diagnostics[0])}`);
    reals = r.config.virtuals.reduce((n, v) => n + v.reals.length, 0);
  }
  const warm = times.slice(1).sort((a, b) => a - b);
  return {
    name: 'parse 10,000-real config',
    reals,
    bytes: text.length,
    coldMs: colds.wall[Math.floor(colds.wall.length / 2)],
    coldMinMs: colds.wall[0],
    coldMaxMs: colds.wall[colds.wall.length - 1],
    coldCpuMs: colds.cpu[Math.floor(colds.cpu.length / 2)],
    coldRuns: colds.wall.length,
    medianMs: warm[Math.floor(warm.length / 2)],
    minMs: warm[0],
    maxMs: warm[warm.length - 1],
    runs,
  };
}

if (process.argv[2] === '--once') {
  const text = readFileSync(process.argv[3], 'utf8');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await parseConfig(text, { file: process.argv[3], openForAppend: () => null, validateReceive: translateReceive });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!r.config) throw new Error('bench config did not parse');
  console.log(`${ms.toFixed(2)} ${((cpu.user + cpu.system) / 1000).toFixed(2)}`);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchParse();
  console.log(JSON.stringify(r, null, 2));
}
