// Pid files as the original keeps them: /var/run/ldirectord.<CFGNAME>.pid, the
// pid and a newline, "running" when /proc/<pid>/cmdline mentions ldirectord.
import { readFileSync, rmSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';

/** LDIRECTORD_PIDDIR moves pid files for tests; the default is the original's. */
export function pidFilePath(cfgName: string, dir = process.env.LDIRECTORD_PIDDIR ?? '/var/run'): string {
  return `${dir}/ldirectord.${cfgName}.pid`;
}

/**
 * The daemon's control socket (ldirectord-ts), beside its pid file and named
 * like it, so that each instance has its own and the same tests move both.
 */
export function controlSocketPath(cfgName: string, dir = process.env.LDIRECTORD_PIDDIR ?? '/var/run'): string {
  return `${dir}/ldirectord.${cfgName}.sock`;
}

export type PidState = { kind: 'none' } | { kind: 'stale'; pid: string } | { kind: 'running'; pid: number };

export function readPidState(path: string): PidState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { kind: 'none' };
  }
  const pid = text.split('\n')[0]!.trim();
  if (/^\d+$/.test(pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('ldirectord')) return { kind: 'running', pid: Number(pid) };
    } catch {
      // gone: stale
    }
  }
  return { kind: 'stale', pid };
}

/** Written atomically so a concurrent `status` never reads a half-written file. */
export function writePidFile(path: string, pid = process.pid): void {
  const tmp = `${path}.${pid}.tmp`;
  try {
    writeFileSync(tmp, `${pid}\n`);
    renameSync(tmp, path);
  } catch (err) {
    // A full or failing pid dir must not keep the half-written file.
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Removes the pid file only if it still names this process (fix of §10). */
export function removeOwnPidFile(path: string, pid = process.pid): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(pid)) unlinkSync(path);
  } catch {
    // already gone
  }
}
