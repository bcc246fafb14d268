// The differential harness's own parts: the ipvsadm stand-in (its bash client carries
// arguments, stdin, stdout, stderr and exit codes), table normalization, flap detection and
// the multiset comparison that every verdict rests on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flaps, mentionsHost, multisetDiff } from './support/analysis.js';
import { normalizeTable, parseRequest, startIpvsadmServer, type IpvsadmServer } from './support/ipvsadm-server.js';
import { parseMail } from './support/smtp-sink.js';

describe('ipvsadm stand-in', () => {
  let dir: string;
  let server: IpvsadmServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ldts-diff-harness-'));
    server = await startIpvsadmServer(dir);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (args: string[], input?: string) =>
    execa(server.program, args, { reject: false, env: { LC_ALL: 'C' }, ...(input !== undefined ? { input } : { stdin: 'ignore' }) });

  it('applies commands, lists the table, and records each change', async () => {
    expect((await run(['-A', '-t', '192.0.2.1:80', '-s', 'wrr'])).exitCode).toBe(0);
    const r = await run(['-R'], '-a -t 192.0.2.1:80 -r 127.0.60.1:80 -m -w 3 -x 9 -y 2\n');
    expect(r.exitCode).toBe(0);
    const list = await run(['-L', '-n']);
    expect(list.stdout).toContain('  -> 127.0.60.1:80                Masq    3      0          0');
    expect(server.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 127.0.60.1:80 -m -w 3 -x 9 -y 2']);
    expect(server.history.map((h) => h.table.length)).toEqual([0, 1, 2]);
    expect(server.calls.map((c) => c.args[0])).toEqual(['-A', '-R', '-L']);
  });

  it("passes on ipvsadm's error text and exit code", async () => {
    const r = await run(['-a', '-t', '192.0.2.9:80', '-r', '127.0.60.1:80', '-m']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Service not defined/);
    expect(r.stdout).toBe('');
  });

  it('waits for a request to be complete', () => {
    const full = Buffer.from('2\n2\n-L2\n-n0\n');
    expect(parseRequest(full)).toEqual({ args: ['-L', '-n'], stdin: '' });
    expect(parseRequest(full.subarray(0, full.length - 2))).toBeUndefined();
  });
});

describe('comparison', () => {
  it('normalizeTable adds thresholds from the listing and sorts', () => {
    const save = '-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1\n';
    const listing =
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n  -> RemoteAddress:Port\nTCP  10.0.0.1:80 wrr\n  -> 10.0.0.3:80   5   1   0   0\n  -> 10.0.0.2:80   0   0   0   0\n';
    expect(normalizeTable(save, listing)).toEqual([
      '-A -t 10.0.0.1:80 -s wrr',
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1',
      '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1 -x 5 -y 1',
    ]);
  });

  it('flaps: an entry that changed more than once in the window, and only in it', () => {
    const svc = '-A -t 10.0.0.1:80 -s wrr';
    const a = (w: number) => `-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w ${w}`;
    const b = '-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1';
    const history = [
      { at: 0, table: [] },
      { at: 10, table: [svc, a(1)] }, // added
      { at: 20, table: [svc] }, // removed again: a flap
      { at: 30, table: [svc, b] }, // added once: no flap
      { at: 40, table: [svc, b, a(0)] }, // quiesced entry goes in (after the window)
    ];
    expect(flaps(history, 5, 35)).toEqual(['10.0.0.2:80']);
    expect(flaps(history, 25, 45)).toEqual([]);
    expect(flaps(history, 0, 45)).toEqual(['10.0.0.2:80']);
  });

  it('multisetDiff counts repeats', () => {
    expect(multisetDiff(['a', 'a', 'b'], ['a', 'c'])).toEqual({ onlyOriginal: ['a', 'b'], onlyOurs: ['c'] });
  });

  it('mentionsHost does not take 127.0.60.1 for 127.0.60.12', () => {
    expect(mentionsHost('Deleted real server: 127.0.60.12:80 (x)', ['127.0.60.1'])).toBe(false);
    expect(mentionsHost('Deleted real server: 127.0.60.1:80 (x)', ['127.0.60.1'])).toBe(true);
  });

  it('parseMail drops only Date, Message-ID and MIME headers stating the defaults', () => {
    const m = parseMail(
      0,
      'root@h',
      ['a@b'],
      'Subject: x\r\nDate: now\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n',
    );
    expect(m.subject).toBe('x');
    expect(m.headers).toEqual(['Subject: x', 'Content-Type: text/plain; charset=utf-8']);
    expect(m.body).toBe('body\n');
  });
});
