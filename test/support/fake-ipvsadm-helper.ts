// Test helper: a fresh fake-ipvsadm table in a temp dir, and runners for it: through the
// executable (execa, one process per run, as in production) or in-process (fast).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import { createIpvsadmRunner, type IpvsadmRunner, type RunnerOptions } from '../../lib/ipvs/ipvsadm-runner.js';
import { runFakeIpvsadm } from './fake-ipvsadm.mjs';

export const FAKE_IPVSADM = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fake-ipvsadm');

export interface FakeIpvsadm {
  readonly dir: string;
  readonly statePath: string;
  readonly logPath: string;
  /** The table as /proc/net/ip_vs shows it (written by every run that changes it). */
  readonly procPath: string;
  readonly env: Record<string, string>;
  /** A runner on the fake program (through execa, as in production). */
  runner(extraEnv?: Record<string, string>, o?: RunnerOptions): IpvsadmRunner;
  /** A runner that calls the fake in this process: same answers, no process start. */
  inProcess(extraEnv?: Record<string, string>): IpvsadmRunner;
  /** Runs the fake (to set up a table by hand); throws on a non-zero exit. */
  sh(...args: string[]): string;
  /** The argument lists of every run so far (and their stdin). */
  calls(): Array<{ args: string[]; stdin?: string }>;
  cleanup(): void;
}

export function fakeIpvsadm(): FakeIpvsadm {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-ipvsadm-'));
  const env = {
    FAKE_IPVSADM_STATE: path.join(dir, 'state.json'),
    FAKE_IPVSADM_LOG: path.join(dir, 'calls.jsonl'),
    FAKE_IPVSADM_PROC: path.join(dir, 'ip_vs'),
  };
  return {
    dir,
    statePath: env.FAKE_IPVSADM_STATE,
    logPath: env.FAKE_IPVSADM_LOG,
    procPath: env.FAKE_IPVSADM_PROC,
    env,
    runner: (extraEnv = {}, o = {}) => createIpvsadmRunner(FAKE_IPVSADM, { ...o, env: { ...env, ...extraEnv } }),
    inProcess: (extraEnv = {}) => ({
      path: FAKE_IPVSADM,
      run: async (args, input) => runFakeIpvsadm({ args, env: { ...env, ...extraEnv }, stdin: input ?? '' }),
    }),
    sh: (...args) => {
      const r = runFakeIpvsadm({ args, env });
      if (r.exitCode !== 0) throw new IpvsadmError('failed', r.stderr.trim(), { args, exitCode: r.exitCode, stderr: r.stderr });
      return r.stdout;
    },
    calls: () => {
      try {
        return readFileSync(env.FAKE_IPVSADM_LOG, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
