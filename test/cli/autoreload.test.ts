// autoreload=yes with an editor that replaces the file by rename, callback= with
// the resolved path, SIGUSR1's status dump, and execute= child instances: all
// through a detached daemon, with real HTTP servers as the real servers.
import http from 'node:http';
import { chmodSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, FAKE_IPVSADM, sandbox } from './ns.js';

const REAL = '127.0.42.2';
const PORT = 8083;
const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
const sb = sandbox();
const cfg = join(sb.dir, 'auto.cf');
const child = join(sb.dir, 'child.cf');
const logfile = join(sb.dir, 'ldirectord.log');
const callbackOut = join(sb.dir, 'callback.out');
let server: http.Server;

const config = (weight: number, extra = '') => `checktimeout=2
checkinterval=1
autoreload=yes
callback="${join(sb.dir, 'callback.sh')}"
logfile="${logfile}"
${extra}virtual=192.0.2.50:80
    real=${REAL}:${PORT} masq ${weight}
    receive="OK"
`;

const log = () => (existsSync(logfile) ? readFileSync(logfile, 'utf8') : '');
async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out; log:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
function weights(): string[] {
  const out = execaSync(FAKE_IPVSADM, ['-S', '-n'], { env: { FAKE_IPVSADM_STATE: sb.state } });
  return String(out.stdout)
    .split('\n')
    .filter((l) => l.startsWith('-a'));
}

beforeAll(async () => {
  server = http.createServer((_q, res) => res.end('OK\n'));
  await new Promise<void>((r, j) => server.once('error', j).listen(PORT, REAL, r));
  writeFileSync(join(sb.dir, 'callback.sh'), `#!/bin/sh\necho "$@" >> ${callbackOut}\n`);
  chmodSync(join(sb.dir, 'callback.sh'), 0o755);
});
afterAll(async () => {
  for (const f of readdirSync(sb.piddir)) {
    try {
      process.kill(Number(readFileSync(join(sb.piddir, f), 'utf8')), 'SIGKILL');
    } catch {
      // gone
    }
  }
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(sb.dir, { recursive: true, force: true });
});

it.skipIf(!canUnshare)(
  'reloads on an edit by rename, runs the callback, dumps status on USR1, runs execute= children',
  async () => {
    writeFileSync(
      child,
      `logfile="${join(sb.dir, 'child.log')}"\nvirtual=192.0.2.51:80\n    real=${REAL}:${PORT} masq\n    receive="OK"\n`,
    );
    writeFileSync(cfg, config(1, `execute=${child}\n`));
    const r = await sb.run(['node', BIN, cfg, 'start']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    await until(() => weights().includes(`-a -t 192.0.2.50:80 -r ${REAL}:${PORT} -m -w 1`));
    // execute=: the child instance for child.cf runs with its own pid file and virtual.
    await until(() => existsSync(join(sb.piddir, 'ldirectord.child.cf.pid')));
    await until(() => weights().includes(`-a -t 192.0.2.51:80 -r ${REAL}:${PORT} -m -w 1`));

    // An editor's save: write a new file, rename it over the old one.
    writeFileSync(`${cfg}.swp`, config(4, `execute=${child}\n`));
    renameSync(`${cfg}.swp`, cfg);
    await until(() => weights().includes(`-a -t 192.0.2.50:80 -r ${REAL}:${PORT} -m -w 4`));
    expect(log()).toContain(`Configuration file '${cfg}' has changed on disk`);
    expect(log()).toContain(' - reread new configuration');
    await until(() => existsSync(callbackOut));
    expect(readFileSync(callbackOut, 'utf8').trim()).toBe(cfg);

    const pid = Number(readFileSync(join(sb.piddir, 'ldirectord.auto.cf.pid'), 'utf8'));
    process.kill(pid, 'SIGUSR1');
    await until(() => log().includes(`real ${REAL}:${PORT} up`));
    process.kill(pid, 'SIGUSR2');
    await new Promise((res) => setTimeout(res, 300));
    expect(() => process.kill(pid, 0)).not.toThrow();

    // Dropping the execute= line stops the child on the next reload.
    writeFileSync(cfg, config(4));
    await until(() => !existsSync(join(sb.piddir, 'ldirectord.child.cf.pid')));
    const stop = await sb.run(['node', BIN, cfg, 'stop']);
    expect(stop.exitCode).toBe(0);
  },
  120_000,
);
