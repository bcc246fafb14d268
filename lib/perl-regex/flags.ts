// Perl's pattern modifiers as they are switched inline: (?imsxn-imsx), (?^...), (?i:...).
import type { Cursor } from './cursor.js';

export interface Flags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
  readonly x: boolean;
  readonly xx: boolean;
  readonly n: boolean;
}

export const DEFAULT_FLAGS: Flags = { i: false, m: false, s: false, x: false, xx: false, n: false };

/** `(?flags)` with no body: returns the new flags, or null if this is not one. */
export function inlineFlags(cur: Cursor, flags: Flags): Flags | null {
  if (!cur.startsWith('(?')) return null;
  const m = /^\(\?(\^?)([imsxnpoadlu]*)(?:-([imsxnpoadlu]*))?\)/.exec(cur.src.slice(cur.pos, cur.pos + 40));
  if (!m) return null;
  const next = applyFlags(cur, flags, m[1] === '^', m[2] ?? '', m[3], cur.pos + 2);
  cur.pos += m[0].length;
  return next;
}

export function applyFlags(cur: Cursor, flags: Flags, caret: boolean, on: string, off: string | undefined, at: number): Flags {
  if (caret && off !== undefined) cur.fail('Sequence (?^-...) not recognized', at);
  let next: { -readonly [K in keyof Flags]: boolean } = caret ? { ...DEFAULT_FLAGS } : { ...flags };
  const set = (letters: string, value: boolean): void => {
    for (let k = 0; k < letters.length; k++) {
      const f = letters[k];
      switch (f) {
        case 'i':
        case 'm':
        case 's':
        case 'n':
          next[f] = value;
          break;
        case 'x':
          if (value && letters[k + 1] === 'x') {
            next.xx = true;
            k++;
          } else if (!value) {
            next.xx = false;
          }
          next.x = value;
          break;
        case 'p':
        case 'o':
        case 'd':
          break;
        case 'a':
          if (!value) cur.fail('Regexp modifier "a" may not appear after the "-"', at);
          break;
        case 'u':
        case 'l':
          cur.fail(`the (?${f}) character-set modifier is not supported (receive is matched against bytes)`, at);
          break;
        default:
          cur.fail(`Sequence (?${letters}...) not recognized`, at);
      }
    }
  };
  set(on, true);
  if (off !== undefined) set(off, false);
  next = { ...next };
  return next;
}
