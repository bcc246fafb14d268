// Character sets as sorted byte ranges: Perl's own \s \h \v \d \w and POSIX sets (which
// differ from JavaScript's), set algebra for classes, and how a char or a set is written
// in the JavaScript pattern.
export type Range = [number, number];

const MAX_CODE = 0xffff;
export const SPACE: Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
]; // Perl \s (5.18+): \t \n \cK \f \r and space
export const HSPACE: Range[] = [
  [0x09, 0x09],
  [0x20, 0x20],
  [0xa0, 0xa0],
];
export const VSPACE: Range[] = [
  [0x0a, 0x0d],
  [0x85, 0x85],
  [0x2028, 0x2029],
];
export const DIGIT: Range[] = [[0x30, 0x39]];
export const WORD: Range[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];

// POSIX classes as Perl applies them to byte strings (ASCII rules).
export const POSIX: Record<string, Range[]> = {
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  digit: DIGIT,
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  upper: [[0x41, 0x5a]],
  lower: [[0x61, 0x7a]],
  space: SPACE,
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  print: [[0x20, 0x7e]],
  graph: [[0x21, 0x7e]],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
  word: WORD,
  ascii: [[0x00, 0x7f]],
};

function hex(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A char as a JS regex atom outside a class. */
export function literal(code: number, i: boolean): string {
  if (i && ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a))) {
    const lower = code | 0x20;
    return `[${String.fromCharCode(lower - 0x20)}${String.fromCharCode(lower)}]`;
  }
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f) {
    return String.fromCharCode(code);
  }
  return hex(code);
}

export function normalise(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

export function complement(ranges: readonly Range[]): Range[] {
  const result: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalise(ranges)) {
    if (lo > next) result.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE) result.push([next, MAX_CODE]);
  return result;
}

/** Add the other ASCII case of every letter in the set (Perl /i on byte strings). */
export function foldAscii(ranges: readonly Range[]): Range[] {
  const extra: Range[] = [];
  for (const [lo, hi] of ranges) {
    for (const [a, b, delta] of [
      [0x41, 0x5a, 0x20],
      [0x61, 0x7a, -0x20],
    ] as const) {
      const from = Math.max(lo, a);
      const to = Math.min(hi, b);
      if (from <= to) extra.push([from + delta, to + delta]);
    }
  }
  return normalise([...ranges, ...extra]);
}

export function classText(ranges: readonly Range[]): string {
  const set = normalise(ranges);
  if (set.length === 0) return '[^\\x00-\\uffff]';
  let body = '';
  for (const [lo, hi] of set) {
    body += lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`;
  }
  return `[${body}]`;
}
