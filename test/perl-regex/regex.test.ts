// translatePerlRegex against the real Perl: every translatable pattern is matched
// against many subjects by perl(1) and by the translated RegExp, and the two must agree
// on whether it matches and on the matched text ($&).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { perlBytes, perlMatch, translatePerlRegex } from '../../lib/perl-regex/regex.js';
import { SUBJECTS, TRANSLATABLE } from '../checks/regex-corpus.js';

const PERL = '/usr/bin/perl';

const REJECTED: Array<[string, RegExp]> = [
  ['(?{ 1 })', /embedded Perl code/],
  ['(??{ "a" })', /embedded Perl code/],
  ['(?|(a)|(b))', /branch reset/],
  ['(?(1)a|b)', /conditional/],
  ['(a)(?1)', /recursion/],
  ['(?R)', /recursion/],
  ['(?&name)', /recursion/],
  ['a(*FAIL)', /verbs/],
  ['a\\Kb', /\\K is not supported/],
  ['\\X', /grapheme/],
  ['\\p{L}', /Unicode properties/],
  ['\\Qa.b\\E', /\\Q is not applied/],
  ['\\Ua', /\\U is not applied/],
  ['\\y', /Unrecognized escape \\y/],
  ['[\\y]', /Unrecognized escape \\y in character class/],
  ['\\x{100}', /above/],
  ['(?i)(a)\\1', /case-insensitive backreferences/],
  ['(?u)a', /character-set modifier/],
  ['a**', /Nested quantifiers/],
  ['*a', /Quantifier follows nothing/],
  ['a|+', /Quantifier follows nothing/],
  ['(a', /Missing right paren/],
  ['a)', /Unmatched \)/],
  ['[a', /Unmatched \[/],
  ['[z-a]', /Invalid \[\] range/],
  ['a{3,1}', /n > m/],
  ['\\', /Trailing \\/],
  ['(a)\\2', /nonexistent group/],
  ['\\k<nope>', /nonexistent named group/],
  ['(?<x>a)(?<x>b)', /used twice/],
  ['[[:foo:]]', /POSIX class \[:foo:\] unknown/],
  ['[[=a=]]', /reserved/],
  ['\\N{LATIN SMALL LETTER A}', /named characters/],
  ['(?z)', /not recognized/],
];

interface PerlAnswer {
  readonly kind: 'm' | 'n' | 'e';
  readonly matched?: string;
}

function askPerl(cases: ReadonlyArray<readonly [string, string]>): PerlAnswer[] {
  const script = String.raw`
    use strict; no warnings;
    while (my $line = <STDIN>) {
      chomp $line;
      my ($p, $s) = map { pack('H*', $_) } split / /, $line, -1;
      $p = '' unless defined $p; $s = '' unless defined $s;
      my $r = eval { qr/$p/ };
      if (!defined $r) { print "e\n"; next; }
      my $m = eval { $s =~ /$r/ ? 'm ' . unpack('H*', $&) : 'n' };
      print defined $m ? "$m\n" : "e\n";
    }`;
  const input = cases.map(([p, s]) => `${Buffer.from(p, 'utf8').toString('hex')} ${Buffer.from(s, 'utf8').toString('hex')}`).join('\n');
  const out = execFileSync(PERL, ['-e', script], { input: `${input}\n`, maxBuffer: 64 << 20 }).toString();
  return out
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [kind, hex] = line.split(' ');
      return { kind: kind as PerlAnswer['kind'], matched: hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('latin1') };
    });
}

describe('translatePerlRegex agrees with perl', () => {
  it('has perl installed (CI installs it)', () => {
    expect(existsSync(PERL)).toBe(true);
  });

  it('translates every pattern of the corpus and matches exactly like perl', () => {
    const cases: Array<[string, string]> = [];
    for (const p of TRANSLATABLE) for (const s of SUBJECTS) cases.push([p, s]);
    const answers = askPerl(cases);
    expect(answers).toHaveLength(cases.length);
    const disagreements: string[] = [];
    cases.forEach(([p, s], k) => {
      const perl = answers[k] as PerlAnswer;
      const t = translatePerlRegex(p);
      if (!t.ok) {
        disagreements.push(`${JSON.stringify(p)}: rejected (${t.error}) but perl says ${perl.kind}`);
        return;
      }
      if (perl.kind === 'e') {
        disagreements.push(`${JSON.stringify(p)}: perl cannot compile it but we translated it to ${t.regex.source}`);
        return;
      }
      const m = t.regex.exec(perlBytes(s));
      const ours = m ? `m ${JSON.stringify(m[0])}` : 'n';
      const theirs = perl.kind === 'm' ? `m ${JSON.stringify(perl.matched)}` : 'n';
      if (ours !== theirs) {
        disagreements.push(`${JSON.stringify(p)} on ${JSON.stringify(s)}: perl ${theirs}, ours ${ours} (${t.regex.source})`);
      }
    });
    expect(disagreements).toEqual([]);
  });

  it('rejects what it cannot translate, with a Perl-style marker', () => {
    for (const [p, why] of REJECTED) {
      const t = translatePerlRegex(p);
      expect(t.ok, p).toBe(false);
      if (!t.ok) {
        expect(t.error, p).toMatch(why);
        expect(t.error, p).toContain('<-- HERE');
      }
    }
  });

  it('rejects everything perl itself cannot compile', () => {
    const bad = REJECTED.map(([p]) => p).filter((p) => !/\(\?\{|\(\?\?\{/.test(p));
    const answers = askPerl(bad.map((p) => [p, 'a'] as const));
    bad.forEach((p, k) => {
      if ((answers[k] as PerlAnswer).kind === 'e') expect(translatePerlRegex(p).ok, p).toBe(false);
    });
  });
});

describe('translatePerlRegex details', () => {
  it('marks the failing position like perl', () => {
    const t = translatePerlRegex('ab(?{ 1 })c');
    expect(t).toEqual({ ok: false, error: 'embedded Perl code (?{...}) is not supported in m/ab(? <-- HERE { 1 })c/' });
  });

  it('an empty receive matches anything', () => {
    const t = translatePerlRegex('');
    expect(t.ok && perlMatch(t.regex, 'whatever')).toBe(true);
  });

  it('keeps byte semantics for UTF-8 text and Buffers', () => {
    const t = translatePerlRegex('^gr..e$');
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    // "ü" is two bytes, so "gr..e" needs "grüe" with ü as 2 bytes: "grüe" has 5 bytes between anchors.
    expect(perlMatch(t.regex, 'grüe')).toBe(true);
    expect(perlMatch(t.regex, Buffer.from('grüe', 'utf8'))).toBe(true);
    expect(perlMatch(t.regex, 'grxxe')).toBe(true);
    expect(perlMatch(t.regex, 'grxe')).toBe(false);
  });

  it('returns the same RegExp for the same source (cached) and never uses g or y', () => {
    const a = translatePerlRegex('(?i)ok');
    const b = translatePerlRegex('(?i)ok');
    expect(a).toBe(b);
    if (a.ok) expect(a.regex.flags).toBe('');
  });

  it('remaps group numbers around emulated atomic groups', () => {
    const t = translatePerlRegex('(a)(?>b+)(c)\\2');
    expect(t.ok).toBe(true);
    if (t.ok) {
      expect(perlMatch(t.regex, 'abbcc')).toBe(true);
      expect(perlMatch(t.regex, 'abbca')).toBe(false);
    }
  });

  it('possessive quantifiers do not give back', () => {
    const t = translatePerlRegex('a++a');
    expect(t.ok && perlMatch(t.regex, 'aaaa')).toBe(false);
    const u = translatePerlRegex('a+a');
    expect(u.ok && perlMatch(u.regex, 'aaaa')).toBe(true);
  });
});
