// keepalived as the peer in bench/keepalived.mjs and test/bench/keepalived-ratio.test.ts:
// checker-only (`keepalived -n -l -D -G -C`) with bench/keepalived-shim/ipvs-shim.c preloaded,
// which answers libipvs's IP_VS_SO_* socket options (used when the kernel has no IPVS
// netlink family) and logs every table change, so keepalived runs its checkers here as on a
// director and what it decided can be read back.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procStat, sleep } from './daemon-harness.mjs';

export const KEEPALIVED = '/usr/sbin/keepalived';
const SHIM_SOURCE = fileURLToPath(new URL('./keepalived-shim/ipvs-shim.c', import.meta.url));

/** Why keepalived cannot be benchmarked here, or undefined when it can. */
export function keepalivedMissing() {
  return existsSync(KEEPALIVED) ? undefined : `${KEEPALIVED} is not installed (Debian package keepalived, .ci/install.d/75-keepalived.sh)`;
}

/** Builds the shim from source into `dir` with the system's C compiler; returns the .so path. */
export function buildShim(dir) {
  const so = join(dir, 'ipvs-shim.so');
  execFileSync('cc', ['-O2', '-Wall', '-shared', '-fPIC', '-o', so, SHIM_SOURCE, '-ldl'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return so;
}

/**
 * The same reals and virtuals as daemon-harness's generateConfig: `perVirtual` reals per
 * virtual 10.<n>.1:80, wlc, NAT, weight 1; a failed real gets weight 0
 * (inhibit_on_failure, ldirectord's quiescent=yes); one failure takes it out (retry 0,
 * checkcount 1). 'connect': TCP_CHECK; 'http': HTTP_GET /health, status 200, body
 * matching OK (negotiate with receive="OK").
 */
export function keepalivedConfig(reals, { perVirtual = 10, check = 'connect', interval = 5, timeout = 3 } = {}) {
  const out = ['global_defs {', '  router_id bench', '}', ''];
  for (let v = 0; v * perVirtual < reals.length; v++) {
    out.push(
      `virtual_server 10.${(v >> 8) & 255}.${v & 255}.1 80 {`,
      `  delay_loop ${interval}`,
      '  lb_algo wlc',
      '  lb_kind NAT',
      '  protocol TCP',
      '  inhibit_on_failure',
    );
    for (const r of reals.slice(v * perVirtual, (v + 1) * perVirtual)) {
      out.push(`  real_server ${r.ip} ${r.port} {`, '    weight 1');
      if (check === 'connect') out.push('    TCP_CHECK {', `      connect_timeout ${timeout}`, '      retry 0', '    }');
      else
        out.push(
          '    HTTP_GET {',
          '      url {',
          '        path /health',
          '        status_code 200',
          '        regex "OK"',
          '      }',
          `      connect_timeout ${timeout}`,
          '      retry 0',
          '    }',
        );
      out.push('  }');
    }
    out.push('}', '');
  }
  return out.join('\n');
}

/** Starts keepalived on `configText` in a fresh directory; its checker's table changes go to shim.log. */
export async function startKeepalived(configText) {
  const dir = mkdtempSync(join(tmpdir(), 'keepalived-bench-'));
  const so = buildShim(dir);
  const cfg = join(dir, 'keepalived.conf');
  writeFileSync(cfg, configText);
  const shimLog = join(dir, 'shim.log');
  const checkerPidFile = join(dir, 'checkers.pid');
  const outFd = openSync(join(dir, 'keepalived.log'), 'w');
  const nice = process.env.BENCH_NICE ? ['nice', '-n', process.env.BENCH_NICE] : [];
  const argv = [
    ...nice,
    KEEPALIVED,
    '-n',
    '-l',
    '-D',
    '-G',
    '-C',
    '-f',
    cfg,
    '-p',
    join(dir, 'keepalived.pid'),
    '-c',
    checkerPidFile,
    '-r',
    join(dir, 'vrrp.pid'),
  ];
  const child = spawn(argv[0], argv.slice(1), {
    cwd: dir,
    env: { ...process.env, LD_PRELOAD: so, KA_SHIM_LOG: shimLog },
    stdio: ['ignore', outFd, outFd],
  });
  closeSync(outFd);
  let exited = false;
  child.on('exit', () => (exited = true));
  const log = () => {
    try {
      return readFileSync(join(dir, 'keepalived.log'), 'utf8');
    } catch {
      return '';
    }
  };
  let checkerPid;
  for (let i = 0; i < 600 && checkerPid === undefined; i++) {
    if (exited) throw new Error(`keepalived exited at start; see ${dir}/keepalived.log:\n${log().slice(-2000)}`);
    if (log().includes('Startup complete') && existsSync(checkerPidFile)) checkerPid = Number(readFileSync(checkerPidFile, 'utf8').trim());
    else await sleep(100);
  }
  if (!checkerPid) {
    child.kill('SIGKILL');
    throw new Error(`keepalived's checker did not start; see ${dir}/keepalived.log`);
  }
  if (process.env.BENCH_NICE) setPriority(checkerPid, Number(process.env.BENCH_NICE));
  return {
    dir,
    pid: child.pid,
    checkerPid,
    get exited() {
      return exited;
    },
    /** Parent and checker together: CPU seconds, RSS now and peak (MB), summed. */
    stat() {
      const a = procStat(child.pid);
      const b = procStat(checkerPid);
      return { cpu: a.cpu + b.cpu, childCpu: a.childCpu + b.childCpu, rssMB: a.rssMB + b.rssMB, peakRssMB: a.peakRssMB + b.peakRssMB };
    },
    /** The shim's log: {t, op, vs, real, weight}. */
    changes() {
      if (!existsSync(shimLog) || statSync(shimLog).size === 0) return [];
      return readFileSync(shimLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [t, op, vs, real, weight] = l.split(' ');
          return { t: Number(t), op, vs, real, weight: weight === '-' ? undefined : Number(weight) };
        });
    },
    /** Reals whose last change set weight 0. */
    downCount() {
      const last = new Map();
      for (const c of this.changes()) if (c.real !== '-' && (c.op === 'EDITDEST' || c.op === 'ADDDEST')) last.set(c.real, c.weight);
      let n = 0;
      for (const w of last.values()) if (w === 0) n++;
      return n;
    },
    log,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        for (let i = 0; i < 200 && !exited; i++) await sleep(100);
        if (!exited) child.kill('SIGKILL');
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** When keepalived first took `real` out (weight 0 or deleted) at or after `since`, or undefined. */
export function keepalivedDownTime(changes, real, since) {
  const key = `${real.ip}:${real.port}`;
  return changes.find((c) => c.t >= since && c.real === key && (c.op === 'DELDEST' || (c.op === 'EDITDEST' && c.weight === 0)))?.t;
}

/** When keepalived first put `real` back (weight > 0) at or after `since`, or undefined. */
export function keepalivedUpTime(changes, real, since) {
  const key = `${real.ip}:${real.port}`;
  return changes.find((c) => c.t >= since && c.real === key && (c.op === 'ADDDEST' || c.op === 'EDITDEST') && c.weight > 0)?.t;
}
