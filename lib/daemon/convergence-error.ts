// The line for a convergence that could not use ipvsadm: logged once per distinct error
// by the notifications, and shown by the status as the daemon's IPVS error.
import type { ConvergeResult } from '../ipvs/converge.js';
import { changesUnconfirmed } from '../ipvs/messages.js';

/** '' when the convergence could use ipvsadm. */
export function convergenceErrorLine(result: ConvergeResult): string {
  if (!result.error) return '';
  // Once changes were sent, those after the last read-back may or may not have taken.
  return result.sent === 0 ? `IPVS table not changed: ${result.error.message}` : changesUnconfirmed(result.error.message);
}
