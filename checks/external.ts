// checktype=external: run checkcommand with exactly four arguments — virtual IP (or
// fwmark), virtual port (0 for fwmark), real IP, real port (the configured one, not
// checkport); IPv6 addresses keep their brackets. No shell. Exit 0 is up; anything else,
// including a failure to start it, is down. When the signal aborts (checktimeout) the
// child's process group gets SIGTERM, the check ends at once as down, and the original's
// log line is returned in `log`. stdio is not read, so a chatty command costs no memory.
import { runBounded } from '../lib/proc/run-bounded.js';
import { orAborted } from './io/deadline.js';
import { Outcome } from './outcome.js';
import { CHECKTIMEOUT, defineChecker, type CheckResult, type CheckTarget } from './types.js';

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
  /** The check's timeout, which the original's log line names; the signal enforces it. */
  readonly timeoutSeconds: number;
}

/** Runs a command to completion or until the signal aborts; never rejects. */
export async function runExternal(run: ExternalRun, signal: AbortSignal, logAsPerl = false): Promise<CheckResult> {
  const outcome = new Outcome();
  // Its own process group: at the timeout the command and whatever it started get
  // SIGTERM (SIGKILL 5 s later); the check does not wait for that.
  const child = runBounded(run.command, run.args, { signal, killGraceMs: 5000 });
  const settled = await orAborted(child, signal);
  if (settled === 'aborted' || settled.end === 'aborted') {
    const line = logAsPerl ? undefined : `system_timeout(${run.timeoutSeconds}, ${run.describe}) timed out, kill -TERM child`;
    return outcome.down('-', {
      detail: `${run.describe}: timed out after ${run.timeoutSeconds} s, sent SIGTERM`,
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

export const externalChecker = defineChecker({
  name: 'external',
  timeout: CHECKTIMEOUT,
  options: (target, timeoutSeconds) => ({ command: target.virtual.checkcommand, args: externalArguments(target), timeoutSeconds }),
  probe: (_endpoint, { command, args, timeoutSeconds }, signal) =>
    runExternal({ command, args, describe: [command, ...args].join(' '), timeoutSeconds }, signal),
});
