// checktype=ping with the real iputils ping against loopback, and stand-ins for the
// cases loopback cannot produce (no reply, a ping that hangs).
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPingChecker, findPing, pingArguments, pingChecker } from '../../checks/ping.js';
import { makeTarget, timed } from './web-fixtures.js';
import { haveBinary, makeTempDir } from './web-servers.js';

const dir = makeTempDir('ping');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function standIn(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const t = (over: { checkcount?: number; checktimeout?: number } = {}) =>
  makeTarget({ checktype: { kind: 'ping' }, checktimeout: 1, checkcount: 1, ...over }, { ip: '127.0.15.10', port: 80 });

describe('ping', () => {
  it('sends one 64-byte echo request per attempt, waiting checktimeout', () => {
    expect(pingArguments('10.1.2.3', 5)).toEqual(['-n', '-q', '-c', '1', '-s', '64', '-W', '5', '10.1.2.3']);
  });

  it.runIf(haveBinary('/usr/bin/ping'))('is up when the real answers (system ping, loopback)', async () => {
    expect(findPing()).toBe('/usr/bin/ping');
    const r = await pingChecker.probe(t(), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(r.detail).toBe('pong from 127.0.15.10 (attempt 1/1)');
    expect(r.skipMonitorfile).toBeUndefined();
  });

  it('tries checkcount times, then is down without a monitorfile line', async () => {
    const log = join(dir, 'calls');
    const checker = createPingChecker({ command: standIn('noreply', `printf '%s\\n' "$*" >> ${log}; exit 1`) });
    const r = await checker.probe(t({ checkcount: 3 }), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: false, message: '-', skipMonitorfile: true });
    expect(r.detail).toBe('no reply from 127.0.15.10 after 3/3 attempts: exit 1, exit 1, exit 1');
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(Array(3).fill('-n -q -c 1 -s 64 -W 1 127.0.15.10'));
  });

  it('is up on the first reply', async () => {
    const counter = join(dir, 'count');
    writeFileSync(counter, '');
    const checker = createPingChecker({ command: standIn('second', `echo x >> ${counter}; [ $(wc -l < ${counter}) -ge 2 ]`) });
    const r = await checker.probe(t({ checkcount: 5 }), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true });
    expect(r.detail).toBe('pong from 127.0.15.10 (attempt 2/5)');
  });

  it('ends when the signal aborts, even if ping ignores SIGTERM', async () => {
    const checker = createPingChecker({ command: standIn('hang', "trap '' TERM; sleep 5") });
    const [r, ms] = await timed(() => checker.probe(t({ checkcount: 3 }), AbortSignal.timeout(300)));
    expect(r).toMatchObject({ ok: false });
    expect(r.detail).toContain('timed out');
    expect(ms).toBeLessThan(1000);
  });
});
