// Two directors, one cluster: the REAL heartbeat 3 (v1 haresources) and Corosync 3 +
// Pacemaker 2 move a VIP and ldirectord-ts between two directors with REAL IPVS tables, in
// one IPVS guest (test/e2e/vm/ipvs-vm.sh; IPVS is per network namespace, so two
// namespaces are two directors). The agents are the unchanged Debian ones: heartbeat's
// resource.d/ldirectord and IPaddr2, ocf:heartbeat:ldirectord and ocf:heartbeat:IPaddr2;
// ldirectord-ts is installed as the system's ldirectord by scripts/install-system.sh
// (staged here, mounted in the guest). One client sends a request through the VIP every
// 200 ms to an LVS-DR service (:80) and to an LVS-NAT one (:8080) throughout.
//   heartbeat: start on lb0, lb0 powered off (failover to lb1), lb0 back (auto_failback),
//     hb_standby on lb0 (to lb1), heartbeat -k on both (clean stop on lb1).
//   Pacemaker: start on lb0, the daemon SIGKILLed (monitor, restart in place), lb0 powered
//     off (failover), lb0 back (the group prefers it), standby lb0 (to lb1), the group
//     stopped (target-role), the stack stopped.
//   Long-lived connections (failover-streams.ts): two streaming downloads through lb0
//     across its power-off, under each manager, with ldirectord-ts and with the Perl
//     original, with the kernel's IPVS connection sync; and without it (the two scenarios
//     above); and the kernel alone, on why ldirectord starts before the VIP with sync.
// The guest runs test/cluster/guest/cluster-e2e.sh; the assertions are here. The figures
// (the client's gaps) are printed as FIGURE lines and recorded in bench/RESULTS.md.
// Debugging: after one test run (which stages .cache/cluster/root),
//   test/e2e/vm/ipvs-vm.sh -C "$PWD" -m 1536M -t 3600 -e CL_VERBOSE=1 -- bash test/cluster/guest/cluster-e2e.sh .cache/cluster/out .cache/cluster/root <scenario>[,...]
// (scenarios: all, order, hb, pm, fo:pm:orig:sync, ...: see cluster-e2e.sh)
// prints each step as it happens; CLUSTER_REPORT_ONLY=1 npx vitest run --project cluster
// asserts on the last report without booting the guest.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, VM } from '../e2e/support/guest-build.js';
import { describeFailoverStreams, streamFigures } from './failover-streams.js';
import { ClusterReport } from './report.js';

const OUT = '.cache/cluster/out';
const STAGE = '.cache/cluster/root';
const DR = 80;
const NAT = 8080;
/** ldirectord.cf of cluster-e2e.sh, as `ipvsadm -S -n | sort` prints it. */
const TABLE =
  [
    '-A -t 10.9.0.100:80 -s rr',
    '-A -t 10.9.0.100:8080 -s rr',
    '-a -t 10.9.0.100:80 -r 10.9.0.21:80 -g -w 1',
    '-a -t 10.9.0.100:80 -r 10.9.0.22:80 -g -w 1',
    '-a -t 10.9.0.100:8080 -r 10.9.0.31:80 -m -w 1',
    '-a -t 10.9.0.100:8080 -r 10.9.0.32:80 -m -w 1',
  ]
    .sort()
    .join('\n') + '\n';
/** After the takeover, the client must be answered by both reals of each service within this. */
const SETTLE_MS = 10_000;

const missing = [
  '/usr/libexec/heartbeat/heartbeat',
  '/usr/sbin/corosync',
  '/usr/sbin/pacemakerd',
  '/usr/lib/ocf/resource.d/heartbeat/ldirectord',
  '/usr/lib/ocf/resource.d/heartbeat/IPaddr2',
].filter((p) => !existsSync(p));
const built = existsSync(path.join(ROOT, 'dist/lib/cli/main.cjs'));
const inCi = process.env.CI === 'true';

describe.runIf(inCi && (missing.length > 0 || !built))('cluster: prerequisites', () => {
  it('has heartbeat, Corosync, Pacemaker and resource-agents (.ci/install.d/80-cluster.sh) and a built dist/', () => {
    expect.fail(`missing: ${[...missing, ...(built ? [] : ['dist/ (npm run build)'])].join(', ')}`);
  });
});

let r: ClusterReport;
let vmSeconds = 0;

describe.skipIf(missing.length > 0 || !built)('two directors under heartbeat and Pacemaker, real IPVS', () => {
  beforeAll(async () => {
    if (process.env.CLUSTER_REPORT_ONLY === '1') {
      // Debugging: assert on the last run's report without booting the guest again.
      r = new ClusterReport(path.join(ROOT, OUT));
      printFigures();
      return;
    }
    rmSync(path.join(ROOT, STAGE), { recursive: true, force: true });
    const inst = await execa('bash', ['scripts/install-system.sh', `--destdir=${path.join(ROOT, STAGE)}`, `--node=${process.execPath}`], {
      cwd: ROOT,
      reject: false,
    });
    if (inst.exitCode !== 0) throw new Error(`install-system.sh --destdir failed:\n${inst.stdout}\n${inst.stderr}`);
    const t0 = performance.now();
    const vm = await execa(
      VM,
      ['-q', '-C', ROOT, '-m', '1536M', '-t', '3600', '--', 'bash', 'test/cluster/guest/cluster-e2e.sh', OUT, STAGE, 'all'],
      { cwd: ROOT, reject: false, timeout: 3_610_000 },
    );
    vmSeconds = (performance.now() - t0) / 1000;
    r = new ClusterReport(path.join(ROOT, OUT));
    if (vm.exitCode !== 0 && r.events.size === 0) {
      throw new Error(`the IPVS guest failed (exit ${vm.exitCode}):\n${String(vm.stderr)}\n${String(vm.stdout).slice(0, 2000)}`);
    }
    console.log(`cluster: VM run ${vmSeconds.toFixed(1)} s; guest exit ${vm.exitCode}; files ${readdirSync(path.join(ROOT, OUT)).length}`);
    printFigures();
  }, 3_660_000);

  it('ran every step (no step timed out)', () => {
    expect(r.failures).toEqual([]);
    expect(r.events.has('end')).toBe(true);
  });

  for (const [mgr, p] of [
    ['heartbeat', 'hb'],
    ['Pacemaker', 'pm'],
  ] as const) {
    describe(mgr, () => {
      it('starts the VIP and ldirectord-ts on lb0: the configured table', () => {
        expect(r.text(`${p}-table-lb0`)).toBe(TABLE);
      });

      it("lb0 powered off: lb1's table equals lb0's before the failure", () => {
        expect(r.text(`${p}-table-lb1-after-failure`)).toBe(r.text(`${p}-table-lb0`));
      });

      it("the client's failover gap ends when lb1 directs, and both reals of each service answer after it", () => {
        const off = r.at(`${p}:power-off`);
        const directs = r.at(`${p}:lb1-directs-after-failure`);
        for (const port of [DR, NAT]) {
          const v = r.view(port, off, directs + SETTLE_MS);
          // the gap closes within a couple of request intervals of the table being there
          expect(v.gapMs).toBeLessThanOrEqual(directs - off + 3000);
          const after = r.view(port, directs + 1000, directs + SETTLE_MS).answered;
          expect(Object.keys(after).sort()).toEqual(port === DR ? ['dr1', 'dr2'] : ['nat1', 'nat2']);
        }
      });

      it('lb0 back: it takes over again (failback) with the same table, and lb1 lets go', () => {
        expect(r.text(`${p}-table-lb0-after-failback`)).toBe(TABLE);
        expect(r.events.has(`${p}:lb1-idle-after-failback`)).toBe(true);
      });

      it('standby of lb0: lb1 takes the VIP and builds the same table; lb0 keeps neither VIP, table nor daemon', () => {
        expect(r.events.has(`${p}:lb0-idle`)).toBe(true);
        expect(r.text(`${p}-table-lb1-standby`)).toBe(TABLE);
      });

      it('clean stop: lb1 removes the VIP and the table, and the daemon exits', () => {
        expect(r.events.has(`${p}:stopped`)).toBe(true);
      });
    });
  }

  it('heartbeat logs no ERROR or CRIT about the resources or the nodes', () => {
    const errors = ['lb0', 'lb1'].flatMap((n) =>
      r
        .text(`hb-${n}-ha-log`)
        .split('\n')
        .filter((l) => /\b(ERROR|CRIT)\b/.test(l)),
    );
    // heartbeat 3.0.6 logs this when a message its scripts write to its FIFO reaches the
    // FIFO reader cut in two by the reader's 1 s alarm (see hb_fifo_write_whole in
    // hb-scenario.sh, which makes the nodes' scripts write whole messages). It is printed,
    // not counted: a lost message that mattered shows in the steps above.
    const own = errors.filter((l) => /heartbeat: \[\d+\]: ERROR: msg2string: Message with zero fields$/.test(l));
    if (own.length > 0) console.log(`cluster: heartbeat's own message:\n${own.join('\n')}`);
    expect(errors.filter((l) => !own.includes(l))).toEqual([]);
    expect(r.text('hb-lb0-ha-log')).toMatch(/resource\.d\/ldirectord ldirectord\.cf start/);
  });

  it('Pacemaker: the monitor saw the SIGKILLed daemon and Pacemaker restarted it in place', () => {
    const killed = r.text('pm-killed-pid').trim();
    const now = r.text('pm-restarted-pid').trim();
    expect(killed).toMatch(/^\d+$/);
    expect(now).toMatch(/^\d+$/);
    expect(now).not.toBe(killed);
    expect(r.text('pm-crm-mon-after-restart')).toMatch(/ld.*monitor.*not running/);
    // the kernel table outlived the daemon: the client was answered throughout (a few
    // request intervals at most between answers, on the guest's one loaded CPU)
    for (const port of [DR, NAT]) {
      expect(r.view(port, r.at('pm:sigkill'), r.at('pm:restarted')).gapMs).toBeLessThanOrEqual(3000);
    }
  });

  it("Pacemaker and Corosync log no error about the cluster's resources or membership", () => {
    const errors = ['lb0', 'lb1'].flatMap((n) => [
      ...r
        .text(`pm-${n}-pacemaker.log`)
        .split('\n')
        .filter((l) => /\b(error|crit):/.test(l)),
      ...r
        .text(`pm-${n}-corosync.log`)
        .split('\n')
        .filter((l) => /\[(ERROR|CRIT)\]|error/i.test(l)),
    ]);
    // pacemakerd's start-up liveness probe of its own subdaemons (5 IPC tries) runs out on
    // the guest's one traced CPU while 2 nodes start 12 daemons: it restarts the slow one.
    // It concerns no resource and no node; it is printed, not counted.
    // For the same reason the controller can ask the attribute daemon for its start-up
    // attribute (#feature-set) before that daemon listens; it sets it again once joined.
    const startup = errors.filter(
      (l) =>
        /\(check_next_subdaemon\)\s+error: pacemaker-\w+\[\d+\] is unresponsive to ipc/.test(l) ||
        /pacemaker-controld .*\((connect_and_send_attrd_request|update_attrd)\)\s+error: Could not (connect to attrd|update attribute #feature-set=\S+ for cluster node \w+): Connection refused/.test(
          l,
        ),
    );
    if (startup.length > 0) console.log(`cluster: pacemakerd start-up probe:\n${startup.join('\n')}`);
    // At the clean stop pacemakerd signals each subdaemon, then looks the pid up in /proc;
    // when the subdaemon has already exited, pacemakerd 2.1.5 logs its lookup's ENOENT as an
    // error before it reaps the child ("exited with status 0"). Only for a pid that it had
    // just signalled to stop: printed, not counted.
    const stopped = stoppedSubdaemons(['lb0', 'lb1'].map((n) => r.text(`pm-${n}-pacemaker.log`)).join('\n'));
    const stopRace = errors.filter((l) => {
      const m =
        /^\w{3} +\d+ \S+ (\S+) pacemakerd +\[\d+\] \(pcmk__pid_active\)\s+error: Could not get executable for PID (\d+): No such file or directory/.exec(
          l,
        );
      return m !== null && stopped.has(`${m[1]} ${m[2]}`);
    });
    if (stopRace.length > 0) console.log(`cluster: pacemakerd stopping its subdaemons:\n${stopRace.join('\n')}`);
    expect(errors.filter((l) => !startup.includes(l) && !stopRace.includes(l))).toEqual([]);
  });

  describeFailoverStreams(() => r, TABLE, SETTLE_MS);
});

/** Client views printed as figures: [from event, to event]. */
const WINDOWS: Record<string, [string, string]> = {
  hb_standby: ['hb:standby', 'hb:lb1-directs'],
  hb_failover: ['hb:power-off', 'hb:lb1-directs-after-failure'],
  hb_failback: ['hb:lb0-boot', 'hb:lb0-directs-after-failback'],
  pm_sigkill: ['pm:sigkill', 'pm:restarted'],
  pm_standby: ['pm:standby', 'pm:lb1-directs'],
  pm_failover: ['pm:power-off', 'pm:lb1-directs-after-failure'],
  pm_failback: ['pm:lb0-boot', 'pm:lb0-directs-after-failback'],
};

function printFigures(): void {
  for (const [name, [a, b]] of Object.entries(WINDOWS)) {
    if (!r.events.has(a) || !r.events.has(b)) continue;
    for (const port of [DR, NAT]) {
      const v = r.view(port, r.at(a), r.at(b) + SETTLE_MS);
      console.log(
        `FIGURE ${name}_${port === DR ? 'dr' : 'nat'}_gap_ms ${v.gapMs} (failed ${v.failed}; cluster ${r.at(b) - r.at(a)} ms from ${a} to ${b})`,
      );
    }
  }
  for (const l of streamFigures(r, SETTLE_MS)) console.log(l);
}

/** "<node> <pid>" of every subdaemon that pacemakerd sent SIGTERM to stop, from its log. */
function stoppedSubdaemons(log: string): Set<string> {
  const out = new Set<string>();
  for (const m of log.matchAll(
    /^\w{3} +\d+ \S+ (\S+) pacemakerd +\[\d+\] \(stop_child\)\s+notice: Stopping pacemaker-\w+ \| sent signal 15 to process (\d+)\b/gm,
  )) {
    out.add(`${m[1]} ${m[2]}`);
  }
  return out;
}
