// checktype=external and external-perl with real programs.
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { externalPerlChecker } from '../../checks/external-perl.js';
import { externalArguments, externalChecker } from '../../checks/external.js';
import type { RealServer, VirtualService } from '../../lib/config/model.js';
import { makeTarget, timed } from './web-fixtures.js';
import { haveBinary, makeTempDir } from './web-servers.js';

const dir = makeTempDir('external');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string, shebang = '#!/bin/sh'): string {
  const file = join(dir, name);
  writeFileSync(file, `${shebang}\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const v = (checkcommand: string, over: Partial<VirtualService> = {}): Partial<VirtualService> => ({
  checktype: { kind: 'external' },
  checkcommand,
  checktimeout: 2,
  ip: '10.0.0.9',
  port: 9001,
  ...over,
});
const real: Partial<RealServer> = { ip: '127.0.0.2', port: 8080 };

describe('external', () => {
  it('passes vip, vport, rip, rport (the configured port, not checkport)', async () => {
    const out = join(dir, 'args');
    const cmd = script('args.sh', `printf '%s|' "$@" > ${out}; exit 0`);
    const r = await externalChecker.probe(makeTarget(v(cmd, { checkport: 9999 }), real), AbortSignal.timeout(2000));
    expect(r).toMatchObject({ ok: true, message: '-' });
    expect(readFileSync(out, 'utf8')).toBe('10.0.0.9|9001|127.0.0.2|8080|');
  });

  it('fwmark virtuals pass the mark and port 0; IPv6 keeps brackets', () => {
    expect(
      externalArguments(makeTarget({ ip: undefined, port: undefined, fwmark: 5, protocol: 'fwm' }, { ip: '127.0.0.2', port: 0 })),
    ).toEqual(['5', '0', '127.0.0.2', '0']);
    expect(externalArguments(makeTarget({ ip: '[2001:db8::9]', port: 80, family: 6 }, { ip: '[::1]', port: 8080 }))).toEqual([
      '[2001:db8::9]',
      '80',
      '[::1]',
      '8080',
    ]);
  });

  it('exit 0 is up, anything else down', async () => {
    const fail = script('fail.sh', 'exit 3');
    const r = await externalChecker.probe(makeTarget(v(fail), real), AbortSignal.timeout(2000));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.detail).toBe(`${fail} 10.0.0.9 9001 127.0.0.2 8080: exit 3`);
  });

  it('runs no shell: a command with arguments in checkcommand fails', async () => {
    const ok = script('ok.sh', 'exit 0');
    const r = await externalChecker.probe(makeTarget(v(`${ok} foo`), real), AbortSignal.timeout(2000));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/exec failed/);
    const missing = await externalChecker.probe(makeTarget(v('/nonexistent/check'), real), AbortSignal.timeout(2000));
    expect(missing.ok).toBe(false);
  });

  it('is killed at the deadline with the original log line, and ends on time even if it ignores SIGTERM', async () => {
    const marker = join(dir, 'term');
    const slow = script('slow.sh', `trap 'echo term > ${marker}; exit 1' TERM; sleep 10 & wait`);
    const [r, ms] = await timed(() => externalChecker.probe(makeTarget(v(slow), real), AbortSignal.timeout(300)));
    expect(r).toMatchObject({ ok: false, message: '-' });
    expect(r.log).toEqual([`system_timeout(2, ${slow} 10.0.0.9 9001 127.0.0.2 8080) timed out, kill -TERM child`]);
    expect(ms).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readFileSync(marker, 'utf8').trim()).toBe('term');

    const stubborn = script('stubborn.sh', "trap '' TERM; sleep 3");
    const [r2, ms2] = await timed(() => externalChecker.probe(makeTarget(v(stubborn), real), AbortSignal.timeout(300)));
    expect(r2.ok).toBe(false);
    expect(ms2).toBeLessThan(1000);
  });

  it('does not buffer a chatty command', async () => {
    const chatty = script('chatty.sh', 'head -c 50000000 /dev/zero; exit 0');
    const r = await externalChecker.probe(makeTarget(v(chatty), real), AbortSignal.timeout(5000));
    expect(r.ok).toBe(true);
  });
});

describe.runIf(haveBinary('/usr/bin/perl'))('external-perl (run with perl)', () => {
  const p = (name: string, body: string) => {
    const file = join(dir, name);
    writeFileSync(file, body);
    return file;
  };
  const vp = (file: string) => v(file, { checktype: { kind: 'external-perl' } });

  it('exit(0) is up, with @ARGV set, and no monitorfile line', async () => {
    const out = join(dir, 'perl-args');
    const file = p('ok.pl', `open(my $f, '>', '${out}'); print $f join('|', @ARGV); close $f; exit(0);`);
    const r = await externalPerlChecker.probe(makeTarget(vp(file), real), AbortSignal.timeout(3000));
    expect(r).toMatchObject({ ok: true, message: '-', skipMonitorfile: true });
    expect(readFileSync(out, 'utf8')).toBe('10.0.0.9|9001|127.0.0.2|8080');
  });

  it('falling off the end is up; exit(n>0), die and compile errors are down', async () => {
    const run = (body: string, name: string) => externalPerlChecker.probe(makeTarget(vp(p(name, body)), real), AbortSignal.timeout(3000));
    expect((await run('my $x = 1;', 'end.pl')).ok).toBe(true);
    expect(await run('exit(2);', 'two.pl')).toMatchObject({ ok: false, skipMonitorfile: true });
    expect((await run('die "no\\n";', 'die.pl')).ok).toBe(false);
    expect((await run('this is not perl {', 'bad.pl')).ok).toBe(false);
  });

  it('is killed at the deadline', async () => {
    const file = p('sleep.pl', 'sleep 10; exit 0;');
    const [r, ms] = await timed(() => externalPerlChecker.probe(makeTarget(vp(file), real), AbortSignal.timeout(300)));
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('timed out');
    expect(ms).toBeLessThan(1000);
  });
});
