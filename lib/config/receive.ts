// receive= is a Perl regular expression in existing configs. The parser rejects
// what cannot be run with the same meaning, at the line that wrote it.
import { translatePerlRegex } from '../perl-regex/regex.js';

// Big farms repeat the same few receive strings thousands of times.
const verdicts = new Map<string, string | null>();

export function translateReceive(source: string): string | null {
  let v = verdicts.get(source);
  if (v === undefined) {
    const t = translatePerlRegex(source);
    v = t.ok ? null : t.error;
    if (verdicts.size < 10_000) verdicts.set(source, v);
  }
  return v;
}
