// The daemon's states and what a signal does in each: one outcome per state and
// signal, whatever the moment (man page, SIGNALS).
//
//              SIGTERM/INT/QUIT                         SIGHUP
// starting     start-up ends at its next step; what it   reload once start-up is done
//              added is undone as by a stop; `start`
//              fails; the process exits
// running      stop                                      reload
// reloading    the reload ends at its next step, then    one more reload after this one
//              stop (queued reloads are dropped)         (further HUPs merge into it)
// stopping     ignored                                   ignored
//
// Steps are the points between which the daemon awaits something (the IPVS table,
// an execute= child): a step under way is finished, never cut off, so the table is
// never left half-changed by a signal.
import type { InstanceState } from './instance-lock.js';

export type { InstanceState as LifecycleState };

export type TerminateAction = 'stop' | 'after-step' | 'ignore';
export type HangupAction = 'reload' | 'after-start' | 'ignore';

export class Lifecycle {
  private current: InstanceState = 'starting';
  /** The first terminating signal, once one came. */
  stopSignal: string | undefined;
  /** A SIGHUP came during start-up. */
  reloadAfterStart = false;

  constructor(private readonly changed: (s: InstanceState) => void = () => undefined) {}

  get state(): InstanceState {
    return this.current;
  }

  /** True once a stop was asked for: every step boundary checks it. */
  get stopRequested(): boolean {
    return this.stopSignal !== undefined;
  }

  set(state: InstanceState): void {
    if (this.current === 'stopping') return;
    this.current = state;
    this.changed(state);
  }

  terminate(signal: string): TerminateAction {
    if (this.current === 'stopping' || this.stopSignal !== undefined) return 'ignore';
    this.stopSignal = signal;
    return this.current === 'running' ? 'stop' : 'after-step';
  }

  hangup(): HangupAction {
    if (this.current === 'stopping' || this.stopSignal !== undefined) return 'ignore';
    if (this.current === 'starting') {
      this.reloadAfterStart = true;
      return 'after-start';
    }
    return 'reload';
  }
}
