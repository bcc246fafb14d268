// How many checks per second one core sustains: connect, http and https probes
// against local servers (in another process), many in flight at once, through
// the same checkers and targets the daemon uses. Reports checks per CPU-second
// of the checking process, and per wall second.
import { fork, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../dist/lib/config/parse.js';
import { buildTarget } from '../dist/checks/target.js';
import { connectChecker } from '../dist/checks/connect.js';
import { createHttpChecker, httpChecker } from '../dist/checks/http.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);

async function target(port, service) {
  const text = `virtual=10.0.0.1:${port}\n    real=127.0.50.1:${port} masq\n    service=${service}\n    receive="OK"\n`;
  const r = await parseConfig(text, { file: 'bench.cf', openForAppend: () => null });
  const v = r.config.virtuals[0];
  return buildTarget(v, v.reals[0]);
}

async function measure(name, checker, t) {
  let done = 0;
  let failed = 0;
  const stopAt = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < stopAt) {
      const r = await checker.probe(t, AbortSignal.timeout(5000));
      if (r.ok) done++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { name, checks: done, failed, wallSeconds: wall, perWallSecond: done / wall, perCpuSecond: done / cpuSeconds };
}

export async function benchChecks() {
  const dir = mkdtempSync(join(tmpdir(), 'ldirectord-bench-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.50.1',
      '-addext',
      'subjectAltName=IP:127.0.50.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const servers = fork(new URL('./check-servers.mjs', import.meta.url).pathname, [dir], { stdio: 'inherit' });
  await new Promise((r) => servers.once('message', r));
  try {
    const https = createHttpChecker('https', { trust: { ca: readFileSync(join(dir, 'cert.pem')) } });
    return [
      await measure('connect', connectChecker, await target(9501, 'none')),
      await measure('http', httpChecker, await target(9502, 'http')),
      await measure('https', https, await target(9503, 'https')),
    ];
  } finally {
    servers.disconnect();
    servers.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchChecks()) console.log(JSON.stringify(r));
}
