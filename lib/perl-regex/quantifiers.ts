// Quantifiers: * + ? and Perl's brace forms (with the lazy ? and possessive + suffixes),
// and when an emitted atom can take one without a wrapping (?:...).
import type { Cursor } from './cursor.js';

export interface Quantifier {
  readonly text: string;
  readonly lazy: boolean;
  readonly possessive: boolean;
  /** Offset just after the quantifier proper (before a lazy/possessive suffix). */
  readonly end: number;
}

/** A quantifier follows (Perl's "Nested quantifiers" error after a complete one). */
export function quantifierAhead(cur: Cursor): boolean {
  const c = cur.peek();
  if (c === '*' || c === '+' || c === '?') return true;
  return c === '{' && braceQuantifier(cur, cur.pos) !== null;
}

/** A quantifier at the cursor, consumed; null (consuming nothing) when there is none. */
export function readQuantifier(cur: Cursor): Quantifier | null {
  const c = cur.peek();
  let text: string;
  if (c === '*' || c === '+' || c === '?') {
    cur.pos++;
    text = c;
  } else if (c === '{') {
    const brace = braceQuantifier(cur, cur.pos);
    if (!brace) return null;
    cur.pos = brace.end;
    text = brace.text;
  } else {
    return null;
  }
  const end = cur.pos;
  let lazy = false;
  let possessive = false;
  if (cur.peek() === '?') {
    lazy = true;
    cur.pos++;
  } else if (cur.peek() === '+') {
    possessive = true;
    cur.pos++;
  }
  return { text, lazy, possessive, end };
}

/** Perl 5.34+: {n} {n,} {n,m} {,m}, blanks allowed inside the braces. */
function braceQuantifier(cur: Cursor, at: number): { text: string; end: number } | null {
  const m = /^\{[ \t]*(\d*)[ \t]*(?:(,)[ \t]*(\d*)[ \t]*)?\}/.exec(cur.src.slice(at, at + 64));
  if (!m) return null;
  const [whole, min = '', comma, max = ''] = m;
  if (min === '' && max === '') return null; // {} and {,} are literal text
  if (min !== '' && max !== '' && Number(min) > Number(max)) {
    cur.fail("Can't do {n,m} with n > m", at + whole.length);
  }
  const text = comma ? `{${min === '' ? '0' : Number(min)},${max === '' ? '' : Number(max)}}` : `{${Number(min)}}`;
  return { text, end: at + whole.length };
}

/** True when a quantifier can follow the text directly (one char, escape, class or whole group). */
export function isUnit(text: string): boolean {
  if (/^(?:[A-Za-z0-9_]|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\[dDwW])$/.test(text)) return true;
  if (text.startsWith('[')) return text.indexOf(']') === text.length - 1;
  // Zero-width groups cannot take a quantifier in JavaScript; wrap them.
  if (!text.startsWith('(') || /^\(\?(?:=|!|<=|<!)/.test(text)) return false;
  let depth = 0;
  for (let k = 0; k < text.length; k++) {
    const ch = text[k];
    if (ch === '\\') {
      k++;
    } else if (ch === '[') {
      while (k < text.length && text[k] !== ']') k += text[k] === '\\' ? 2 : 1;
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      depth--;
      if (depth === 0) return k === text.length - 1;
    }
  }
  return false;
}
