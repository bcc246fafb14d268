// The long-lived connections of the cluster test (test/cluster/guest/stream-lib.sh and
// failover-scenario.sh): one streaming download through the VIP to an LVS-DR real (:80) and
// one to an LVS-NAT real (:8080), established via lb0, across lb0's power-off.
//   With the kernel's IPVS connection sync (ldirectord-ts with `syncdaemon = both`, or the
//   Perl original with daemons an admin starts), lb1 knows both connections before the
//   failure and both deliver again after it, from the same reals.
//   Without it, neither survives: lb1 resets what it does not know.
// Registered by cluster.test.ts, whose one guest boot writes the report.
import { describe, expect, it } from 'vitest';
import { type ClusterReport, streamView } from './report.js';

const PORTS = [80, 8080] as const;

/** The failover scenarios with streams: fo_scenario <mgr> <impl> <sync>. */
export const FAILOVERS = [
  { mgr: 'pm', impl: 'ours', sync: true },
  { mgr: 'pm', impl: 'orig', sync: true },
  { mgr: 'hb', impl: 'ours', sync: true },
  { mgr: 'hb', impl: 'orig', sync: true },
  { mgr: 'pm', impl: 'orig', sync: false },
  { mgr: 'hb', impl: 'orig', sync: false },
] as const;

export const failoverName = (f: (typeof FAILOVERS)[number]): string => `fo-${f.mgr}-${f.impl}-${f.sync ? 'sync' : 'nosync'}`;

export function describeFailoverStreams(report: () => ClusterReport, table: string, settleMs: number): void {
  for (const f of FAILOVERS) {
    const p = failoverName(f);
    const label = `${f.mgr === 'hb' ? 'heartbeat' : 'Pacemaker'}, ${f.impl === 'ours' ? 'ldirectord-ts' : 'the Perl original'}, ${f.sync ? 'with' : 'without'} connection sync`;
    describe(`failover with long-lived connections: ${label}`, () => {
      it('lb0 directs the configured table; after its power-off lb1 directs the same', () => {
        const r = report();
        expect(r.text(`${p}-table-lb0`)).toBe(table);
        expect(r.text(`${p}-table-lb1-after-failure`)).toBe(table);
      });

      it("new connections: the client's gap ends when lb1 directs", () => {
        const r = report();
        const off = r.at(`${p}:power-off`);
        const directs = r.at(`${p}:lb1-directs-after-failure`);
        for (const port of PORTS) expect(r.view(port, off, directs + settleMs).gapMs).toBeLessThanOrEqual(directs - off + 3000);
      });

      if (f.sync) {
        it("before the failure, lb1's connection table holds both streams (synced from lb0's master)", () => {
          const r = report();
          const conns = r.text(`${p}-conns-lb1-before`);
          for (const port of PORTS) {
            const v = streamView(r, p, port, r.at(`${p}:power-off`));
            expect(v.local).toBeGreaterThan(0);
            expect(conns).toMatch(new RegExp(`ESTABLISHED 10\\.9\\.5\\.2:${v.local}\\s+10\\.9\\.0\\.100:${port}\\s`));
          }
        });

        it('both streams deliver again after the failover, without an error', () => {
          const r = report();
          const off = r.at(`${p}:power-off`);
          for (const port of PORTS) {
            const v = streamView(r, p, port, off);
            expect(v.errorBefore).toBeUndefined();
            expect(v.error).toBeUndefined();
            expect(v.resumedAt).toBeGreaterThan(off);
          }
        });
      } else {
        it('both streams break: lb1 does not know them', () => {
          const r = report();
          for (const port of PORTS) {
            const v = streamView(r, p, port, r.at(`${p}:power-off`));
            expect(v.errorBefore).toBeUndefined();
            expect(v.resumedAt).toBeUndefined();
          }
        });
      }

      if (f.impl === 'ours' && f.sync) {
        it("lb1's ldirectord-ts runs both sync roles after the takeover (the backup one was there from its boot)", () => {
          const daemons = report().text(`${p}-daemons-lb1`);
          expect(daemons).toMatch(/^master sync daemon \(mcast=eth0, syncid=1\b/m);
          expect(daemons).toMatch(/^backup sync daemon \(mcast=eth0, syncid=1\b/m);
        });
      }
    });
  }

  it('the kernel alone: a director with the synced connections and the VIP but no virtual service yet resets them (so ldirectord starts before the VIP)', () => {
    const r = report();
    const off = r.at('order:power-off');
    for (const port of PORTS) {
      const v = streamView(r, 'order', port, off);
      expect(r.text('order-conns-lb1-before')).toMatch(new RegExp(`ESTABLISHED 10\\.9\\.5\\.2:${v.local}\\s+10\\.9\\.0\\.100:${port}\\s`));
      expect(v.errorBefore).toBeUndefined();
      expect(v.resumedAt).toBeUndefined();
      // it ended without delivering again (reset: ECONNRESET, or closed)
      expect(v.error).toBeDefined();
    }
  });

  // heartbeat's and Pacemaker's long scenarios run ldirectord-ts without sync daemons
  for (const p of ['hb', 'pm'] as const) {
    it(`${p === 'hb' ? 'heartbeat' : 'Pacemaker'} without connection sync: the long-lived connections through lb0 do not survive its power-off`, () => {
      const r = report();
      for (const port of PORTS) {
        const v = streamView(r, p, port, r.at(`${p}:power-off`));
        expect(v.local).toBeGreaterThan(0);
        // nothing went wrong before (Pacemaker's restart of a SIGKILLed daemon included)
        expect(v.errorBefore).toBeUndefined();
        expect(v.resumedAt).toBeUndefined();
      }
    });
  }
}

/** FIGURE lines of the failovers with streams. */
export function streamFigures(r: ClusterReport, settleMs: number): string[] {
  const lines: string[] = [];
  const names = [...FAILOVERS.map(failoverName), 'hb', 'pm'];
  for (const p of names) {
    if (!r.events.has(`${p}:power-off`) || !r.events.has(`${p}:lb1-directs-after-failure`)) continue;
    const off = r.at(`${p}:power-off`);
    const directs = r.at(`${p}:lb1-directs-after-failure`);
    for (const port of PORTS) {
      const gap = r.view(port, off, directs + settleMs);
      const s = streamView(r, p, port, off);
      const stream =
        s.resumedAt !== undefined
          ? `stream stalled ${s.stallMs} ms, resumed ${s.resumedAt - off} ms after the power-off`
          : s.error !== undefined
            ? `stream broke: ${s.error.e} ${s.error.t - off} ms after the power-off`
            : 'stream: no data after the power-off';
      lines.push(
        `FIGURE ${p}_${port === 80 ? 'dr' : 'nat'} new-connection gap ${gap.gapMs} ms (failed ${gap.failed}; lb1 directs ${directs - off} ms after the power-off); ${stream}`,
      );
    }
  }
  return lines;
}
