// What to do with the kernel's IPVS sync daemons, decided from what the config wants and
// what the kernel runs (pure: the keeper runs the steps and logs them).
import type { SyncRole } from '../config/model.js';
import { runsAsWanted, type SyncDaemon } from '../ipvs/sync-daemons.js';

export type SyncStep =
  /** A wanted role the kernel does not run. */
  | { readonly op: 'start'; readonly daemon: SyncDaemon }
  /** A wanted role the kernel runs with other parameters: stop, then start. */
  | { readonly op: 'restart'; readonly daemon: SyncDaemon; readonly running: SyncDaemon }
  /** A role the config no longer asks for, still running. */
  | { readonly op: 'stop'; readonly running: SyncDaemon };

/**
 * `dropped`: roles the previous config asked for and this one does not (a reload): those
 * are stopped. A role no config of ours asked for is someone else's and left alone.
 */
export function planSyncDaemons(wanted: readonly SyncDaemon[], running: readonly SyncDaemon[], dropped: readonly SyncRole[]): SyncStep[] {
  const steps: SyncStep[] = [];
  for (const d of running) {
    if (dropped.includes(d.role) && !wanted.some((w) => w.role === d.role)) steps.push({ op: 'stop', running: d });
  }
  for (const w of wanted) {
    const have = running.find((d) => d.role === w.role);
    if (!have) steps.push({ op: 'start', daemon: w });
    else if (!runsAsWanted(w, have)) steps.push({ op: 'restart', daemon: w, running: have });
  }
  return steps;
}

/** The roles `stop` ends: the master only. The backup keeps receiving (see the man page). */
export function rolesToStopOnExit(wanted: readonly SyncDaemon[], running: readonly SyncDaemon[]): SyncDaemon[] {
  return running.filter((d) => d.role === 'master' && wanted.some((w) => w.role === 'master'));
}
