// Every external program the daemon runs besides ipvsadm (checktype=external, ping,
// fallbackcommand/callback, logger(1), sendmail) runs as its own process group: at its
// deadline the program and whatever it started are killed, and a descendant holding its
// pipes does not hold the daemon up. The programs here are wrappers that start a sleeper.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { externalChecker } from '../../checks/external.js';
import { createPingChecker } from '../../checks/ping.js';
import { runFallbackCommand } from '../../lib/daemon/run-fallback-command.js';
import { SyslogSender } from '../../lib/log/syslog.js';
import { EmailAlerter } from '../../lib/daemon/alerts.js';
import type { EmailSettings } from '../../lib/config/model.js';
import { runBounded } from '../../lib/proc/run-bounded.js';
import { makeTarget } from '../checks/web-fixtures.js';
import { alive, killAll } from './support/ipvsadm-faults.js';

const dir = mkdtempSync(join(tmpdir(), 'process-groups-'));
const started: number[] = [];
const pidLists: (() => number[])[] = [];
afterAll(() => {
  for (const l of pidLists) l();
  killAll(started);
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A program that starts a sleeper (inheriting stdout and stderr), notes its pid, then waits for it. */
function wrapper(name: string, before = ''): { file: string; pids: () => number[] } {
  const file = join(dir, name);
  const pidFile = join(dir, `${name}.pids`);
  writeFileSync(file, `#!/bin/sh\n${before}sleep 3600 &\necho $! >>${pidFile}\necho $$ >>${pidFile}\nwait\n`);
  chmodSync(file, 0o755);
  const pids = (): number[] => {
    const p = existsSync(pidFile)
      ? readFileSync(pidFile, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map(Number)
      : [];
    started.push(...p);
    return p;
  };
  pidLists.push(pids);
  return { file, pids };
}

async function allGone(pids: () => number[], ms = 10_000): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids().filter(alive);
  while (left.length > 0 && Date.now() < until) {
    await sleep(100);
    left = pids().filter(alive);
  }
  return left;
}

describe('external programs are bounded as process groups', () => {
  it('checktype=external: at checktimeout the command and what it started are killed', async () => {
    const w = wrapper('check.sh');
    const target = makeTarget(
      { checktype: { kind: 'external' }, checkcommand: w.file, checktimeout: 1, ip: '127.0.134.1', port: 80 },
      { ip: '127.0.134.2', port: 80 },
    );
    const r = await externalChecker.probe(target, AbortSignal.timeout(1000));
    expect(r.ok).toBe(false);
    expect(w.pids()).toHaveLength(2);
    expect(await allGone(w.pids)).toEqual([]);
  }, 20_000);

  it('ping: an attempt cut short by the timeout takes what it started with it', async () => {
    const w = wrapper('ping.sh');
    const checker = createPingChecker({ command: w.file });
    const target = makeTarget(
      { checktype: { kind: 'ping' }, checktimeout: 1, checkcount: 1, ip: '127.0.134.1', port: 80 },
      { ip: '127.0.134.2', port: 80 },
    );
    const r = await checker.probe(target, AbortSignal.timeout(1000));
    expect(r.ok).toBe(false);
    expect(w.pids()).toHaveLength(2);
    expect(await allGone(w.pids)).toEqual([]);
  }, 20_000);

  it('fallbackcommand/callback: killed whole at the timeout, the failure logged although a sleeper held stderr', async () => {
    const w = wrapper('fallback.sh');
    const lines: string[] = [];
    runFallbackCommand(w.file, ['start', '127.0.134.1:80', 'tcp'], (m) => lines.push(m), 1000);
    const until = Date.now() + 15_000;
    while (lines.length === 0 && Date.now() < until) await sleep(100);
    expect(lines).toEqual([`system(${w.file} start 127.0.134.1:80 tcp) failed: did not finish within 1000 ms (process group killed)`]);
    expect(await allGone(w.pids)).toEqual([]);
  }, 20_000);

  it('fallbackcommand that starts a service and exits: not waited for, the service left running', async () => {
    const file = join(dir, 'starts-service.sh');
    const pidFile = join(dir, 'service.pid');
    writeFileSync(file, `#!/bin/sh\nsleep 3600 &\necho $! >${pidFile}\nexit 0\n`);
    chmodSync(file, 0o755);
    const lines: string[] = [];
    runFallbackCommand(file, ['start'], (m) => lines.push(m), 60_000);
    const until = Date.now() + 5000;
    while (!existsSync(pidFile) && Date.now() < until) await sleep(50);
    await sleep(2500); // past the pipes' grace
    const pid = Number(readFileSync(pidFile, 'utf8'));
    started.push(pid);
    expect(lines).toEqual([]);
    expect(alive(pid)).toBe(true);
  }, 20_000);

  it('logger(1): a batch that hangs fails at its deadline and its process group goes', async () => {
    const w = wrapper('logger.sh', 'cat >/dev/null\n');
    const failures: string[] = [];
    const s = new SyslogSender({
      facility: { name: 'daemon', code: 3 },
      pid: 1,
      loggerCommand: w.file,
      onFailure: (_m, why) => failures.push(why),
      batchTimeoutMs: 1000,
    });
    s.send('hello');
    const flushed = await Promise.race([s.flush().then(() => 'flushed'), sleep(15_000).then(() => 'still waiting')]);
    expect(flushed).toBe('flushed');
    expect(failures).toEqual(['logger timed out']);
    expect(await allGone(w.pids)).toEqual([]);
  }, 20_000);

  it('sendmail: a hung one is killed with what it started at the alert deadline', async () => {
    const w = wrapper('sendmail.sh', 'cat >/dev/null\n');
    const logs: string[] = [];
    const alerter = new EmailAlerter({
      log: (m) => logs.push(m),
      status: () => 'running',
      sendmailPaths: [w.file],
      timeouts: { totalMs: 1000 },
    });
    const email: EmailSettings = {
      emailalert: ['root@localhost'],
      emailalertRaw: 'root@localhost',
      emailalertfreq: 0,
      emailalertstatus: new Set(['running']),
    };
    alerter.alert({
      subject: 'Deleted real server: 127.0.134.2:80 (127.0.134.1:80)',
      virtual: { name: '127.0.134.1:80', email },
      real: '127.0.134.2:80',
      remind: false,
    });
    await Promise.race([alerter.idle(), sleep(15_000)]);
    expect(logs.at(-1)).toMatch(/failed to send email/);
    expect(w.pids()).toHaveLength(2);
    expect(await allGone(w.pids)).toEqual([]);
  }, 20_000);

  it('runBounded: output beyond the limit kills the group; no shell', async () => {
    const r = await runBounded('/bin/sh', ['-c', 'head -c 1000000 /dev/zero; sleep 3600'], {
      stdout: 'collect',
      maxOutputBytes: 1000,
      timeoutMs: 10_000,
    });
    expect(r.end).toBe('overflow');
    expect(r.durationMs).toBeLessThan(8000);
    const noShell = await runBounded('/bin/echo', ['$HOME; `id`'], { stdout: 'collect' });
    expect(Buffer.concat(noShell.stdout as Buffer[]).toString()).toBe('$HOME; `id`\n');
  }, 20_000);
});
