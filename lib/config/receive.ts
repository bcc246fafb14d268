// receive= is a Perl regular expression in existing configs. The parser rejects
// what cannot be run with the same meaning, at the line that wrote it.
import { translatePerlRegex } from '../../checks/regex.js';

export function translateReceive(source: string): string | null {
  const t = translatePerlRegex(source);
  return t.ok ? null : t.error;
}
