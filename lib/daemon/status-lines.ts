// The lines of the USR1 status dump: the daemon's state, then each configured real
// with its check state, soft counts, slowstart step and last check.
import type { Config, DaemonStatus, RealServer, VirtualService } from '../config/model.js';
import type { RealState } from '../ipvs/desired.js';
import type { RealEntry } from './check-runner.js';
import { realAddress } from './real-id.js';

/** What the status shows of one configured real of a virtual. */
export interface RealView {
  readonly state: RealState;
  readonly entry?: RealEntry;
  /** The weight the director wants for it now (the slowstart step while ramping). */
  readonly wantWeight: number;
  /** When a slowstart ramp in progress reaches the full weight (ms since the epoch). */
  readonly rampEndsAt?: number;
}

export interface StatusView {
  readonly daemonStatus: DaemonStatus;
  readonly currentConfig: Config;
  realView(v: VirtualService, r: RealServer): RealView;
}

export function statusLines(view: StatusView): string[] {
  const config = view.currentConfig;
  const lines = [`Status: ${view.daemonStatus}, ${config.virtuals.length} virtual services`];
  for (const v of config.virtuals) {
    for (const r of v.reals) {
      const rv = view.realView(v, r);
      const e = rv.entry;
      const last = e?.lastMessage !== undefined ? `, last check ${e.lastOk ? 'ok' : 'failed'}: ${e.lastMessage}` : '';
      const rising = e && e.state.successCount > 0 ? ` (${e.state.successCount}/${v.successcount} successes)` : '';
      const ramp = rv.rampEndsAt !== undefined ? ` (slow start: weight ${rv.wantWeight} of ${r.weight})` : '';
      const soft = e && e.state.failCount > 0 ? ` (${e.state.failCount} soft failures)` : '';
      lines.push(`  ${v.id} real ${realAddress(r)} ${rv.state}${soft}${rising}${ramp}${last}`);
    }
  }
  return lines;
}
