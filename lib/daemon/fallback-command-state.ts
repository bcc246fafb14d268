// fallbackcommand start|stop (spec §4.5): run once per change of "no real is up" of a
// virtual, after a convergence that worked, for the virtuals it looked at (a real's
// state change puts its virtuals in one). Decided from the same reals' states the
// convergence computed its table from.
import { virtualKey } from '../ipvs/desired.js';
import type { ConvergedEvent, DaemonEvents } from './transition-events.js';

export type RunFallbackCommand = (command: string, args: readonly string[]) => void;

export class FallbackCommands {
  /** Per virtual id: the fallbackcommand state last run ('start' | 'stop'). */
  private readonly state = new Map<string, 'start' | 'stop'>();

  constructor(private readonly run: RunFallbackCommand) {}

  subscribe(events: DaemonEvents): void {
    events.on('converged', (e) => {
      if (!e.result.error) this.follow(e);
    });
  }

  private follow({ reals, scope, config }: ConvergedEvent): void {
    for (const v of config.virtuals) {
      if (!v.fallbackcommand || (scope && !scope.has(virtualKey(v)))) continue;
      const known = reals.get(v);
      const states = v.reals.map((_, i) => known?.[i]?.state ?? 'unknown');
      if (states.includes('up') === false && states.includes('unknown')) continue;
      const want = states.includes('up') ? 'stop' : 'start';
      if (this.state.get(v.id) === want || (want === 'stop' && !this.state.has(v.id))) {
        this.state.set(v.id, want);
        continue;
      }
      this.state.set(v.id, want);
      const vip = v.protocol === 'fwm' ? `:0` : `${v.ip}:${v.port}`;
      this.run(v.fallbackcommand, [want, vip, v.protocol]);
    }
  }
}
