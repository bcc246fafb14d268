// execute= instances: `ldirectord <child> start|stop|reload` run as child processes
// without blocking the event loop (the checks keep their timers while a child's
// start or stop takes its time), one at a time, each bounded: at the time limit
// the child's whole process group is killed (runBounded). The daemon a child `start`
// launches has a session of its own, so it is not part of that group.
import { describeEnd, runBounded } from '../proc/run-bounded.js';

/** `ldirectord <child> stop` itself waits up to 60 s for its daemon: leave it that and more. */
export const CHILD_COMMAND_TIMEOUT_MS = 120_000;

export type ChildOutcome = { ok: true } | { ok: false; why: string };

export async function runChildCommand(
  self: readonly string[],
  name: string,
  cmd: string,
  timeoutMs = CHILD_COMMAND_TIMEOUT_MS,
): Promise<ChildOutcome> {
  const r = await runBounded(self[0]!, [...self.slice(1), name, cmd], { timeoutMs });
  return r.end === 'exited' && r.exitCode === 0 ? { ok: true } : { ok: false, why: describeEnd(r, timeoutMs) };
}

/** Runs `cmd` for each child in turn; each failure is logged as the original logs a failed system(). */
export async function runChildren(self: readonly string[], names: readonly string[], cmd: string, log: (m: string) => void): Promise<void> {
  for (const name of names) {
    const r = await runChildCommand(self, name, cmd);
    if (!r.ok) log(`system(ldirectord ${name} ${cmd}) failed: ${r.why}`);
  }
}
