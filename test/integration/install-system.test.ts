// scripts/install-system.sh, run into a staged DESTDIR (never the real /usr): the program
// with only its runtime packages, the /usr/sbin/ldirectord link with the Perl original
// moved aside once, the man page, the heartbeat link, the systemd unit and logrotate
// file, --prefix, dpkg diversions, and --uninstall putting everything back.
//
// Also the reason /usr/sbin/ldirectord is a symbolic link: a #! script run through a link
// keeps the link's path in its command line, so the OCF agent's
// `pgrep -f "/usr/sbin/ldirectord <cfg> start"` finds the daemon.
//
// Needs the build (npm test builds first); without dist/ the tests are skipped, except in
// CI (CI set), where that is a failure.

import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(PROJECT, 'scripts/install-system.sh');
const BUILT = existsSync(join(PROJECT, 'dist/lib/cli/main.js'));
const inCI = Boolean(process.env.CI);
const NODE = process.execPath;

const PERL_ORIGINAL = '#!/usr/bin/perl\n# stand-in for the original ldirectord\n';
const PERL_MANPAGE = gzipSync('.TH LDIRECTORD 8 "perl original"\n');

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the install script (or the installed copy of it) with DESTDIR. */
function install(destdir: string, args: string[] = [], script = SCRIPT): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, DESTDIR: destdir };
  delete env.PREFIX;
  const r = spawnSync('bash', [script, `--node=${NODE}`, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  const run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  if (r.status !== 0) throw new Error(`install-system.sh ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
  return run;
}

/** Every file and link under dir (relative paths), directories left out. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk('');
  return out.sort();
}

const isLink = (p: string): boolean => {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
};

/** Lockfile entries `node_modules/<name>` of dev-only packages. */
function devOnlyPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(PROJECT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && v.dev === true && !k.slice('node_modules/'.length).includes('node_modules/'))
    .map(([k]) => k);
}

/** The installed program runs (-v, -t), and every compiled module loads from the tree. */
function runsFromInstalledTree(lib: string): void {
  const launcher = join(lib, 'bin/ldirectord');
  // Outside the project, so the project's node_modules cannot stand in for missing ones.
  const cwd = mkdtempSync(join(tmpdir(), 'ldts-cwd-'));
  try {
    const v = spawnSync(launcher, ['-v'], { encoding: 'utf8', cwd });
    expect(v.status).toBe(0);
    expect(v.stdout.split('\n')[0]).toBe('Linux Director v1.186-ha');

    const cf = join(cwd, 'test.cf');
    writeFileSync(cf, `logfile="${join(cwd, 'ld.log')}"\nvirtual=10.0.0.1:80\n\treal=10.0.0.2:80 gate\n\tservice=http\n`);
    const t = spawnSync(launcher, ['-t', cf], { encoding: 'utf8', cwd });
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);

    const dist = join(lib, 'dist');
    const modules = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(10);
    const code = `for (const m of ${JSON.stringify(modules.map((m) => join(dist, m)))}) await import(m);`;
    const imp = spawnSync(NODE, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd, timeout: 60_000 });
    expect(imp.stderr).toBe('');
    expect(imp.status).toBe(0);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ldts-install-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function newDestdir(): string {
  const d = join(root, `dest-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function seedOriginal(d: string): void {
  mkdirSync(join(d, 'usr/sbin'), { recursive: true });
  writeFileSync(join(d, 'usr/sbin/ldirectord'), PERL_ORIGINAL, { mode: 0o755 });
  mkdirSync(join(d, 'usr/share/man/man8'), { recursive: true });
  writeFileSync(join(d, 'usr/share/man/man8/ldirectord.8.gz'), PERL_MANPAGE);
  mkdirSync(join(d, 'etc/ha.d/resource.d'), { recursive: true });
  symlinkSync('/usr/sbin/ldirectord', join(d, 'etc/ha.d/resource.d/ldirectord'));
}

const suite = BUILT || inCI ? describe : describe.skip;

suite('scripts/install-system.sh into a DESTDIR', () => {
  it('is built', () => {
    if (!BUILT) throw new Error('dist/ is missing: run npm run build (npm test does)');
  });

  it(
    'installs the program, the links, the man page, the unit and the logrotate file; backs up the original once',
    { timeout: 120_000 },
    () => {
      const d = newDestdir();
      seedOriginal(d);
      install(d);

      // /usr/sbin/ldirectord -> the installed launcher; the original moved aside.
      const lib = join(d, 'usr/lib/ldirectord-ts');
      expect(readlinkSync(join(d, 'usr/sbin/ldirectord'))).toBe('/usr/lib/ldirectord-ts/bin/ldirectord');
      expect(readFileSync(join(d, 'usr/sbin/ldirectord.perl'), 'utf8')).toBe(PERL_ORIGINAL);

      // The launcher names node by absolute path, through `env -S` with the variable it sets
      // and node's options, and is executable.
      const launcher = join(lib, 'bin/ldirectord');
      expect(readFileSync(launcher, 'utf8').split('\n')[0]).toBe(
        `#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 ${NODE} --max-semi-space-size=1 --v8-pool-size=1 --expose-gc`,
      );
      expect(statSync(launcher).mode & 0o111).toBe(0o111);
      // Run as agents run it, through the kernel's #! handling, which hands the interpreter
      // everything after its path as one argument: without `env -S`, node refuses to start.
      const run = spawnSync(launcher, ['--version'], { encoding: 'utf8', timeout: 30_000 });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^Linux Director /);
      for (const f of [
        'dist/lib/cli/main.js',
        'dist/lib/cli/main.cjs',
        'bin/package.json',
        'man/ldirectord.8',
        'system/ldirectord.service',
        'package.json',
        'scripts/install-system.sh',
      ]) {
        expect(existsSync(join(lib, f)), f).toBe(true);
      }

      // Runtime packages only.
      const pkg = JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(join(lib, 'node_modules', dep, 'package.json')), dep).toBe(true);
      const dev = devOnlyPackages();
      expect(dev.length).toBeGreaterThan(0);
      expect(dev.filter((p) => existsSync(join(lib, p)))).toEqual([]);

      // The man page, and the original's kept as ldirectord.perl.8.gz.
      const man8 = join(d, 'usr/share/man/man8');
      expect(gunzipSync(readFileSync(join(man8, 'ldirectord.8.gz'))).toString('utf8')).toBe(
        readFileSync(join(PROJECT, 'man/ldirectord.8'), 'utf8'),
      );
      expect(readFileSync(join(man8, 'ldirectord.perl.8.gz'))).toEqual(PERL_MANPAGE);

      // heartbeat v1 resource script.
      expect(readlinkSync(join(d, 'etc/ha.d/resource.d/ldirectord'))).toBe('/usr/sbin/ldirectord');

      // systemd unit and logrotate file.
      const unit = readFileSync(join(d, 'etc/systemd/system/ldirectord.service'), 'utf8');
      expect(unit).toMatch(/^Type=forking$/m);
      expect(unit).toMatch(/^PIDFile=\/run\/ldirectord\.ldirectord\.pid$/m);
      expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/ldirectord start$/m);
      expect(unit).toMatch(/^ExecStop=\/usr\/sbin\/ldirectord stop$/m);
      expect(unit).toMatch(/^ExecReload=\/usr\/sbin\/ldirectord reload$/m);
      expect(unit).toMatch(/^KillMode=none$/m);
      expect(unit).toMatch(/^Documentation=man:ldirectord\(8\)$/m);
      expect(readFileSync(join(d, 'etc/logrotate.d/ldirectord'), 'utf8')).toBe(
        readFileSync(join(PROJECT, 'system/ldirectord.logrotate'), 'utf8'),
      );

      // It runs from there, with nothing but its own node_modules.
      runsFromInstalledTree(lib);

      // The second run replaces the program but keeps the one backup.
      install(d);
      expect(readFileSync(join(d, 'usr/sbin/ldirectord.perl'), 'utf8')).toBe(PERL_ORIGINAL);
      expect(readdirSync(join(d, 'usr/sbin')).sort()).toEqual(['ldirectord', 'ldirectord.perl']);
      expect(readdirSync(man8).sort()).toEqual(['ldirectord.8.gz', 'ldirectord.perl.8.gz']);
      expect(readdirSync(join(d, 'usr/lib')).sort()).toEqual(['ldirectord-ts']);

      // --uninstall (run from the installed copy) puts the original back.
      install(d, ['--uninstall'], join(lib, 'scripts/install-system.sh'));
      expect(isLink(join(d, 'usr/sbin/ldirectord'))).toBe(false);
      expect(readFileSync(join(d, 'usr/sbin/ldirectord'), 'utf8')).toBe(PERL_ORIGINAL);
      expect(readFileSync(join(man8, 'ldirectord.8.gz'))).toEqual(PERL_MANPAGE);
      expect(listFiles(d)).toEqual(['etc/ha.d/resource.d/ldirectord', 'usr/sbin/ldirectord', 'usr/share/man/man8/ldirectord.8.gz']);
      expect(readlinkSync(join(d, 'etc/ha.d/resource.d/ldirectord'))).toBe('/usr/sbin/ldirectord');
    },
  );

  it(
    '--prefix=/usr/local: paths in links and the unit follow; a unit and a logrotate file it did not install are kept',
    { timeout: 120_000 },
    () => {
      const d = newDestdir();
      mkdirSync(join(d, 'etc/logrotate.d'), { recursive: true });
      writeFileSync(join(d, 'etc/logrotate.d/ldirectord'), '/var/log/ldirectord.log {\n    missingok\n}\n');
      const r = install(d, ['--prefix=/usr/local']);
      expect(readlinkSync(join(d, 'usr/local/sbin/ldirectord'))).toBe('/usr/local/lib/ldirectord-ts/bin/ldirectord');
      expect(existsSync(join(d, 'usr/local/share/man/man8/ldirectord.8.gz'))).toBe(true);
      expect(readlinkSync(join(d, 'etc/ha.d/resource.d/ldirectord'))).toBe('/usr/local/sbin/ldirectord');
      const unit = readFileSync(join(d, 'etc/systemd/system/ldirectord.service'), 'utf8');
      expect(unit).toMatch(/^ExecStart=\/usr\/local\/sbin\/ldirectord start$/m);
      expect(unit).not.toContain('/usr/sbin/ldirectord');
      expect(existsSync(join(d, 'usr/sbin'))).toBe(false);
      expect(r.stderr).toContain('kept the existing /etc/logrotate.d/ldirectord');
      expect(readFileSync(join(d, 'etc/logrotate.d/ldirectord'), 'utf8')).toBe('/var/log/ldirectord.log {\n    missingok\n}\n');

      // A foreign unit is kept too (and survives the uninstall).
      writeFileSync(join(d, 'etc/systemd/system/ldirectord.service'), '[Service]\nExecStart=/opt/mine\n');
      install(d, ['--prefix=/usr/local', '--uninstall']);
      expect(listFiles(d)).toEqual(['etc/logrotate.d/ldirectord', 'etc/systemd/system/ldirectord.service']);
    },
  );

  const DPKG_DIVERT = onPath('dpkg-divert');
  it.runIf(DPKG_DIVERT !== undefined)(
    'on a dpkg root: diverts the original (package upgrades then write to .perl) and undoes it',
    { timeout: 120_000 },
    () => {
      const d = newDestdir();
      for (const sub of ['var/lib/dpkg/info', 'var/lib/dpkg/updates']) mkdirSync(join(d, sub), { recursive: true });
      writeFileSync(join(d, 'var/lib/dpkg/status'), '');
      writeFileSync(join(d, 'var/lib/dpkg/diversions'), '');
      seedOriginal(d);
      const diversions = (): string => spawnSync(DPKG_DIVERT!, [`--root=${d}`, '--list'], { encoding: 'utf8' }).stdout;

      install(d);
      expect(diversions()).toContain('local diversion of /usr/sbin/ldirectord to /usr/sbin/ldirectord.perl');
      expect(diversions()).toContain('local diversion of /usr/share/man/man8/ldirectord.8.gz to /usr/share/man/man8/ldirectord.perl.8.gz');
      expect(readFileSync(join(d, 'usr/sbin/ldirectord.perl'), 'utf8')).toBe(PERL_ORIGINAL);
      expect(readlinkSync(join(d, 'usr/sbin/ldirectord'))).toBe('/usr/lib/ldirectord-ts/bin/ldirectord');

      install(d, ['--uninstall']);
      expect(diversions()).toBe('');
      expect(readFileSync(join(d, 'usr/sbin/ldirectord'), 'utf8')).toBe(PERL_ORIGINAL);
      expect(readFileSync(join(d, 'usr/share/man/man8/ldirectord.8.gz'))).toEqual(PERL_MANPAGE);
      expect(existsSync(join(d, 'usr/sbin/ldirectord.perl'))).toBe(false);
    },
  );
});

describe('a #! script run through a symbolic link (why /usr/sbin/ldirectord is one)', () => {
  const PGREP = onPath('pgrep');
  const shebangs = [`#!${NODE}`, '#!/usr/bin/env node'];

  it.each(shebangs)('%s: the command line keeps "<link> <cfg> start"', async (shebang) => {
    if (shebang.includes('env') && onPath('node') === undefined) return;
    const dir = mkdtempSync(join(tmpdir(), 'ldts-argv-'));
    try {
      const real = join(dir, 'lib/bin/ldirectord');
      mkdirSync(dirname(real), { recursive: true });
      writeFileSync(real, `${shebang}\nprocess.stdout.write(process.argv[1] + '\\n');\nsetTimeout(() => {}, 20000);\n`, { mode: 0o755 });
      const link = join(dir, 'sbin/ldirectord');
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(real, link);
      const cfg = join(dir, 'ldirectord.cf');

      const child = spawn(link, [cfg, 'start'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const argv1 = await new Promise<string>((res, rej) => {
          child.stdout.once('data', (b: Buffer) => res(b.toString().trim()));
          child.once('error', rej);
        });
        // Node keeps the link's path as the script path (so a re-exec keeps it too).
        expect(argv1).toBe(link);
        const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' ');
        expect(cmdline).toContain(`${link} ${cfg} start`);
        if (PGREP) {
          const p = spawnSync(PGREP, ['-f', `${link} ${cfg} start`], { encoding: 'utf8' });
          expect(p.stdout.split('\n')).toContain(String(child.pid));
        }
      } finally {
        child.kill('SIGTERM');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
