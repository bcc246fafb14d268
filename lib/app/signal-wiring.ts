// The daemon's signals, each with its one outcome in every lifecycle state
// (lifecycle.ts): TERM/INT/QUIT stop (at once, or once the current step is done),
// HUP reloads, USR1 logs the status lines, USR2 and PIPE are ignored.
import type { Lifecycle } from '../daemon/lifecycle.js';

const TERMINATING = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

export interface SignalActions {
  shutdown(): void;
  reload(): void;
  statusLines(): string[];
}

/** `actions` is read when a signal comes: the daemon fills it in as it starts. */
export function wireSignals(lifecycle: Lifecycle, log: (m: string) => void, actions: SignalActions): void {
  for (const sig of TERMINATING) {
    process.on(sig, () => {
      const action = lifecycle.terminate(sig);
      if (action === 'stop') actions.shutdown();
      else if (action === 'after-step')
        log(`Signal ${sig.replace(/^SIG/, '')} while ${lifecycle.state}: stopping once the current step is done`);
    });
  }
  process.on('SIGHUP', () => {
    const action = lifecycle.hangup();
    if (action === 'ignore') return log('Reload on signal ignored: the daemon is stopping');
    log('Reloading Linux Director Daemon config on signal');
    if (action === 'reload') actions.reload();
  });
  process.on('SIGUSR1', () => {
    for (const line of actions.statusLines()) log(line);
  });
  process.on('SIGUSR2', () => undefined);
  process.on('SIGPIPE', () => undefined);
}
