// checktype=external: run checkcommand with exactly four arguments — virtual IP (or
// fwmark), virtual port (0 for fwmark), real IP, real port (the configured one, not
// checkport); IPv6 addresses keep their brackets. No shell. Exit 0 is up; anything else,
// including a failure to start it, is down. When the signal aborts (checktimeout) the
// child's process group gets SIGTERM, the check ends at once as down, and the original's log line is
// returned in `log`. stdio is not read, so a chatty command costs no memory.
import { runBounded } from '../lib/proc/run-bounded.js';
import type { VirtualService } from '../lib/config/model.js';
import { untilAborted } from './abort.js';
import { Outcome } from './outcome.js';
import type { CheckResult, CheckTarget, Checker } from './types.js';

/** The four arguments of §3.2: vip-or-fwmark, vport (0 for fwmark), rip, rport. */
export function externalArguments(target: CheckTarget): [string, string, string, string] {
  const v = target.virtual;
  const vip = v.ip ?? String(v.fwmark ?? '');
  return [vip, String(v.port ?? 0), target.real.ip, String(target.real.port)];
}

export interface ExternalRun {
  readonly command: string;
  readonly args: readonly string[];
  /** What the original names in its timeout log line (system_timeout's arguments). */
  readonly describe: string;
}

/** Runs a command to completion or until the signal aborts; never rejects. */
export async function runExternal(run: ExternalRun, timeoutSeconds: number, signal: AbortSignal, outcome: Outcome, logAsPerl = false): Promise<CheckResult> {
  // Its own process group: at the timeout the command and whatever it started get
  // SIGTERM (SIGKILL 5 s later); the check does not wait for that.
  const child = runBounded(run.command, run.args, { signal, killGraceMs: 5000 });
  const settled = await Promise.race([child, untilAborted(signal)]);
  if (settled === 'aborted' || settled.end === 'aborted') {
    const line = logAsPerl
      ? undefined
      : `system_timeout(${timeoutSeconds}, ${run.describe}) timed out, kill -TERM child`;
    return outcome.down('-', {
      detail: `${run.describe}: timed out after ${timeoutSeconds} s, sent SIGTERM`,
      ...(line ? { log: [line] } : {}),
      skipMonitorfile: logAsPerl,
    });
  }
  const result = settled;
  if (result.end === 'exited' && result.exitCode === 0) {
    return outcome.up('-', { detail: `${run.describe}: exit 0`, skipMonitorfile: logAsPerl });
  }
  let why: string;
  if (result.end === 'spawn-error') why = `exec failed: ${result.error?.message ?? 'unknown error'}`;
  else if (result.exitCode !== null) why = `exit ${result.exitCode}`;
  else why = `killed by ${result.signal ?? 'a signal'}`;
  return outcome.down('-', { detail: `${run.describe}: ${why}`, skipMonitorfile: logAsPerl });
}

export const externalChecker: Checker = {
  name: 'external',
  timeoutSeconds: (virtual: VirtualService) => virtual.checktimeout,
  probe: (target: CheckTarget, signal: AbortSignal) => {
    const outcome = new Outcome();
    const args = externalArguments(target);
    const command = target.virtual.checkcommand;
    return runExternal(
      { command, args, describe: [command, ...args].join(' ') },
      target.virtual.checktimeout,
      signal,
      outcome,
    );
  },
};
