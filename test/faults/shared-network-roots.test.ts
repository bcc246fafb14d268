// Two roots on one host network, each with its own /run at the same path (chroots
// such as the package test's Debian 12 and 13 roots, or containers on the host's
// network): the same configuration name gives the same pid-file path in both. The
// instance lock is an abstract unix socket, and abstract names belong to the network
// namespace the roots share, so it must be told apart by the pid file's directory
// itself, or one root's `start` follows the other root's daemon ("already running",
// nothing started here) and its `stop` signals the other root's daemon.
//
// Each root here is a private mount namespace per command in which the root's own
// directory is bound over one common pid directory path; the real CLI runs in it, with
// the fake ipvsadm mounted over /usr/sbin/ipvsadm (as test/cli/ns.ts does).
import http from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FAKE_IPVSADM } from '../cli/ns.js';

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
const OCF_AGENT = '/usr/lib/ocf/resource.d/heartbeat/ldirectord';
const haveOcf = existsSync('/usr/sbin/ocf-tester') && existsSync(OCF_AGENT);
const REALS = ['127.0.138.2', '127.0.138.3'];
const PORT = 8138;

const base = mkdtempSync(join(tmpdir(), 'ldirectord-roots-'));
/** The path at which every root sees its own pid directory. */
const COMMON_RUN = join(base, 'run');
mkdirSync(COMMON_RUN);

interface Root {
  readonly name: string;
  readonly dir: string;
  readonly run: string;
  readonly cfg: string;
  readonly log: string;
  cli(command: string): Promise<{ exitCode: number | undefined; out: string }>;
  /** Debian's ocf-tester on the unchanged OCF agent, with this root's configuration. */
  ocfTester(): Promise<{ exitCode: number | undefined; out: string }>;
}

function root(name: string, vip: string): Root {
  const dir = join(base, name);
  const run = join(dir, 'run');
  mkdirSync(run, { recursive: true });
  const log = join(dir, 'daemon.log');
  // Same file name in both roots: the same pid-file path.
  const cfg = join(dir, 'shared.cf');
  writeFileSync(
    cfg,
    `checktimeout=2
checkinterval=1
quiescent=no
logfile="${log}"
virtual=${vip}:80
    real=${REALS[0]}:${PORT} masq 1
    real=${REALS[1]}:${PORT} masq 1
    service=http
    request="/"
    receive="OK"
`,
  );
  const ipvsadm = join(dir, 'ipvsadm');
  writeFileSync(ipvsadm, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"\n`);
  chmodSync(ipvsadm, 0o755);
  const wrapper = join(dir, 'in-root.sh');
  writeFileSync(
    wrapper,
    `#!/bin/sh
set -e
mount --bind "$ROOT_RUN" "$COMMON_RUN"
mount --bind "$ROOT_IPVSADM" /usr/sbin/ipvsadm
exec "$@"
`,
  );
  chmodSync(wrapper, 0o755);
  const env = {
    ROOT_RUN: run,
    COMMON_RUN,
    ROOT_IPVSADM: ipvsadm,
    LDIRECTORD_PIDDIR: COMMON_RUN,
    FAKE_IPVSADM_STATE: join(dir, 'ipvs.json'),
    LDIRECTORD_STOP_TIMEOUT: '20',
    LC_ALL: 'C',
  };
  const inRoot = async (argv: readonly string[], what: string) => {
    const r = await execa('unshare', ['-m', '--propagation', 'private', wrapper, ...argv], {
      reject: false,
      cwd: dir,
      timeout: 50_000,
      env,
      stdin: 'ignore',
    });
    return { exitCode: r.exitCode, out: `${what} in ${name}: exit ${r.exitCode}\n${r.stdout}\n${r.stderr}` };
  };
  return {
    name,
    dir,
    run,
    cfg,
    log,
    cli: (command) => inRoot([BIN, cfg, command], command),
    ocfTester: () => inRoot(['ocf-tester', '-n', 'lvs', '-o', `configfile=${cfg}`, '-o', `ldirectord=${BIN}`, OCF_AGENT], 'ocf-tester'),
  };
}

/** The daemons of this root's configuration, by their command line (as the OCF agent finds them). */
async function daemons(r: Root): Promise<number[]> {
  const p = await execa('pgrep', ['-f', `${r.cfg} start$`], { reject: false });
  return String(p.stdout).split('\n').filter(Boolean).map(Number);
}

const servers: http.Server[] = [];
const roots: Root[] = [];

beforeAll(async () => {
  for (const ip of REALS) {
    const s = http.createServer((_q, res) => res.end('OK\n'));
    await new Promise<void>((ok, fail) => s.once('error', fail).listen(PORT, ip, ok));
    servers.push(s);
  }
});

afterAll(async () => {
  // Whatever a failed run left is killed: daemons must not outlive the test.
  for (const r of roots) {
    for (const pid of await daemons(r)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
  rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!canUnshare)('two roots on one network, one pid-file path', () => {
  it("each root starts, sees and stops its own daemon, and never the other's", async () => {
    const a = root('root-a', '192.0.2.41');
    const b = root('root-b', '192.0.2.42');
    roots.push(a, b);
    const step = async (r: Root, command: string, code: number): Promise<void> => {
      const res = await r.cli(command);
      const log = existsSync(r.log) ? readFileSync(r.log, 'utf8').split('\n').slice(-15).join('\n') : '';
      expect(res.exitCode, `${res.out}\n-- ${r.name} log:\n${log}`).toBe(code);
    };

    await step(a, 'start', 0);
    await step(a, 'status', 0);
    expect(await daemons(a)).toHaveLength(1);

    // b's own start: a daemon of b's, not "already running" for a's.
    await step(b, 'start', 0);
    await step(b, 'status', 0);
    expect(await daemons(b)).toHaveLength(1);
    expect(readdirSync(b.run)).toContain('ldirectord.shared.cf.pid');

    // b's stop ends b's daemon and leaves a's alone.
    const aPid = (await daemons(a))[0]!;
    await step(b, 'stop', 0);
    expect(await daemons(b)).toEqual([]);
    await step(b, 'status', 3);
    expect(await daemons(a)).toEqual([aPid]);
    await step(a, 'status', 0);

    // A start racing a stop in the other root is not held up by it, and the other way round.
    await Promise.all([step(b, 'start', 0), step(a, 'stop', 0)]);
    expect(await daemons(a)).toEqual([]);
    expect(await daemons(b)).toHaveLength(1);
    await step(b, 'stop', 0);
    await step(b, 'stop', 0);
    expect(await daemons(b)).toEqual([]);
    await step(a, 'status', 3);
    await step(b, 'status', 3);
  }, 60_000);

  // As the package test runs its Debian 12 and 13 roots: ocf-tester in both at once.
  it.skipIf(!haveOcf)(
    'ocf-tester passes in both roots at once, and leaves no daemon in either',
    async () => {
      const a = root('ocf-a', '192.0.2.43');
      const b = root('ocf-b', '192.0.2.44');
      roots.push(a, b);
      const results = await Promise.all([a.ocfTester(), b.ocfTester()]);
      for (const r of results) {
        expect(r.exitCode, r.out).toBe(0);
        expect(r.out).toMatch(/passed all tests/);
      }
      expect(await daemons(a)).toEqual([]);
      expect(await daemons(b)).toEqual([]);
    },
    60_000,
  );
});
