// Runs a command with the test's fake ipvsadm mounted over /usr/sbin/ipvsadm
// (and, optionally, a directory over /etc/ha.d), in a private mount namespace:
// the product code runs unchanged, finding "its" ipvsadm where the original
// looks, and this machine's files are not touched. Pid files go to a test dir.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROJECT = new URL('../../', import.meta.url).pathname;
export const BIN = join(PROJECT, 'bin/ldirectord');
export const FAKE_IPVSADM = join(PROJECT, 'test/support/fake-ipvsadm');

export interface Sandbox {
  readonly dir: string;
  readonly piddir: string;
  readonly state: string;
  readonly hadir: string;
  readonly env: Record<string, string>;
  /** Runs argv inside a fresh private mount namespace with the mounts in place. */
  run(
    argv: readonly string[],
    opts?: { timeout?: number; env?: Record<string, string> },
  ): ResultPromise<{ reject: false; cwd: string; timeout: number; env: Record<string, string>; stdin: 'ignore' }>;
}

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'ldirectord-cli-'));
  const piddir = mkdtempSync(join(dir, 'run-'));
  const hadir = mkdtempSync(join(dir, 'ha.d-'));
  const state = join(dir, 'ipvs.json');
  const wrapper = join(dir, 'in-namespace.sh');
  writeFileSync(
    wrapper,
    `#!/bin/sh
set -e
mount --bind "$SANDBOX_IPVSADM" /usr/sbin/ipvsadm
mount --bind "$SANDBOX_HADIR" /etc/ha.d 2>/dev/null || { mkdir -p /etc/ha.d && mount --bind "$SANDBOX_HADIR" /etc/ha.d; }
exec "$@"
`,
  );
  chmodSync(wrapper, 0o755);
  // The fake imports its module by a relative path: bind a launcher, not the fake itself.
  const ipvsadm = join(dir, 'ipvsadm');
  writeFileSync(ipvsadm, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"\n`);
  chmodSync(ipvsadm, 0o755);
  const env = {
    FAKE_IPVSADM_STATE: state,
    // The fake's table as /proc/net/ip_vs shows it, which the daemon's drift check reads
    // (test-only variable): never this machine's own IPVS table.
    FAKE_IPVSADM_PROC: join(dir, 'ip_vs'),
    LDIRECTORD_TEST_IPVS_PROC: join(dir, 'ip_vs'),
    LDIRECTORD_PIDDIR: piddir,
    SANDBOX_IPVSADM: ipvsadm,
    SANDBOX_HADIR: hadir,
    LC_ALL: 'C',
  };
  return {
    dir,
    piddir,
    state,
    hadir,
    env,
    run(argv, opts = {}) {
      return execa('unshare', ['-m', '--propagation', 'private', wrapper, ...argv], {
        reject: false,
        cwd: dir,
        timeout: opts.timeout ?? 60_000,
        env: { ...env, ...opts.env },
        stdin: 'ignore',
      });
    },
  };
}
