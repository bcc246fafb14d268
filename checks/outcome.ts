// Building a CheckResult: every probe measures its own duration the same way.
import type { CheckResult } from './types.js';

export interface OutcomeExtras {
  readonly detail?: string;
  readonly log?: readonly string[];
  readonly skipMonitorfile?: boolean;
}

/** A stopwatch started when the probe starts; `up`/`down` stamp the duration. */
export class Outcome {
  private readonly started = performance.now();

  up(message = '-', extras: OutcomeExtras = {}): CheckResult {
    return this.make(true, message, extras);
  }

  down(message = '-', extras: OutcomeExtras = {}): CheckResult {
    return this.make(false, message, extras);
  }

  private make(ok: boolean, message: string, extras: OutcomeExtras): CheckResult {
    const durationMs = Math.round((performance.now() - this.started) * 10) / 10;
    // detail (nearly every result has one) in the literal: a field added afterwards goes to
    // an array of its own, one more object per check, kept with each real's last result.
    const result: { -readonly [K in keyof CheckResult]: CheckResult[K] } =
      extras.detail !== undefined ? { ok, message, durationMs, detail: extras.detail } : { ok, message, durationMs };
    if (extras.log !== undefined && extras.log.length > 0) result.log = extras.log;
    if (extras.skipMonitorfile) result.skipMonitorfile = true;
    return result;
  }
}

/** A short description of an error for `detail`. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
