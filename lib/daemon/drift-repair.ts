// The drift check's schedule: while the daemon runs, once per shortest checkinterval,
// ask for the table to be read and compared (what someone changed by hand is put
// back), and for the alert reminders to go out. Armed again after each reload (the
// interval may have changed), ended by the stop.
import type { Config } from '../config/model.js';
import type { DaemonEvents } from './transition-events.js';

export class DriftRepairSchedule {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly events: DaemonEvents) {}

  subscribe(): void {
    this.events.on('phase', ({ phase, config }) => {
      if (phase === 'running') this.arm(config);
      else if (phase === 'stopping') {
        this.stopped = true;
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
      }
    });
  }

  private arm(config: Config): void {
    if (this.timer) clearInterval(this.timer);
    if (this.stopped) return;
    const interval = Math.min(...config.virtuals.map((v) => v.checkinterval), config.globals.checkinterval);
    this.timer = setInterval(() => this.events.emit({ type: 'converge-wanted', why: 'drift-check' }), interval * 1000);
  }
}
