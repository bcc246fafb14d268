import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellCommand, shellQuote } from '../../lib/sync/shell-quote.js';

const HOSTILE = [
  '/etc/ha.d/ldirectord.cf',
  '/tmp/with space/ld.cf',
  "/tmp/it's/ld.cf",
  "'",
  "''",
  '"double" and \\backslash\\',
  '$(touch /tmp/pwned-by-sync)',
  '`id`',
  '${HOME}; rm -rf / #',
  'a\nnew line',
  '*?[glob]',
  '-t',
  '',
  'tab\there & | < > ! ~',
  'ümlaut €',
];

/** What /bin/sh makes of a command line: each argument it passes, NUL-terminated. */
function shellArgs(commandLine: string): string[] {
  const r = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${commandLine}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it("wraps in single quotes and escapes single quotes as '\\''", () => {
    expect(shellQuote('abc')).toBe("'abc'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it('every hostile argument comes back from /bin/sh byte for byte', () => {
    for (const arg of HOSTILE) expect(shellArgs(shellQuote(arg)), JSON.stringify(arg)).toEqual([arg]);
  });

  it('a whole command keeps its word boundaries and runs nothing', () => {
    expect(shellArgs(shellCommand(HOSTILE))).toEqual(HOSTILE);
  });

  it('refuses NUL bytes and empty commands', () => {
    expect(() => shellQuote('a\0b')).toThrow('NUL');
    expect(() => shellCommand([])).toThrow('empty');
  });
});
