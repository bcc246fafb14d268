// The command line against a running daemon: start (detached, returns once up),
// idempotent start, status and its streams, reload (good and bad), stop, stale
// pid file, failed start; then heartbeat's resource-script sequence and the
// unchanged OCF agent under Debian's ocf-tester. Real HTTP servers are the real
// servers; ipvsadm is the test fake, mounted over /usr/sbin/ipvsadm.
import http from 'node:http';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, sandbox as newSandbox, type Sandbox } from './ns.js';

function sandbox(): Sandbox {
  const sb = newSandbox();
  sandboxes.push(sb);
  return sb;
}

const REAL1 = '127.0.40.2';
const REAL2 = '127.0.40.3';
const PORT = 8081;

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
const OCF_AGENT = '/usr/lib/ocf/resource.d/heartbeat/ldirectord';
const haveOcf = existsSync('/usr/sbin/ocf-tester') && existsSync(OCF_AGENT);
const inCI = Boolean(process.env.CI);

if (inCI && (!canUnshare || !haveOcf)) {
  it('has unshare and ocf-tester (required in CI)', () => {
    expect.fail(`unshare -m works: ${canUnshare}; ocf-tester and the OCF agent installed: ${haveOcf}`);
  });
}

const servers: http.Server[] = [];
const sandboxes: Sandbox[] = [];
/** Whatever a failed test left running is stopped: daemons must not outlive the run. */
afterAll(() => {
  for (const sb of sandboxes) {
    for (const f of readdirSync(sb.piddir)) {
      const pid = Number(readFileSync(join(sb.piddir, f), 'utf8'));
      try {
        if (pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(sb.dir, { recursive: true, force: true });
  }
});
beforeAll(async () => {
  for (const ip of [REAL1, REAL2]) {
    const s = http.createServer((_q, res) => res.end('OK\n'));
    await new Promise<void>((r, j) => s.once('error', j).listen(PORT, ip, r));
    servers.push(s);
  }
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function configText(weight2: number): string {
  return `checktimeout=2
checkinterval=1
quiescent=no
logfile="/dev/null"
virtual=192.0.2.30:80
    real=${REAL1}:${PORT} masq 1
    real=${REAL2}:${PORT} masq ${weight2}
    service=http
    request="/"
    receive="OK"
`;
}

function table(sb: Sandbox): { reals: Record<string, number>; services: number } {
  if (!existsSync(sb.state)) return { reals: {}, services: 0 };
  const fake = execaSync(new URL('../support/fake-ipvsadm', import.meta.url).pathname, ['-S', '-n'], {
    env: { FAKE_IPVSADM_STATE: sb.state },
  });
  const reals: Record<string, number> = {};
  let services = 0;
  for (const line of String(fake.stdout).split('\n')) {
    if (/^-A /.test(line)) services++;
    const m = /^-a .* -r (\S+) .* -w (\d+)/.exec(line);
    if (m) reals[m[1]!] = Number(m[2]);
  }
  return { reals, services };
}

async function eventually<T>(what: () => T, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let v = what();
  while (!ok(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    v = what();
  }
  return v;
}

describe.skipIf(!canUnshare)('ldirectord <cfg> start|status|reload|stop', () => {
  let sb: Sandbox;
  let cfg: string;
  beforeAll(() => {
    sb = sandbox();
    cfg = join(sb.dir, 'lvs.cf');
    writeFileSync(cfg, configText(2));
  });

  it('starts detached, returns once up, and converges the table', async () => {
    const r = await sb.run(['node', BIN, cfg, 'start']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const pidFile = join(sb.piddir, 'ldirectord.lvs.cf.pid');
    expect(existsSync(pidFile)).toBe(true);
    const t = await eventually(
      () => table(sb),
      (x) => Object.keys(x.reals).length === 2,
    );
    expect(t).toEqual({ services: 1, reals: { [`${REAL1}:${PORT}`]: 1, [`${REAL2}:${PORT}`]: 2 } });
    // pgrep -f "<bin> <cfg> start", as the OCF agent does, finds the daemon.
    const pg = await execa('pgrep', ['-f', `${BIN} ${cfg} start`], { reject: false });
    expect(String(pg.stdout).trim()).toBe(readFileSync(pidFile, 'utf8').trim());
  });

  it('start again is a no-op (exit 0, same pid)', async () => {
    const before = readFileSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'), 'utf8');
    const r = await sb.run(['node', BIN, cfg, 'start']);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'), 'utf8')).toBe(before);
  });

  it('status: running on stderr, nothing on stdout, exit 0', async () => {
    const pid = readFileSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'), 'utf8').trim();
    const r = await sb.run(['node', BIN, cfg, 'status']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout)).toBe('');
    expect(String(r.stderr)).toBe(`ldirectord for ${cfg} is running with pid: ${pid}`);
  });

  it('reload applies a changed weight', async () => {
    writeFileSync(cfg, configText(5));
    const r = await sb.run(['node', BIN, cfg, 'reload']);
    expect(r.exitCode).toBe(0);
    const t = await eventually(
      () => table(sb),
      (x) => x.reals[`${REAL2}:${PORT}`] === 5,
    );
    expect(t.reals).toEqual({ [`${REAL1}:${PORT}`]: 1, [`${REAL2}:${PORT}`]: 5 });
  });

  it('a bad config: reload exits 2, the pid file stays, and a HUP keeps the running config', async () => {
    const pidFile = join(sb.piddir, 'ldirectord.lvs.cf.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    writeFileSync(cfg, configText(7).replace('quiescent=no', 'quiescent=maybe'));
    const r = await sb.run(['node', BIN, cfg, 'reload']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr)).toMatch(/^Error \[\d+\] reading file .* at line 3: quiescent must be 'yes' or 'no'$/m);
    expect(existsSync(pidFile)).toBe(true); // the original deletes the running daemon's pid file here
    process.kill(pid, 'SIGHUP');
    await new Promise((res) => setTimeout(res, 2500));
    expect(table(sb).reals).toEqual({ [`${REAL1}:${PORT}`]: 1, [`${REAL2}:${PORT}`]: 5 });
    const st = await sb.run(['node', BIN, '-t', cfg]);
    expect(st.exitCode).toBe(2);
    writeFileSync(cfg, configText(5));
  });

  it('stop: waits for the clean stop, removes the pid file and the virtual', async () => {
    const r = await sb.run(['node', BIN, cfg, 'stop']);
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'))).toBe(false);
    expect(table(sb).services).toBe(0);
  });

  it('status when stopped: stdout "is stopped", exit 3; with a stale pid file exit 1', async () => {
    let r = await sb.run(['node', BIN, cfg, 'status']);
    expect(r.exitCode).toBe(3);
    expect(String(r.stdout)).toBe(`ldirectord is stopped for ${cfg}`);
    writeFileSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'), '999999\n');
    r = await sb.run(['node', BIN, cfg, 'status']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toBe(`ldirectord stale pid file ${join(sb.piddir, 'ldirectord.lvs.cf.pid')} for ${cfg}`);
    expect(String(r.stdout)).toBe(`ldirectord is stopped for ${cfg}`);
    r = await sb.run(['node', BIN, cfg, 'reload']);
    expect(r.exitCode).toBe(1);
  });

  it('a start that cannot work fails with exit 1 and says why', async () => {
    const r = await sb.run(['node', BIN, cfg, 'start'], { env: { FAKE_IPVSADM_STATE: '' } });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/^ldirectord failed to start: cannot read the IPVS table/m);
    expect(existsSync(join(sb.piddir, 'ldirectord.lvs.cf.pid'))).toBe(false);
  });

  it('usage errors exit 255, a missing config exits 1', async () => {
    expect((await sb.run(['node', BIN, cfg, 'frobnicate'])).exitCode).toBe(255);
    expect((await sb.run(['node', BIN, cfg, '-d', 'status'])).exitCode).toBe(255);
    const r = await sb.run(['node', BIN, join(sb.dir, 'nope.cf'), 'status']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toBe(`Config file ${join(sb.dir, 'nope.cf')} not found`);
  });
});

describe.skipIf(!canUnshare)('heartbeat v1 resource script: ldirectord::ldirectord.cf', () => {
  it('runs start, status (stdout only, as ResourceManager reads it), start again, stop', async () => {
    const sb = sandbox();
    writeFileSync(join(sb.hadir, 'ldirectord.cf'), configText(2));
    mkdirSync(join(sb.hadir, 'resource.d'));
    const script = join(sb.hadir, 'resource.d', 'ldirectord');
    symlinkSync(BIN, script);
    const rs = (cmd: string) => sb.run(['/etc/ha.d/resource.d/ldirectord', 'ldirectord.cf', cmd]);

    expect((await rs('start')).exitCode).toBe(0);
    expect(existsSync(join(sb.piddir, 'ldirectord.ldirectord.cf.pid'))).toBe(true);
    const st = await rs('status');
    // heartbeat matches stdout against *running*/*OK*: the original prints nothing there
    // while running (its message goes to stderr), so heartbeat calls start again.
    expect(st.exitCode).toBe(0);
    expect(String(st.stdout)).toBe('');
    expect(String(st.stderr)).toMatch(/^ldirectord for \/etc\/ha\.d\/ldirectord\.cf is running with pid: \d+$/);
    expect((await rs('start')).exitCode).toBe(0);
    await eventually(
      () => table(sb),
      (x) => Object.keys(x.reals).length === 2,
    );
    expect((await rs('stop')).exitCode).toBe(0);
    const after = await rs('status');
    expect(after.exitCode).toBe(3);
    expect(String(after.stdout)).toMatch(/not running|is stopped/);
  });
});

describe.skipIf(!canUnshare || !haveOcf)('Pacemaker: ocf:heartbeat:ldirectord, unchanged, under ocf-tester', () => {
  it('passes ocf-tester with ldirectord= pointing at ldirectord-ts', async () => {
    const sb = sandbox();
    const cfg = join(sb.dir, 'ocf.cf');
    writeFileSync(cfg, configText(2));
    const r = await sb.run(['ocf-tester', '-n', 'lvs', '-o', `configfile=${cfg}`, '-o', `ldirectord=${BIN}`, OCF_AGENT], {
      timeout: 240_000,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.exitCode, out).toBe(0);
    expect(out).toMatch(/\* Your agent passes the tests!|passed all tests/i);
  }, 300_000);
});
