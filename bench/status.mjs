// `ldirectord <cfg> status` wall time (heartbeat and Pacemaker run it every few
// seconds): ours, the original (/usr/sbin/ldirectord, if installed) and a bare
// `node -e 0`, interleaved round by round so that the shared machine's load hits
// all three alike. No daemon runs: status reads the config and the pid file.
// `shebang` is ours run as heartbeat and the OCF agent run it, as a program: through its
// #! line (`/usr/bin/env -S node <V8 options>`), one exec more, and V8 options that make
// V8 refuse the code cache of Node's own modules; `ours` is `node bin/ldirectord`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/ldirectord', import.meta.url));
const ORIGINAL = '/usr/sbin/ldirectord';
const ROUNDS = Number(process.env.BENCH_STATUS_ROUNDS ?? 15);

const CONFIG = `checktimeout=3
checkinterval=5
quiescent=yes

virtual=10.0.0.1:80
    real=127.1.0.1:80 masq
    real=127.1.0.2:80 masq
    service=http
    request="/health"
    receive="OK"
    scheduler=wlc
`;

function timeOnce(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  const ms = performance.now() - t0;
  if (r.error) throw r.error;
  return ms;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], runs: s.length };
};

export function benchStatus(rounds = ROUNDS) {
  const dir = mkdtempSync(join(tmpdir(), 'ldirectord-status-'));
  const cfg = join(dir, 'status.cf');
  writeFileSync(cfg, CONFIG);
  const haveOriginal = existsSync(ORIGINAL);
  const load0 = loadavg()[0];
  const t = { node: [], ours: [], shebang: [], original: [] };
  try {
    for (let i = 0; i < rounds; i++) {
      t.node.push(timeOnce(process.execPath, ['-e', '0']));
      t.ours.push(timeOnce(process.execPath, [BIN, cfg, 'status']));
      t.shebang.push(timeOnce(BIN, [cfg, 'status']));
      if (haveOriginal) t.original.push(timeOnce(ORIGINAL, [cfg, 'status']));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    node: stats(t.node),
    ours: stats(t.ours),
    shebang: stats(t.shebang),
    original: haveOriginal ? stats(t.original) : undefined,
    load: [load0, loadavg()[0]],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(benchStatus(), null, 1));
}
