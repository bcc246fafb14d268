// The keeper of the IPVS sync daemons against fake-ipvsadm (in process): what it starts,
// restarts, stops and leaves alone, at start-up, on its schedule, at a reload and at the
// stop; and that a failing ipvsadm is logged once and retried, never thrown.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Config, SyncDaemonSettings } from '../../lib/config/model.js';
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import type { IpvsadmRunner } from '../../lib/ipvs/ipvsadm-runner.js';
import { planSyncDaemons, rolesToStopOnExit } from '../../lib/daemon/sync-daemon-plan.js';
import { SyncDaemonKeeper } from '../../lib/daemon/sync-daemon-keeper.js';
import { DaemonEvents } from '../../lib/daemon/transition-events.js';
import { fakeIpvsadm, type FakeIpvsadm } from '../support/fake-ipvsadm-helper.js';

const BOTH: SyncDaemonSettings = { mode: 'both', roles: ['master', 'backup'], interface: 'sync0', syncid: 1 };
const MASTER: SyncDaemonSettings = { mode: 'master', roles: ['master'], interface: 'sync0', syncid: 1 };
const BACKUP: SyncDaemonSettings = { mode: 'backup', roles: ['backup'], interface: 'sync0', syncid: 1 };

let fake: FakeIpvsadm;
let lines: string[];
beforeEach(() => {
  fake = fakeIpvsadm();
  lines = [];
});
afterEach(() => {
  vi.useRealTimers();
  fake.cleanup();
});

const keeper = (runner: IpvsadmRunner = fake.inProcess()) => new SyncDaemonKeeper({ ipvsadm: runner, log: (m) => lines.push(m) });
const daemons = () => fake.sh('-L', '--daemon');
const changes = () =>
  fake
    .calls()
    .filter((c) => c.args[0] !== '-L')
    .map((c) => c.args.slice(0, 2).join(' '));

describe('planSyncDaemons (pure)', () => {
  const m = { role: 'master' as const, interface: 'eth0', syncid: 1 };
  const b = { role: 'backup' as const, interface: 'eth0', syncid: 1 };
  it('starts what is missing, restarts what differs, stops only what a reload dropped', () => {
    expect(planSyncDaemons([m, b], [], [])).toEqual([
      { op: 'start', daemon: m },
      { op: 'start', daemon: b },
    ]);
    expect(planSyncDaemons([m], [{ ...m, syncid: 2 }], [])).toEqual([{ op: 'restart', daemon: m, running: { ...m, syncid: 2 } }]);
    expect(planSyncDaemons([m], [m, b], [])).toEqual([]);
    expect(planSyncDaemons([m], [m, b], ['backup'])).toEqual([{ op: 'stop', running: b }]);
    expect(planSyncDaemons([], [m], [])).toEqual([]);
  });
  it('the stop ends the master only, and only when configured', () => {
    expect(rolesToStopOnExit([m, b], [m, b])).toEqual([m]);
    expect(rolesToStopOnExit([b], [m, b])).toEqual([]);
    expect(rolesToStopOnExit([m], [b])).toEqual([]);
  });
});

describe('SyncDaemonKeeper', () => {
  it('syncdaemon=none: never runs ipvsadm, at start, on watch or at stop', async () => {
    fake.sh('--start-daemon', 'master', '--mcast-interface', 'eth9', '--syncid', '5');
    const before = fake.calls().length;
    const k = keeper();
    await k.follow(undefined);
    await k.watch();
    await k.stop();
    expect(fake.calls().length).toBe(before);
    expect(daemons()).toBe('master sync daemon (mcast=eth9, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n');
    expect(k.view()).toEqual({ mode: 'none', wanted: [], error: '' });
  });

  it('start: both roles started with every configured parameter, logged with the command', async () => {
    const k = keeper();
    await k.follow({ ...BOTH, maxlen: 1400, group: '239.1.2.3', port: 8849, ttl: 3 });
    expect(daemons()).toBe(
      'master sync daemon (mcast=sync0, syncid=1, maxlen=1400, group=239.1.2.3, port=8849, ttl=3)\n' +
        'backup sync daemon (mcast=sync0, syncid=1, maxlen=1400, group=239.1.2.3, port=8849, ttl=3)\n',
    );
    expect(lines).toEqual([
      `IPVS sync daemon master (mcast=sync0, syncid=1, maxlen=1400, group=239.1.2.3, port=8849, ttl=3) started: ${fake.inProcess().path} --start-daemon master --mcast-interface sync0 --syncid 1 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 8849 --mcast-ttl 3`,
      `IPVS sync daemon backup (mcast=sync0, syncid=1, maxlen=1400, group=239.1.2.3, port=8849, ttl=3) started: ${fake.inProcess().path} --start-daemon backup --mcast-interface sync0 --syncid 1 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 8849 --mcast-ttl 3`,
    ]);
    const v = k.view();
    expect(v.mode).toBe('both');
    expect(v.running?.map((d) => d.role)).toEqual(['master', 'backup']);
    expect(v.error).toBe('');
  });

  it('start: a role already running as configured is kept (adopted); one with other parameters is restarted', async () => {
    fake.sh('--start-daemon', 'master', '--mcast-interface', 'sync0', '--syncid', '1');
    fake.sh('--start-daemon', 'backup', '--mcast-interface', 'sync0', '--syncid', '7');
    const before = fake.calls().length;
    await keeper().follow(BOTH);
    expect(
      fake
        .calls()
        .slice(before)
        .filter((c) => c.args[0] !== '-L')
        .map((c) => c.args.slice(0, 2)),
    ).toEqual([
      ['--stop-daemon', 'backup'],
      ['--start-daemon', 'backup'],
    ]);
    expect(daemons()).toMatch(/^master .*syncid=1,.*\nbackup .*syncid=1,/);
    expect(lines[0]).toMatch(/^IPVS sync daemon master \(mcast=sync0, syncid=1, .*\) already running$/);
    expect(lines[1]).toMatch(
      /^IPVS sync daemon backup \(mcast=sync0, syncid=7, .*\) runs with other parameters than configured: restarting it$/,
    );
  });

  it('watch: a role stopped behind its back is started again and logged; nothing when all runs', async () => {
    const k = keeper();
    await k.follow(BOTH);
    fake.sh('--stop-daemon', 'master');
    lines = [];
    await k.watch();
    expect(daemons()).toMatch(/^master .*\nbackup /);
    expect(lines[0]).toBe('IPVS sync daemon master is not running: starting it again');
    expect(lines[1]).toMatch(/^IPVS sync daemon master \(mcast=sync0, syncid=1\) started: /);
    const n = fake.calls().length;
    await k.watch();
    expect(fake.calls().length).toBe(n + 1); // one look, nothing to do
  });

  it('reload: only what changed; a dropped role is stopped, a role no config of ours asked for is left alone', async () => {
    const k = keeper();
    await k.follow(MASTER);
    fake.sh('--start-daemon', 'backup', '--mcast-interface', 'eth9', '--syncid', '9'); // someone else's
    await k.follow({ ...MASTER, syncid: 2 }, 'reload');
    expect(daemons()).toMatch(/^master .*syncid=2,.*\nbackup \(?.*mcast=eth9, syncid=9/);
    await k.follow(BACKUP, 'reload'); // master dropped, backup now wanted but runs differently: restarted
    expect(daemons()).toMatch(/^backup sync daemon \(mcast=sync0, syncid=1,/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^IPVS sync daemon master \(mcast=sync0, syncid=2, .*\) stopped: no longer configured$/),
    );
    await k.follow(undefined, 'reload'); // none: the backup we ran is stopped too
    expect(daemons()).toBe('');
    expect(changes()).toEqual([
      '--start-daemon master',
      '--start-daemon backup',
      '--stop-daemon master',
      '--start-daemon master',
      '--stop-daemon master',
      '--stop-daemon backup',
      '--start-daemon backup',
      '--stop-daemon backup',
    ]);
  });

  it('stop: the master goes, the backup stays (logged); nothing after the stop', async () => {
    const k = keeper();
    await k.follow(BOTH);
    lines = [];
    await k.stop();
    expect(daemons()).toMatch(/^backup sync daemon \(mcast=sync0, syncid=1,[^\n]*\)\n$/);
    expect(lines).toEqual([
      expect.stringMatching(/^IPVS sync daemon master \(mcast=sync0, syncid=1, .*\) stopped$/),
      expect.stringMatching(
        /^IPVS sync daemon backup \(mcast=sync0, syncid=1, .*\) left running: it receives the active director's connections for the next takeover$/,
      ),
    ]);
    const n = fake.calls().length;
    await k.watch();
    await k.follow(MASTER, 'reload');
    expect(fake.calls().length).toBe(n);
  });

  it('stop with syncdaemon=backup: the backup stays; a master someone else runs stays too', async () => {
    fake.sh('--start-daemon', 'master', '--mcast-interface', 'eth9', '--syncid', '9');
    const k = keeper();
    await k.follow(BACKUP);
    await k.stop();
    expect(daemons()).toMatch(/^master .*mcast=eth9.*\nbackup .*mcast=sync0/);
  });

  it('a refused start is logged once while it lasts, shown in the view, and retried at each watch', async () => {
    const k = keeper(fake.inProcess({ FAKE_IPVSADM_INTERFACES: 'eth0' }));
    await k.follow(MASTER);
    await k.watch();
    await k.watch();
    const refusal = 'cannot start IPVS sync daemon master (mcast=sync0, syncid=1): No such device (tried again at the next check)';
    expect(lines).toEqual([refusal]);
    expect(k.view().error).toBe(refusal);
    expect(changes()).toEqual(['--start-daemon master', '--start-daemon master', '--start-daemon master']);
    // the interface appears: the next look starts it and the error clears
    const k2 = keeper();
    await k2.follow(MASTER);
    expect(k2.view().error).toBe('');
    expect(daemons()).toMatch(/^master /);
  });

  it('an ipvsadm that cannot run or hangs is logged, never thrown; the keeper goes on', async () => {
    let broken = true;
    const inner = fake.inProcess();
    const runner: IpvsadmRunner = {
      path: inner.path,
      run: async (args, input) => {
        if (broken) throw new IpvsadmError('timeout', 'ipvsadm did not finish within 60000 ms (killed)', { args });
        return inner.run(args, input);
      },
    };
    const k = keeper(runner);
    await expect(k.follow(BOTH)).resolves.toBeUndefined();
    await expect(k.watch()).resolves.toBeUndefined();
    expect(lines).toEqual([
      'cannot read the IPVS sync daemons: ipvsadm did not finish within 60000 ms (killed) (tried again at the next check)',
    ]);
    broken = false;
    await k.watch();
    expect(daemons()).toMatch(/^master .*\nbackup /);
    expect(k.view().error).toBe('');
    // at the stop there is no next check to promise
    broken = true;
    lines = [];
    await expect(k.stop()).resolves.toBeUndefined();
    expect(lines).toEqual(['cannot read the IPVS sync daemons: ipvsadm did not finish within 60000 ms (killed)']);
  });

  it('on the schedule: looks every shortest checkinterval once running, follows a reload, stops looking at the stop', async () => {
    vi.useFakeTimers();
    const events = new DaemonEvents();
    const k = keeper();
    k.subscribe(events);
    const config = (s: SyncDaemonSettings | undefined, checkinterval = 2) =>
      ({ file: 'x.cf', globals: { checkinterval, syncdaemon: s }, virtuals: [{ checkinterval: 1 }] }) as unknown as Config;
    await k.follow(MASTER);
    events.emit({ type: 'phase', phase: 'running', config: config(MASTER) });
    fake.sh('--stop-daemon', 'master');
    await vi.advanceTimersByTimeAsync(1100);
    expect(daemons()).toMatch(/^master /);
    // a reload to both: followed when the daemon runs again
    events.emit({ type: 'phase', phase: 'running', config: config(BOTH) });
    await vi.advanceTimersByTimeAsync(10);
    expect(daemons()).toMatch(/^master .*\nbackup /);
    events.emit({ type: 'phase', phase: 'stopping', config: config(BOTH) });
    fake.sh('--stop-daemon', 'backup');
    const n = fake.calls().length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.calls().length).toBe(n);
  });
});
