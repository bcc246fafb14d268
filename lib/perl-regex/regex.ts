// receive= is a Perl regular expression in existing configs: the original does
// `$subject =~ /$receive/` with no flags. This module translates that dialect to a
// JavaScript RegExp with the same meaning, or says precisely why it cannot.
//
// Byte semantics. Perl sees the config value and the checked data (an HTTP body, an
// FTP file, a DN) as byte strings, so `.` matches one byte and only ASCII letters fold
// under (?i). The translation therefore works on "binary strings" (one char per byte,
// latin1) and every subject must be passed through `perlBytes` (or use `perlMatch`),
// which turns UTF-8 text and Buffers into the same kind of string. For ASCII text,
// which is nearly every receive string, this changes nothing.
//
// What is translated (Perl 5.36 meaning): \A \z \Z \G, ^ and $ with and without
// (?m) (Perl's `$` also matches before a final newline), `.` (which in Perl matches
// CR), inline and scoped flags (?imsxn-imsx) (?^...) (?i:...), (?x)/(?xx) whitespace
// and comments, (?#...), possessive quantifiers and atomic groups (emulated with
// lookahead + backreference, with group numbers remapped), {,n} and spaces inside
// braces, \s \h \v \R \N (with Perl's, not JavaScript's, character sets), octal,
// \o{} \x{} \c \e \a escapes, POSIX classes [[:alpha:]], named groups in all three
// spellings and \g/\k backreferences, alpha assertions (*pla:...) and friends.
// What is rejected, with a Perl-style "<-- HERE" marker: embedded code, recursion,
// conditionals, branch reset, backtracking verbs, \K, \X, Unicode properties,
// \Q..\E / \U / \L (which Perl does not apply to a value read from a file),
// unrecognised letter escapes, code points above 0xFF, and case-insensitive
// backreferences.
import { PerlSyntaxError } from './cursor.js';
import { Translator, type Plan } from './translator.js';

export type PerlRegexTranslation = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly error: string };

/** The subject as Perl sees it: one char per byte. Strings are taken as UTF-8 text. */
export function perlBytes(subject: string | Uint8Array): string {
  if (typeof subject === 'string') {
    // Pure ASCII strings (as many UTF-8 bytes as chars) are their own byte string; avoid the copy.
    return Buffer.byteLength(subject, 'utf8') === subject.length ? subject : Buffer.from(subject, 'utf8').toString('latin1');
  }
  return Buffer.from(subject.buffer, subject.byteOffset, subject.byteLength).toString('latin1');
}

/** `subject =~ /receive/` for a regex made by translatePerlRegex. */
export function perlMatch(regex: RegExp, subject: string | Uint8Array): boolean {
  return regex.exec(perlBytes(subject)) !== null;
}

const cache = new Map<string, PerlRegexTranslation>();

/** Translate a Perl regex (as written in receive="...") to an equivalent JavaScript RegExp. */
export function translatePerlRegex(src: string): PerlRegexTranslation {
  const hit = cache.get(src);
  if (hit) return hit;
  const result = translateUncached(src);
  if (cache.size > 1000) cache.clear();
  cache.set(src, result);
  return result;
}

function translateUncached(src: string): PerlRegexTranslation {
  const bytes = perlBytes(src);
  const plan: Plan = { possessive: new Set(), userGroups: -1, userToOut: new Map(), names: new Set() };
  let out: string;
  try {
    // Pass 1 counts the groups (so that \10 can be told from an octal escape), pass 1
    // again records possessive atoms and group numbers with that count, pass 2 emits.
    new Translator(bytes, plan, 1).run();
    plan.possessive.clear();
    plan.userToOut.clear();
    plan.names.clear();
    new Translator(bytes, plan, 1).run();
    out = new Translator(bytes, plan, 2).run();
  } catch (err) {
    if (err instanceof PerlSyntaxError) {
      const before = Buffer.from(bytes.slice(0, err.pos), 'latin1').toString('utf8');
      const after = Buffer.from(bytes.slice(err.pos), 'latin1').toString('utf8');
      return { ok: false, error: `${err.message} in m/${before} <-- HERE ${after}/` };
    }
    throw err;
  }
  try {
    return { ok: true, regex: new RegExp(out) };
  } catch (err) {
    return { ok: false, error: `cannot be translated to a JavaScript regex (${(err as Error).message}) in m/${src}/` };
  }
}
