import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ctime } from '../../lib/log/ctime.js';
import { Logger, formatFileLine, logTarget } from '../../lib/log/log.js';
import { syslogFacility } from '../../lib/log/facilities.js';
import { infoPri } from '../../lib/log/syslog.js';
import { startDgramSink, type DgramSink } from '../daemon/helpers/dgram-sink.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ldts-log-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sink(): { write(s: string): boolean; text: () => string; chunks: string[] } {
  const chunks: string[] = [];
  return { write: (s: string) => (chunks.push(s), true), text: () => chunks.join(''), chunks };
}

// 2026-11-05 09:03:07 and 2026-11-24 19:19:19 local time.
const NOV5 = new Date(2026, 10, 5, 9, 3, 7);
const NOV24 = new Date(2026, 10, 24, 19, 19, 19);

describe('ctime', () => {
  it('is Perl scalar localtime, day padded with a space', () => {
    expect(ctime(NOV5)).toBe('Thu Nov  5 09:03:07 2026');
    expect(ctime(NOV24)).toBe('Tue Nov 24 19:19:19 2026');
  });

  it('matches perl for the same instants in the same time zone', () => {
    const instants = [0, 1_700_000_000, Math.floor(NOV5.getTime() / 1000), 1_772_323_200, 1_782_900_000];
    const perl = execFileSync('perl', ['-e', 'print scalar(localtime($_)), "\\n" for @ARGV', ...instants.map(String)], {
      encoding: 'utf8',
    });
    expect(instants.map((s) => ctime(new Date(s * 1000))).join('\n') + '\n').toBe(perl);
  });
});

describe('destination', () => {
  it('first matching rule wins', () => {
    expect(logTarget({ debug: true, supervised: true, logfile: '/x' })).toEqual({ kind: 'debug' });
    expect(logTarget({ debug: false, supervised: true, logfile: '/x' })).toEqual({ kind: 'supervised' });
    expect(logTarget({ debug: false, supervised: false, logfile: '/var/log/x' })).toEqual({ kind: 'file', path: '/var/log/x' });
    expect(logTarget({ debug: false, supervised: false, logfile: 'local3' })).toEqual({
      kind: 'syslog',
      facility: { name: 'local3', code: 19 },
    });
  });

  it('unknown facility names (a relative path) are daemon', () => {
    expect(syslogFacility('var/log/ldirectord.log')).toEqual({ name: 'daemon', code: 3 });
    expect(infoPri(syslogFacility('var/log/ldirectord.log'))).toBe(30);
    expect(infoPri(syslogFacility('local0'))).toBe(134);
    expect(infoPri(syslogFacility('kern'))).toBe(6);
  });
});

describe('-d and supervised', () => {
  it('-d: DEBUG2 copy, then the bare message, on stderr', () => {
    const out = sink();
    const err = sink();
    const log = new Logger({ debug: true, supervised: true, logfile: '/nonexistent/x', cfgname: 'ldirectord', stdout: out, stderr: err });
    log.log('Added real server: 127.0.0.2:80 (10.0.0.1:80) (Weight set to 1)\n');
    log.debug(3, 'level three');
    log.debug(4, 'never');
    expect(err.text()).toBe(
      'DEBUG2: Added real server: 127.0.0.2:80 (10.0.0.1:80) (Weight set to 1)\n' +
        'Added real server: 127.0.0.2:80 (10.0.0.1:80) (Weight set to 1)\n' +
        'DEBUG3: level three\n',
    );
    expect(out.text()).toBe('');
    expect(log.debugLevel).toBe(3);
  });

  it('supervised: stdout with [ctime], no debug output', () => {
    const out = sink();
    const err = sink();
    const log = new Logger({
      debug: false,
      supervised: true,
      logfile: '/var/log/ldirectord.log',
      cfgname: 'ldirectord',
      stdout: out,
      stderr: err,
      now: () => NOV5,
    });
    log.log('Starting Linux Director v1.186-ha with pid: 42');
    log.log('two\n');
    log.debug(2, 'hidden');
    expect(out.text()).toBe('[Thu Nov  5 09:03:07 2026] Starting Linux Director v1.186-ha with pid: 42\n[Thu Nov  5 09:03:07 2026] two\n');
    expect(err.text()).toBe('');
  });
});

describe('logfile', () => {
  it('appends [ctime|CFGNAME|pid] lines byte for byte', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'existing\n');
    const log = new Logger({ debug: false, supervised: false, logfile: path, cfgname: 'test1.cf', pid: 10283, now: () => NOV24 });
    log.log('Added virtual server: 10.0.0.1:80');
    log.log('Deleted real server: 127.0.0.2:8080 (10.0.0.1:80)\n');
    await log.flush();
    expect(readFileSync(path, 'utf8')).toBe(
      'existing\n' +
        '[Tue Nov 24 19:19:19 2026|test1.cf|10283] Added virtual server: 10.0.0.1:80\n' +
        '[Tue Nov 24 19:19:19 2026|test1.cf|10283] Deleted real server: 127.0.0.2:8080 (10.0.0.1:80)\n',
    );
    expect(formatFileLine(NOV5, 'ldirectord', 1, 'x')).toBe('[Thu Nov  5 09:03:07 2026|ldirectord|1] x\n');
    await log.close();
  });

  it('keeps writing to the path after logrotate renames or deletes the file', async () => {
    const path = join(dir, 'rot.log');
    const log = new Logger({ debug: false, supervised: false, logfile: path, cfgname: 'ldirectord', pid: 7, now: () => NOV24 });
    log.log('one');
    await log.flush();
    renameSync(path, `${path}.1`);
    log.log('two');
    log.log('three');
    await log.flush();
    unlinkSync(path);
    log.log('four');
    await log.flush();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('[Tue Nov 24 19:19:19 2026|ldirectord|7] one\n');
    expect(readFileSync(path, 'utf8')).toBe('[Tue Nov 24 19:19:19 2026|ldirectord|7] four\n');
    await log.close();
  });

  it('reopen() then rename: the next batch goes to the new file', async () => {
    const path = join(dir, 'hup.log');
    const log = new Logger({ debug: false, supervised: false, logfile: path, cfgname: 'c', pid: 1, now: () => NOV24 });
    log.log('a');
    await log.flush();
    renameSync(path, `${path}.old`);
    writeFileSync(path, '');
    log.reopen();
    log.log('b');
    await log.flush();
    expect(readFileSync(`${path}.old`, 'utf8')).toBe('[Tue Nov 24 19:19:19 2026|c|1] a\n');
    expect(readFileSync(path, 'utf8')).toBe('[Tue Nov 24 19:19:19 2026|c|1] b\n');
    await log.close();
  });

  it('a failed write goes to stderr as the bare message, and recovers', async () => {
    const sub = join(dir, 'gone');
    const path = join(sub, 'x.log');
    const err = sink();
    const log = new Logger({ debug: false, supervised: false, logfile: path, cfgname: 'c', pid: 1, stderr: err, now: () => NOV24 });
    log.log('lost | line');
    await log.flush();
    expect(err.text()).toBe('lost | line\n');
    execFileSync('mkdir', [sub]);
    log.log('back');
    await log.flush();
    // once, before the first line that gets in: how many did not
    expect(readFileSync(path, 'utf8')).toBe(
      `[Tue Nov 24 19:19:19 2026|c|1] Could not write 1 log line to ${path} from Tue Nov 24 19:19:19 2026 on: ENOENT: no such file or directory, open '${path}'\n` +
        '[Tue Nov 24 19:19:19 2026|c|1] back\n',
    );
    log.log('again');
    await log.flush();
    expect(
      readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l.includes('Could not write')),
    ).toHaveLength(1);
    await log.close();
  });

  it('many lines in one tick are written in order, in few batches', async () => {
    const path = join(dir, 'many.log');
    const log = new Logger({ debug: false, supervised: false, logfile: path, cfgname: 'c', pid: 1, now: () => NOV24 });
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i++) log.log(`line ${i}`);
    const syncMs = performance.now() - t0;
    await log.flush();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.length).toBe(20_001);
    expect(lines[19_999]).toBe('[Tue Nov 24 19:19:19 2026|c|1] line 19999');
    expect(lines.every((l, i) => i === 20_000 || l.endsWith(`line ${i}`))).toBe(true);
    // Queuing 20k lines takes no file I/O on the caller's stack.
    expect(syncMs).toBeLessThan(1000);
    await log.close();
  });

  it('flushSync writes what is queued (exit path)', () => {
    const path = join(dir, 'sync.log');
    const log = new Logger({ debug: false, supervised: false, logfile: path, cfgname: 'c', pid: 1, now: () => NOV24 });
    log.log('Linux Director Daemon terminated on signal: TERM');
    log.flushSync();
    expect(readFileSync(path, 'utf8')).toBe('[Tue Nov 24 19:19:19 2026|c|1] Linux Director Daemon terminated on signal: TERM\n');
  });

  it('reconfigure() moves to the new destination', async () => {
    const p1 = join(dir, 'r1.log');
    const p2 = join(dir, 'r2.log');
    const out = sink();
    const log = new Logger({ debug: false, supervised: false, logfile: p1, cfgname: 'c', pid: 1, now: () => NOV24, stdout: out });
    log.log('first');
    log.reconfigure({ supervised: false, logfile: p2 });
    log.log('second');
    log.reconfigure({ supervised: true, logfile: p2 });
    log.log('third');
    await log.flush();
    expect(readFileSync(p1, 'utf8')).toBe('[Tue Nov 24 19:19:19 2026|c|1] first\n');
    expect(readFileSync(p2, 'utf8')).toBe('[Tue Nov 24 19:19:19 2026|c|1] second\n');
    expect(out.text()).toBe('[Tue Nov 24 19:19:19 2026] third\n');
    await log.close();
  });
});

describe('syslog (real unix datagram socket)', () => {
  let sinkSock: DgramSink | undefined;
  afterEach(() => {
    sinkSock?.close();
    sinkSock = undefined;
  });

  const HEADER = /^<(\d+)>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 123]\d) (\d\d):(\d\d):(\d\d) ldirectord\[(\d+)\]: (.*)$/s;

  it('sends RFC 3164 datagrams with the facility, priority info, ident and pid', async () => {
    const path = join(dir, 'log-local3.sock');
    sinkSock = await startDgramSink(path);
    const err = sink();
    const log = new Logger({
      debug: false,
      supervised: false,
      logfile: 'local3',
      cfgname: 'c',
      pid: 4242,
      stderr: err,
      syslogSocket: path,
    });
    log.log('Added real server: 127.0.0.2:80 (10.0.0.1:80) (Weight set to 1)');
    log.log('Quiescent real server: 127.0.0.3:80 (10.0.0.1:80) (Weight set to 0)\n');
    log.log('100% | odd <13> text');
    const got = await sinkSock.waitFor(3);
    await log.flush();
    expect(err.text()).toBe('');
    expect(got).toHaveLength(3);
    const parsed = got.map((d) => HEADER.exec(d));
    expect(parsed.every((m) => m !== null)).toBe(true);
    expect(parsed.map((m) => Number(m![1]))).toEqual([19 * 8 + 6, 158, 158]);
    expect(parsed.map((m) => m![7])).toEqual(['4242', '4242', '4242']);
    expect(parsed.map((m) => m![8])).toEqual([
      'Added real server: 127.0.0.2:80 (10.0.0.1:80) (Weight set to 1)',
      'Quiescent real server: 127.0.0.3:80 (10.0.0.1:80) (Weight set to 0)',
      '100% | odd <13> text',
    ]);
    // The day of month is space padded, like syslog(3): `Nov  5`.
    const day = Number(parsed[0]![3]!.trim());
    expect(parsed[0]![3]).toBe(String(day).padStart(2, ' '));
    await log.close();
  });

  it('unknown facility names log to daemon', async () => {
    const path = join(dir, 'log-daemon.sock');
    sinkSock = await startDgramSink(path);
    const log = new Logger({
      debug: false,
      supervised: false,
      logfile: 'var/log/ldirectord.log',
      cfgname: 'c',
      pid: 99,
      syslogSocket: path,
    });
    log.log('hello');
    const [d] = await sinkSock.waitFor(1);
    expect(d).toMatch(/^<30>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ldirectord\[99\]: hello$/);
    await log.close();
  });

  it('a long message goes out whole', async () => {
    const path = join(dir, 'log-long.sock');
    sinkSock = await startDgramSink(path);
    const log = new Logger({ debug: false, supervised: false, logfile: 'local0', cfgname: 'c', pid: 5, syslogSocket: path });
    const long = 'x'.repeat(5000);
    log.log(long);
    const [d] = await sinkSock.waitFor(1);
    expect(d!.endsWith(`ldirectord[5]: ${long}`)).toBe(true);
    await log.close();
  });

  it('many messages arrive in order', async () => {
    const path = join(dir, 'log-many.sock');
    sinkSock = await startDgramSink(path);
    const log = new Logger({ debug: false, supervised: false, logfile: 'daemon', cfgname: 'c', pid: 5, syslogSocket: path });
    const t0 = performance.now();
    for (let i = 0; i < 2500; i++) log.log(`m${i}`);
    expect(performance.now() - t0).toBeLessThan(200); // no process is started on the caller's stack
    const got = await sinkSock.waitFor(2500, 20_000);
    expect(got.map((d) => d.replace(/^.*?: /s, ''))).toEqual(Array.from({ length: 2500 }, (_, i) => `m${i}`));
    await log.close();
  });

  it('no socket: the messages go to stderr', async () => {
    const err = sink();
    const log = new Logger({
      debug: false,
      supervised: false,
      logfile: 'local1',
      cfgname: 'c',
      pid: 5,
      stderr: err,
      syslogSocket: join(dir, 'missing.sock'),
    });
    log.log('first');
    log.log('second');
    await log.flush();
    expect(err.text()).toBe('first\nsecond\n');
  });

  it('logger(1) missing or failing: the messages go to stderr', async () => {
    const failing = join(dir, 'failing-logger');
    writeFileSync(failing, '#!/bin/sh\ncat >/dev/null; echo nope >&2; exit 3\n');
    chmodSync(failing, 0o755);
    for (const cmd of [join(dir, 'does-not-exist'), failing]) {
      const err = sink();
      const log = new Logger({
        debug: false,
        supervised: false,
        logfile: 'local1',
        cfgname: 'c',
        pid: 5,
        stderr: err,
        loggerCommand: cmd,
      });
      log.log('one');
      log.log('two');
      await log.flush();
      expect(err.text()).toBe('one\ntwo\n');
    }
  });

  it('bounded queue: the oldest waiting messages are dropped and counted', async () => {
    const slow = join(dir, 'slow-logger');
    writeFileSync(slow, '#!/bin/sh\nsleep 0.3; cat >/dev/null; exit 1\n');
    chmodSync(slow, 0o755);
    const err = sink();
    const log = new Logger({
      debug: false,
      supervised: false,
      logfile: 'local1',
      cfgname: 'c',
      pid: 5,
      stderr: err,
      loggerCommand: slow,
      maxQueuedSyslogMessages: 3,
    });
    log.log('first');
    await new Promise((r) => setImmediate(r)); // 'first' is with the logger now
    for (const m of ['a', 'b', 'c', 'd', 'e']) log.log(m);
    await log.flush();
    expect(err.text()).toBe('first\nsyslog queue full: 2 message(s) dropped\nc\nd\ne\n');
  });
});
