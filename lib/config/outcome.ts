// What reading one directive line gives: an error, or a change to apply plus warnings.
// The change is applied only once the line is accepted, so a rejected line can be
// read again in a lenient form (scan.ts) with nothing half-done.
import { MSG } from './messages.js';

export type Outcome = { error: string } | { apply: () => void; warnings?: string[] };

export const ok = (apply: () => void, warnings?: string[]): Outcome => (warnings ? { apply, warnings } : { apply });
export const fail = (error: string): Outcome => ({ error });

/** A `yes`/`no` directive; anything else is the original's "<name> must be yes or no". */
export function yesNo(value: string, name: string, set: (b: boolean) => void): Outcome {
  return value === 'yes' || value === 'no' ? ok(() => set(value === 'yes')) : fail(MSG.yesNo(name));
}
