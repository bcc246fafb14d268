// syncdaemon= through the command line, as an admin or a cluster manager drives it (start,
// status --json, /metrics, reload, stop), with the fake ipvsadm mounted over
// /usr/sbin/ipvsadm: the sync daemons are started with the table, started again when
// stopped behind the daemon's back, changed by a reload (a bad one changes nothing), and at
// the stop the master goes while the backup stays; with syncdaemon=none nothing is touched.
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../lib/status/document.js';
import { BIN, FAKE_IPVSADM, sandbox as newSandbox, type Sandbox } from './ns.js';

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
const STATUS = '127.0.151.1';
const STATUS_PORT = 9151;

const sandboxes: Sandbox[] = [];
afterAll(() => {
  for (const sb of sandboxes) {
    for (const f of readdirSync(sb.piddir).filter((n) => n.endsWith('.pid'))) {
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

function sandbox(): Sandbox {
  const sb = newSandbox();
  sandboxes.push(sb);
  return sb;
}

function configText(sb: Sandbox, sync: string[]): string {
  return [
    'checkinterval=1',
    `logfile="${join(sb.dir, 'ldirectord.log')}"`,
    `statusaddress=${STATUS}:${STATUS_PORT}`,
    ...sync,
    'virtual=192.0.2.151:80',
    '    real=192.0.2.152:80 gate 1',
    '    checktype=on',
    '',
  ].join('\n');
}

/** Runs the fake on the sandbox's state, as an admin would run ipvsadm on the director. */
function ipvsadm(sb: Sandbox, ...args: string[]): string {
  const r = execaSync(FAKE_IPVSADM, args, { env: { FAKE_IPVSADM_STATE: sb.state }, reject: false, stripFinalNewline: false });
  if (r.exitCode !== 0) throw new Error(`ipvsadm ${args.join(' ')}: ${String(r.stderr)}`);
  return String(r.stdout);
}

const daemons = (sb: Sandbox): string => (existsSync(sb.state) ? ipvsadm(sb, '-L', '--daemon') : '');
const logText = (sb: Sandbox): string => {
  try {
    return readFileSync(join(sb.dir, 'ldirectord.log'), 'utf8');
  } catch {
    return '';
  }
};

async function eventually<T>(what: () => T, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let v = what();
  while (!ok(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    v = what();
  }
  return v;
}

const line = (role: string, iface: string, syncid: number) =>
  `${role} sync daemon (mcast=${iface}, syncid=${syncid}, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n`;

describe.skipIf(!canUnshare)('syncdaemon=both through start, status, reload and stop', () => {
  const sb = sandbox();
  const cfg = join(sb.dir, 'sync.cf');
  const run = (...args: string[]) => sb.run(['node', BIN, cfg, ...args]);

  it('start: both roles run when `start` returns', async () => {
    writeFileSync(cfg, configText(sb, ['syncdaemon=both', 'syncinterface=eth1', 'syncid=3']));
    const r = await run('start');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(daemons(sb)).toBe(line('master', 'eth1', 3) + line('backup', 'eth1', 3));
    expect(logText(sb)).toMatch(
      /IPVS sync daemon master \(mcast=eth1, syncid=3\) started: \S*ipvsadm --start-daemon master --mcast-interface eth1 --syncid 3\n/,
    );
  });

  it('status --json and /metrics show the configured and running roles', async () => {
    const r = await run('status', '--json');
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(String(r.stdout)) as StatusDocument;
    const d = doc.daemon as { syncDaemons?: unknown };
    expect(d.syncDaemons).toMatchObject({
      mode: 'both',
      configured: [
        { role: 'master', interface: 'eth1', syncid: 3, running: true },
        { role: 'backup', interface: 'eth1', syncid: 3, running: true },
      ],
      running: [
        { role: 'master', interface: 'eth1', syncid: 3, maxlen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 },
        { role: 'backup', interface: 'eth1', syncid: 3 },
      ],
    });
    expect(d.syncDaemons).not.toHaveProperty('error');
    const res = await fetch(`http://${STATUS}:${STATUS_PORT}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    expect(text).toContain('ldirectord_sync_daemon_running{role="master"} 1');
    expect(text).toContain('ldirectord_sync_daemon_running{role="backup"} 1');
  });

  it('a master stopped behind its back is started again within a check interval or two', async () => {
    ipvsadm(sb, '--stop-daemon', 'master');
    // (it may be back before it could be seen gone: the log line tells)
    const seen = await eventually(
      () => daemons(sb),
      (t) => t.startsWith('master'),
      10_000,
    );
    expect(seen).toBe(line('master', 'eth1', 3) + line('backup', 'eth1', 3));
    await eventually(logText.bind(null, sb), (t) => t.includes('IPVS sync daemon master is not running: starting it again'), 5000);
    expect(logText(sb)).toContain('IPVS sync daemon master is not running: starting it again');
  });

  it('a bad reload changes nothing; a good one restarts the roles whose parameters changed', async () => {
    writeFileSync(cfg, configText(sb, ['syncdaemon=both', 'syncinterface=eth1', 'syncid=300']));
    // `reload` checks the file first and refuses; a SIGHUP (autoreload, a cluster manager) does not
    const bad = await run('reload');
    expect(bad.exitCode).toBe(2);
    process.kill(Number(readFileSync(join(sb.piddir, 'ldirectord.sync.cf.pid'), 'utf8')), 'SIGHUP');
    await eventually(logText.bind(null, sb), (t) => t.includes('the running configuration stays in force'), 10_000);
    expect(daemons(sb)).toBe(line('master', 'eth1', 3) + line('backup', 'eth1', 3));

    writeFileSync(cfg, configText(sb, ['syncdaemon=both', 'syncinterface=eth1', 'syncid=4']));
    const good = await run('reload');
    expect(good.exitCode).toBe(0);
    const seen = await eventually(
      () => daemons(sb),
      (t) => t === line('master', 'eth1', 4) + line('backup', 'eth1', 4),
      10_000,
    );
    expect(seen).toBe(line('master', 'eth1', 4) + line('backup', 'eth1', 4));
    expect(logText(sb)).toMatch(
      /IPVS sync daemon backup \(mcast=eth1, syncid=3, .*\) runs with other parameters than configured: restarting it/,
    );
  });

  it('stop: the master is stopped, the backup keeps running (and the log says why)', async () => {
    const r = await run('stop');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(daemons(sb)).toBe(line('backup', 'eth1', 4));
    expect(logText(sb)).toMatch(
      /IPVS sync daemon backup \(mcast=eth1, syncid=4, .*\) left running: it receives the active director's connections/,
    );
  });
});

describe.skipIf(!canUnshare)('syncdaemon=none (the default)', () => {
  it('never runs a sync-daemon command: a daemon started by hand stays as it is through start, reload and stop', async () => {
    const sb = sandbox();
    const cfg = join(sb.dir, 'none.cf');
    const calls = join(sb.dir, 'calls.jsonl');
    ipvsadm(sb, '--start-daemon', 'master', '--mcast-interface', 'eth0', '--syncid', '9');
    writeFileSync(cfg, configText(sb, []));
    const env = { FAKE_IPVSADM_LOG: calls };
    expect((await sb.run(['node', BIN, cfg, 'start'], { env })).exitCode).toBe(0);
    const status = await sb.run(['node', BIN, cfg, 'status', '--json'], { env });
    expect((JSON.parse(String(status.stdout)) as { daemon: { syncDaemons: unknown } }).daemon.syncDaemons).toEqual({
      mode: 'none',
      configured: [],
    });
    const metrics = await (await fetch(`http://${STATUS}:${STATUS_PORT}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    expect(metrics).toContain('ldirectord_info{');
    expect(metrics).not.toContain('ldirectord_sync_daemon_running{');
    writeFileSync(cfg, configText(sb, ['syncdaemon=none']));
    expect((await sb.run(['node', BIN, cfg, 'reload'], { env })).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 2500)); // two check intervals
    expect((await sb.run(['node', BIN, cfg, 'stop'], { env })).exitCode).toBe(0);
    expect(daemons(sb)).toBe(line('master', 'eth0', 9));
    const args = readFileSync(calls, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { args: string[] }).args.join(' '));
    expect(args.length).toBeGreaterThan(0);
    expect(args.filter((a) => /daemon/.test(a))).toEqual([]);
  });
});

describe.skipIf(!canUnshare)('a sync interface that does not exist', () => {
  it('start succeeds; the refusal is logged once, shown in status --json and retried at each check; the stop still works', async () => {
    const sb = sandbox();
    const cfg = join(sb.dir, 'noif.cf');
    const calls = join(sb.dir, 'calls.jsonl');
    writeFileSync(cfg, configText(sb, ['syncdaemon=master', 'syncinterface=eth7']).replace(`statusaddress=${STATUS}:${STATUS_PORT}\n`, ''));
    const env = { FAKE_IPVSADM_INTERFACES: 'eth0', FAKE_IPVSADM_LOG: calls };
    const r = await sb.run(['node', BIN, cfg, 'start'], { env });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const starts = () =>
      existsSync(calls)
        ? readFileSync(calls, 'utf8')
            .split('\n')
            .filter((l) => l.includes('"--start-daemon"')).length
        : 0;
    // checkinterval=1: the first try at start-up, then one per look
    expect(await eventually(starts, (n) => n >= 3, 10_000)).toBeGreaterThanOrEqual(3);
    const refusal = 'cannot start IPVS sync daemon master (mcast=eth7, syncid=0): No such device (tried again at the next check)';
    expect(
      logText(sb)
        .split('\n')
        .filter((l) => l.endsWith(refusal)),
    ).toHaveLength(1);
    const status = await sb.run(['node', BIN, cfg, 'status', '--json'], { env });
    const doc = JSON.parse(String(status.stdout)) as { daemon: { state: string; syncDaemons: unknown } };
    expect(doc.daemon.state).toBe('running');
    expect(doc.daemon.syncDaemons).toMatchObject({
      mode: 'master',
      configured: [{ role: 'master', interface: 'eth7', syncid: 0, running: false }],
      running: [],
      error: refusal,
    });
    expect((await sb.run(['node', BIN, cfg, 'stop'], { env })).exitCode).toBe(0);
    expect(daemons(sb)).toBe('');
  });
});

describe.skipIf(!canUnshare)('SIGTERM while the sync daemons are being started', () => {
  it('ends start-up there: `start` fails, the master started meanwhile is stopped, no daemon is left', async () => {
    const sb = sandbox();
    const cfg = join(sb.dir, 'term.cf');
    const marker = join(sb.dir, 'starting-daemon');
    // An ipvsadm whose --start-daemon takes 2 s and says when it begins.
    const slow = join(sb.dir, 'slow-ipvsadm');
    writeFileSync(
      slow,
      `#!/bin/sh\ncase "$1" in --start-daemon) touch ${JSON.stringify(marker)}; sleep 2;; esac\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"\n`,
    );
    chmodSync(slow, 0o755);
    writeFileSync(cfg, configText(sb, ['syncdaemon=master', 'syncinterface=eth1']).replace(`statusaddress=${STATUS}:${STATUS_PORT}\n`, ''));
    const start = sb.run(['node', BIN, cfg, 'start'], { env: { SANDBOX_IPVSADM: slow } });
    expect(
      await eventually(
        () => existsSync(marker),
        (b) => b,
        20_000,
      ),
    ).toBe(true);
    const pid = Number(readFileSync(join(sb.piddir, 'ldirectord.term.cf.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    const r = await start;
    expect(r.exitCode, String(r.stderr)).toBe(1);
    expect(String(r.stderr)).toMatch(/^ldirectord failed to start: stopped by signal TERM during start-up$/m);
    const gone = await eventually(
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      (b) => b,
      20_000,
    );
    expect(gone).toBe(true);
    expect(daemons(sb)).toBe('');
    expect(logText(sb)).toMatch(/IPVS sync daemon master \(mcast=eth1, syncid=0, .*\) stopped\n/);
  }, 60_000);
});
