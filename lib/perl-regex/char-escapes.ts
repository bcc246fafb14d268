// Escapes that stand for one byte (\t \x41 \x{41} \o{101} \101 \cA \N{U+41} ...),
// shared by the pattern and the character-class readers. Receive strings are matched
// against bytes, so a code point above 0xFF is an error rather than a UTF-8 sequence.
import type { Cursor } from './cursor.js';

const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9]$/.test(c);

/**
 * Escapes that denote one char, with cur.pos on the char after the backslash.
 * Returns null (consuming nothing) for an unrecognised letter escape.
 */
export function charEscape(cur: Cursor, inClass = false): number | null {
  const c = cur.peek() as string;
  const simple: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, e: 0x1b, a: 7 };
  if (inClass) simple.b = 8;
  if (simple[c] !== undefined) {
    cur.pos++;
    return simple[c] as number;
  }
  switch (c) {
    case '0':
      return octal(cur, 3);
    case 'o': {
      cur.pos++;
      const m = /^\{\s*([0-7_]*)\s*\}/.exec(cur.src.slice(cur.pos, cur.pos + 40));
      if (!m) cur.fail('Missing braces on \\o{}');
      cur.pos += m[0].length;
      return checkCode(cur, parseInt((m[1] ?? '').replace(/_/g, '') || '0', 8));
    }
    case 'x': {
      cur.pos++;
      if (cur.peek() === '{') {
        const end = cur.src.indexOf('}', cur.pos);
        if (end < 0) cur.fail('Missing right brace on \\x{}');
        const digits = cur.src
          .slice(cur.pos + 1, end)
          .trim()
          .replace(/_/g, '');
        const valid = /^[0-9A-Fa-f]*/.exec(digits)?.[0] ?? '';
        cur.pos = end + 1;
        return checkCode(cur, parseInt(valid || '0', 16));
      }
      const m = /^[0-9A-Fa-f]{0,2}/.exec(cur.src.slice(cur.pos, cur.pos + 2))?.[0] ?? '';
      cur.pos += m.length;
      return parseInt(m || '0', 16);
    }
    case 'c': {
      cur.pos++;
      const x = cur.peek();
      if (x === undefined) cur.fail('Character following "\\c" must be printable ASCII');
      cur.pos++;
      return x.toUpperCase().charCodeAt(0) ^ 0x40;
    }
    default:
      if (isAlnum(c)) return null;
      cur.pos++;
      return c.charCodeAt(0);
  }
}

export function checkCode(cur: Cursor, code: number): number {
  if (code > 0xff) cur.fail('code points above \\x{FF} are not supported (receive is matched against bytes)');
  return code;
}

/** Up to `max` octal digits at cur.pos (at least one is present). */
export function octal(cur: Cursor, max: number): number {
  const m = /^[0-7]*/.exec(cur.src.slice(cur.pos, cur.pos + max))?.[0] ?? '';
  cur.pos += m.length;
  return checkCode(cur, parseInt(m || '0', 8));
}

export function namedChar(cur: Cursor): number {
  const m = /^\{U\+([0-9A-Fa-f_]+)\}/.exec(cur.src.slice(cur.pos, cur.pos + 40));
  if (!m) cur.fail('named characters \\N{NAME} are not supported; use \\x{..}');
  cur.pos += m[0].length;
  return checkCode(cur, parseInt((m[1] as string).replace(/_/g, ''), 16));
}
