// The Debian package, proven on clean Debian 12 and 13 roots, not on the build machine:
// `scripts/build-deb.sh` builds it, lintian reviews it, and test/package/deb-scenario.sh
// runs the admin's path in each root (replace Debian's ldirectord, direct with the
// installed program as init, heartbeat and Pacemaker start it, remove, purge, reinstall
// the original). The roots come from the Debian mirror apt is configured with and are
// cached in ~/.cache/ldirectord-ts (scripts/deb-root.sh). Needs root, unshare, mmdebstrap,
// dpkg-dev and lintian (.ci/install.d/70-deb.sh); outside CI a missing tool skips it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SUITES = [
  { suite: 'bookworm', release: 'Debian 12' },
  { suite: 'trixie', release: 'Debian 13' },
] as const;

interface Run {
  code: number;
  out: string;
}

/** Runs a program to its end (bounded), collecting stdout and stderr together. */
function run(file: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { cwd: ROOT, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, out: `${stdout}${stderr}${err && code === -1 ? `\n${err.message}` : ''}` });
    });
  });
}

function have(cmd: string): boolean {
  return readdirSync('/usr/bin').includes(cmd) || readdirSync('/usr/sbin').includes(cmd);
}

const missing = [
  process.getuid?.() === 0 ? '' : 'root',
  ...['unshare', 'mmdebstrap', 'dpkg-deb', 'dpkg-shlibdeps', 'lintian', 'strip'].filter((c) => !have(c)),
].filter(Boolean);
const inCi = process.env.CI === 'true';

describe.runIf(inCi && missing.length > 0)('Debian package: prerequisites', () => {
  it('has root and the packaging tools (required in CI)', () => {
    expect.fail(`missing: ${missing.join(', ')} (.ci/install.d/70-deb.sh)`);
  });
});

describe.skipIf(missing.length > 0)('Debian package: npm run deb, on clean Debian 12 and 13', () => {
  const out = mkdtempSync(join(tmpdir(), 'ldirectord-ts-deb-'));
  let build: Run;
  let deb = '';
  let lintian: Promise<Run>;
  const scenarios = new Map<string, Promise<Run>>();

  beforeAll(async () => {
    // The roots download while the package builds (one is CPU-bound, the others network-bound).
    const roots = SUITES.map((s) => run('bash', ['scripts/deb-root.sh', s.suite], 8 * 60_000));
    build = await run('bash', ['scripts/build-deb.sh', '--out', out], 10 * 60_000);
    const debs = readdirSync(out).filter((f) => /^ldirectord-ts_.*\.deb$/.test(f));
    if (build.code === 0 && debs.length === 1) {
      deb = join(out, debs[0]!);
      lintian = run('lintian', ['--fail-on', 'error,warning,info', '--info', deb], 8 * 60_000);
    }
    const made = await Promise.all(roots);
    SUITES.forEach((s, i) => {
      const r = made[i]!;
      const root = r.out.trim().split('\n').pop() ?? '';
      scenarios.set(
        s.suite,
        r.code !== 0 || deb === ''
          ? Promise.resolve({ code: -1, out: `no root or no package:\n${r.out}\n${build.out}` })
          : run(
              'bash',
              [
                'test/package/deb-chroot.sh',
                root,
                'test/package/deb-scenario.sh',
                deb,
                'test/package/seed-ldirectord.cf',
                'test/support/fake-ipvsadm',
                'test/support/fake-ipvsadm.mjs',
                'test/support/fake-ipvsadm-daemons.mjs',
                'test/support/fake-ipvs-proc.mjs',
              ],
              8 * 60_000,
            ),
      );
    });
  }, 20 * 60_000);

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('builds ldirectord-ts_<version>_<arch>.deb with dpkg-deb', () => {
    expect(build.code, build.out).toBe(0);
    expect(deb).toMatch(/ldirectord-ts_\d+\.\d+\.\d+_[a-z0-9]+\.deb$/);
    console.log(`FIGURE package_kib ${Math.round(statSync(deb).size / 1024)}`);
  });

  it(
    'is lintian clean (the overrides are explained in the README)',
    async () => {
      const r = await lintian;
      const tags = r.out.split('\n').filter((l) => /^[EWIX]: /.test(l));
      expect(tags, r.out).toEqual([]);
      expect(r.code, r.out).toBe(0);
    },
    10 * 60_000,
  );

  for (const { suite, release } of SUITES) {
    it(
      `${release} (${suite}): replaces ldirectord, directs under init, heartbeat and Pacemaker, removes cleanly`,
      async () => {
        const r = await scenarios.get(suite)!;
        // The whole transcript when the scenario noted something to look into.
        const lines = /^note - /m.test(r.out) ? r.out.split('\n') : r.out.split('\n').filter((l) => /^(ok|not ok|FIGURE|==)/.test(l));
        console.log(`${suite}:\n${lines.join('\n')}`);
        expect(r.out, r.out).toMatch(/^PKGTEST PASSED$/m);
        expect(r.code, r.out).toBe(0);
      },
      10 * 60_000,
    );
  }
});
