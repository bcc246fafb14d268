// The status page's history learns of state changes from the daemon's event stream: one
// change per (virtual, real) whose check state moved, dated when the check decided it.
import { onRealTransition, type DaemonEvents } from '../daemon/transition-events.js';
import { canonicalAddress } from '../ipvs/table.js';
import type { StateHistory } from './state-history.js';

/** Subscribes `history` to the real transitions of `events`; returns the unsubscribe function. */
export function feedHistory(history: StateHistory, events: DaemonEvents): () => void {
  return onRealTransition(events, (t) => {
    const address = `${canonicalAddress(t.real.ip)?.address ?? t.real.ip}:${t.real.port}`;
    history.record({ virtual: t.virtual, real: address, from: t.from, to: t.to, at: t.at, message: t.message });
  });
}
