// Driving test/faults/support/ipvsadm-faults (the fake ipvsadm with faults injected) from
// a test: a control file flipped at run time, the pids of the processes it left running,
// and a log of its runs.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FAULTY_IPVSADM = new URL('./ipvsadm-faults', import.meta.url).pathname;

export interface FaultControl {
  /** Environment for ipvsadm-faults (and for a daemon that runs it). */
  readonly env: Record<string, string>;
  /** A launcher to bind over /usr/sbin/ipvsadm (the sandbox's SANDBOX_IPVSADM). */
  readonly launcher: string;
  /** The fault for the next runs, e.g. `ok`, `fail delete`, `leave-child all hang`. */
  set(mode: string): void;
  /** Pids of the sleepers and hung runs it started so far. */
  pids(): number[];
  /** One line per run: its class and the fault applied. */
  runs(): string[];
}

export function faultControl(dir: string, stateFile: string): FaultControl {
  const control = join(dir, 'ipvsadm-faults.mode');
  const pidsFile = join(dir, 'ipvsadm-faults.pids');
  const logFile = join(dir, 'ipvsadm-faults.log');
  writeFileSync(control, 'ok\n');
  const launcher = join(dir, 'ipvsadm-faulty');
  writeFileSync(launcher, `#!/bin/sh\nexec ${JSON.stringify(FAULTY_IPVSADM)} "$@"\n`);
  chmodSync(launcher, 0o755);
  const lines = (f: string): string[] =>
    existsSync(f)
      ? readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
      : [];
  return {
    env: { FAKE_IPVSADM_STATE: stateFile, IPVSADM_FAULTS_CONTROL: control, IPVSADM_FAULTS_PIDS: pidsFile, IPVSADM_FAULTS_LOG: logFile },
    launcher,
    set: (mode) => writeFileSync(control, `${mode}\n`),
    pids: () => lines(pidsFile).map(Number),
    runs: () => lines(logFile),
  };
}

/** Whether a process exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Kills what a failed test left running (by pid). */
export function killAll(pids: readonly number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
