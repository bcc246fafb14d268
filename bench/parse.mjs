// Parse time of a generated 10,000-real config (1,000 virtuals x 10 reals),
// through the same entry point the CLI uses. Target: < 200 ms.
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

export async function benchParse({ runs = 15 } = {}) {
  const text = generateConfig();
  const times = [];
  let reals = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await parseConfig(text, { file: 'bench.cf', openForAppend: () => null, validateReceive: translateReceive });
    times.push(performance.now() - t0);
    if (!r.config) throw new Error(`bench config did not parse: ${JSON.stringify(r.diagnostics[0])}`);
    reals = r.config.virtuals.reduce((n, v) => n + v.reals.length, 0);
  }
  // The first run includes JIT warm-up: report it separately, as a cold CLI run pays it.
  const cold = times[0];
  const warm = times.slice(1).sort((a, b) => a - b);
  return {
    name: 'parse 10,000-real config',
    reals,
    bytes: text.length,
    coldMs: cold,
    medianMs: warm[Math.floor(warm.length / 2)],
    minMs: warm[0],
    maxMs: warm[warm.length - 1],
    runs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchParse();
  console.log(JSON.stringify(r, null, 2));
}
