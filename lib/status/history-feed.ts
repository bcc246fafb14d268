// Where the status page's history learns of state changes: after each check,
// the state of every (virtual, real) the check decides is compared with the
// one it had at the check before. A change made without a check (a
// maintenance file) shows at the next check, dated by the real's lastChange.
import type { CheckResult } from '../../checks/types.js';
import type { RealEntry } from '../daemon/check-runner.js';
import type { Director } from '../daemon/director.js';
import { canonicalAddress } from '../ipvs/table.js';
import type { HistoryState, StateHistory } from './state-history.js';

export function historyFeed(history: StateHistory, director: () => Director): (entry: RealEntry, result: CheckResult) => void {
  // Keyed by the entry: it goes with the real when a reload removes it.
  const seen = new WeakMap<RealEntry, Map<string, HistoryState>>();
  return (entry, result) => {
    let states = seen.get(entry);
    if (!states) seen.set(entry, (states = new Map()));
    for (const { virtual, real } of entry.members) {
      const to = director().realView(virtual, real).state;
      const address = `${canonicalAddress(real.ip)?.address ?? real.ip}:${real.port}`;
      const key = `${virtual.id} ${address}`;
      const from = states.get(key) ?? 'unknown';
      if (from === to) continue;
      states.set(key, to);
      history.record({ virtual: virtual.id, real: address, from, to, at: entry.lastChange, message: result.message });
    }
  };
}
