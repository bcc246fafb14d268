// Bracketed character classes [...] read into byte ranges and emitted as one JavaScript
// class, so that POSIX classes, \s \h \v, ranges and /i folding get Perl's byte sets.
import { classText, complement, DIGIT, foldAscii, HSPACE, normalise, POSIX, SPACE, VSPACE, WORD, type Range } from './char-sets.js';
import { charEscape, octal } from './char-escapes.js';
import type { Cursor } from './cursor.js';
import type { Flags } from './flags.js';

/** A bracketed class at the cursor (on its `[`), as one JavaScript class of byte ranges. */
export function charClass(cur: Cursor, flags: Flags): string {
  const open = cur.pos;
  cur.pos++;
  let negated = false;
  if (cur.peek() === '^') {
    negated = true;
    cur.pos++;
  }
  const ranges: Range[] = [];
  let first = true;
  for (;;) {
    if (flags.xx) {
      while (cur.peek() === ' ' || cur.peek() === '\t') cur.pos++;
    }
    const c = cur.peek();
    if (c === undefined) cur.fail('Unmatched [', open + 1);
    if (c === ']' && !first) {
      cur.pos++;
      break;
    }
    first = false;
    const lo = classItem(cur);
    if (Array.isArray(lo)) {
      ranges.push(...lo);
      continue;
    }
    // A range a-z unless '-' is last or the other end is a set.
    if (cur.peek() === '-' && cur.peek(1) !== ']' && cur.peek(1) !== undefined) {
      cur.pos++;
      const hi = classItem(cur);
      if (Array.isArray(hi)) {
        ranges.push([lo, lo], [0x2d, 0x2d], ...hi);
        continue;
      }
      if (hi < lo) cur.fail('Invalid [] range', cur.pos);
      ranges.push([lo, hi]);
      continue;
    }
    ranges.push([lo, lo]);
  }
  let set = normalise(ranges);
  if (flags.i) set = foldAscii(set);
  if (negated) set = complement(set);
  return classText(set);
}

/** One char (a number) or a set (POSIX class, \d, ...) inside [...]. */
function classItem(cur: Cursor): number | Range[] {
  const c = cur.peek() as string;
  if (c === '[') {
    const m = /^\[([:=.])(\^?)([a-z]*)\1\]/.exec(cur.src.slice(cur.pos, cur.pos + 20));
    if (m) {
      if (m[1] !== ':') cur.fail(`POSIX syntax [${m[1]} ${m[1]}] is reserved for future extensions`, cur.pos + 2);
      const set = POSIX[m[3] as string];
      if (!set) cur.fail(`POSIX class [:${m[2]}${m[3]}:] unknown`, cur.pos + m[0].length);
      cur.pos += m[0].length;
      return m[2] ? complement(set) : [...set];
    }
    cur.pos++;
    return c.charCodeAt(0);
  }
  if (c !== '\\') {
    cur.pos++;
    return c.charCodeAt(0);
  }
  cur.pos++;
  const e = cur.peek();
  if (e === undefined) cur.fail('Unmatched [');
  const sets: Record<string, Range[]> = {
    d: DIGIT,
    w: WORD,
    s: SPACE,
    h: HSPACE,
    v: VSPACE,
  };
  const lower = e.toLowerCase();
  if (sets[lower] && (e === lower || 'DWSHV'.includes(e))) {
    cur.pos++;
    const set = sets[lower] as Range[];
    return e === lower ? [...set] : complement(set);
  }
  if (e === 'N' || e === 'R' || e === 'X' || e === 'K') cur.fail(`\\${e} is not allowed in a character class`, cur.pos + 1);
  if (e === 'p' || e === 'P') cur.fail(`Unicode properties \\${e}{...} are not supported (receive is matched against bytes)`, cur.pos + 1);
  if (e >= '1' && e <= '7') return octal(cur, 3);
  if (e === '8' || e === '9') {
    cur.pos++;
    return e.charCodeAt(0);
  }
  const code = charEscape(cur, true);
  if (code === null) {
    cur.fail(`Unrecognized escape \\${e} in character class (Perl reads it as a literal "${e}"); write "${e}" instead`, cur.pos + 1);
  }
  return code;
}
