// The reals' states as one plain value, taken when a convergence computes its table:
// up, down or unknown by the checks (unknown until a check decided it in this process),
// the weight (the slowstart step while a ramp runs) and whether maintenance holds it
// down. Only the virtuals of the convergence's scope are looked at.
import type { Config } from '../config/model.js';
import { virtualKey, type RealSnapshot, type RealState, type RealsSnapshot } from '../ipvs/desired.js';
import type { RealEntry } from './check-runner.js';
import { checkKey } from './real-id.js';
import type { RampSchedule } from './ramp-schedule.js';

export interface SnapshotSources {
  readonly entries: { get(id: string): RealEntry | undefined };
  readonly ramps: Pick<RampSchedule, 'weightOf'>;
}

export function stateOfEntry(e: RealEntry | undefined): RealState {
  if (!e || !e.checked) return 'unknown';
  return e.state.status === 'up' ? 'up' : e.state.status === 'down' ? 'down' : 'unknown';
}

export function snapshotReals(config: Config, from: SnapshotSources, now: number, scope?: ReadonlySet<string>): RealsSnapshot {
  const out = new Map<Config['virtuals'][number], readonly RealSnapshot[]>();
  for (const v of config.virtuals) {
    if (out.has(v) || (scope && !scope.has(virtualKey(v)))) continue;
    out.set(
      v,
      v.reals.map((r) => {
        const id = checkKey(v, r);
        const e = from.entries.get(id);
        const state = stateOfEntry(e);
        return {
          state,
          weight: state === 'up' ? from.ramps.weightOf(v, r, id, now) : r.weight,
          maintenance: state === 'down' && e?.maintenance === true,
        };
      }),
    );
  }
  return out;
}
