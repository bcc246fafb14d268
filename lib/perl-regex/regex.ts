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

export type PerlRegexTranslation =
  | { readonly ok: true; readonly regex: RegExp }
  | { readonly ok: false; readonly error: string };

/** The subject as Perl sees it: one char per byte. Strings are taken as UTF-8 text. */
export function perlBytes(subject: string | Uint8Array): string {
  if (typeof subject === 'string') {
    // Pure ASCII strings are their own byte string; avoid the copy.
    // eslint-disable-next-line no-control-regex
    return /^[\x00-\x7f]*$/.test(subject) ? subject : Buffer.from(subject, 'utf8').toString('latin1');
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

class PerlSyntaxError extends Error {
  constructor(message: string, readonly pos: number) {
    super(message);
  }
}

interface Plan {
  /** Source offsets of atoms that carry a possessive quantifier (found in pass 1). */
  readonly possessive: Set<number>;
  /** Number of capture groups in Perl's numbering (-1 until the first pass has counted). */
  userGroups: number;
  /** Perl group number -> JavaScript group number (they differ once atomic groups are emulated). */
  readonly userToOut: Map<number, number>;
  readonly names: Set<string>;
}

interface Flags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
  readonly x: boolean;
  readonly xx: boolean;
  readonly n: boolean;
}

const DEFAULT_FLAGS: Flags = { i: false, m: false, s: false, x: false, xx: false, n: false };

interface Atom {
  readonly text: string;
  /** False for things a quantifier cannot follow (nothing was emitted). */
  readonly quantifiable: boolean;
}

type Range = [number, number];

const MAX_CODE = 0xffff;
const SPACE: Range[] = [[0x09, 0x0d], [0x20, 0x20]]; // Perl \s (5.18+): \t \n \cK \f \r and space
const HSPACE: Range[] = [[0x09, 0x09], [0x20, 0x20], [0xa0, 0xa0]];
const VSPACE: Range[] = [[0x0a, 0x0d], [0x85, 0x85], [0x2028, 0x2029]];
const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];

// POSIX classes as Perl applies them to byte strings (ASCII rules).
const POSIX: Record<string, Range[]> = {
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  digit: DIGIT,
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  upper: [[0x41, 0x5a]],
  lower: [[0x61, 0x7a]],
  space: SPACE,
  blank: [[0x09, 0x09], [0x20, 0x20]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  print: [[0x20, 0x7e]],
  graph: [[0x21, 0x7e]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
  word: WORD,
  ascii: [[0x00, 0x7f]],
};

const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9]$/.test(c);

function hex(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A char as a JS regex atom outside a class. */
function literal(code: number, i: boolean): string {
  if (i && ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a))) {
    const lower = code | 0x20;
    return `[${String.fromCharCode(lower - 0x20)}${String.fromCharCode(lower)}]`;
  }
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f) {
    return String.fromCharCode(code);
  }
  return hex(code);
}

function normalise(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const [lo, hi] of sorted) {
    const last = merged[merged.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  }
  return merged;
}

function complement(ranges: readonly Range[]): Range[] {
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
function foldAscii(ranges: readonly Range[]): Range[] {
  const extra: Range[] = [];
  for (const [lo, hi] of ranges) {
    for (const [a, b, delta] of [[0x41, 0x5a, 0x20], [0x61, 0x7a, -0x20]] as const) {
      const from = Math.max(lo, a);
      const to = Math.min(hi, b);
      if (from <= to) extra.push([from + delta, to + delta]);
    }
  }
  return normalise([...ranges, ...extra]);
}

function classText(ranges: readonly Range[]): string {
  const set = normalise(ranges);
  if (set.length === 0) return '[^\\x00-\\uffff]';
  let body = '';
  for (const [lo, hi] of set) {
    body += lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`;
  }
  return `[${body}]`;
}

class Translator {
  private pos = 0;
  private userCount = 0;
  private outCount = 0;

  constructor(
    private readonly src: string,
    private readonly plan: Plan,
    private readonly pass: 1 | 2,
  ) {}

  run(): string {
    const text = this.body(DEFAULT_FLAGS);
    if (this.pos < this.src.length) {
      // body() stops only at ')' when at top level.
      throw new PerlSyntaxError('Unmatched )', this.pos + 1);
    }
    if (this.pass === 1) this.plan.userGroups = this.userCount;
    return text;
  }

  private fail(message: string, at = this.pos): never {
    throw new PerlSyntaxError(message, Math.min(at, this.src.length));
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private startsWith(text: string): boolean {
    return this.src.startsWith(text, this.pos);
  }

  /** Skip (?#...) comments always, and whitespace and #-comments under /x. */
  private skipTrivia(flags: Flags): void {
    for (;;) {
      if (this.startsWith('(?#')) {
        const end = this.src.indexOf(')', this.pos);
        if (end < 0) this.fail('Sequence (?#... not terminated');
        this.pos = end + 1;
        continue;
      }
      if (!flags.x) return;
      const c = this.peek();
      if (c !== undefined && ' \t\n\r\f\x0b'.includes(c)) {
        this.pos++;
        continue;
      }
      if (c === '#') {
        const end = this.src.indexOf('\n', this.pos);
        this.pos = end < 0 ? this.src.length : end + 1;
        continue;
      }
      return;
    }
  }

  /** A sequence of alternatives up to an unconsumed ')' or the end. */
  private body(outer: Flags): string {
    let flags = outer;
    let out = '';
    for (;;) {
      this.skipTrivia(flags);
      const c = this.peek();
      if (c === undefined || c === ')') return out;
      if (c === '|') {
        this.pos++;
        out += '|';
        continue;
      }
      const inline = this.inlineFlags(flags);
      if (inline) {
        flags = inline;
        continue;
      }
      out += this.quantifiedAtom(flags);
    }
  }

  private quantifiedAtom(flags: Flags): string {
    const start = this.pos;
    let atomicGroup = 0;
    if (this.pass === 2 && this.plan.possessive.has(start)) atomicGroup = ++this.outCount;
    const atom = this.atom(flags);
    this.skipTrivia(flags);
    const quant = this.quantifier();
    if (!quant) return atom.text;
    if (!atom.quantifiable) this.fail('Quantifier follows nothing', quant.end);
    this.skipTrivia(flags);
    if (this.quantifierAhead()) this.fail('Nested quantifiers', this.pos + 1);
    const unit = isUnit(atom.text) ? atom.text : `(?:${atom.text})`;
    if (quant.possessive) {
      if (this.pass === 1) {
        this.plan.possessive.add(start);
        return `${unit}${quant.text}`;
      }
      if (atomicGroup === 0) throw new Error(`regex translation: unplanned possessive quantifier at ${start}`);
      return `(?:(?=(${unit}${quant.text}))\\${atomicGroup})`;
    }
    return `${unit}${quant.text}${quant.lazy ? '?' : ''}`;
  }

  private quantifierAhead(): boolean {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') return true;
    return c === '{' && this.braceQuantifier(this.pos) !== null;
  }

  private quantifier(): { text: string; lazy: boolean; possessive: boolean; end: number } | null {
    const c = this.peek();
    let text: string;
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      text = c;
    } else if (c === '{') {
      const brace = this.braceQuantifier(this.pos);
      if (!brace) return null;
      this.pos = brace.end;
      text = brace.text;
    } else {
      return null;
    }
    const end = this.pos;
    let lazy = false;
    let possessive = false;
    if (this.peek() === '?') {
      lazy = true;
      this.pos++;
    } else if (this.peek() === '+') {
      possessive = true;
      this.pos++;
    }
    return { text, lazy, possessive, end };
  }

  /** Perl 5.34+: {n} {n,} {n,m} {,m}, blanks allowed inside the braces. */
  private braceQuantifier(at: number): { text: string; end: number } | null {
    const m = /^\{[ \t]*(\d*)[ \t]*(?:(,)[ \t]*(\d*)[ \t]*)?\}/.exec(this.src.slice(at, at + 64));
    if (!m) return null;
    const [whole, min = '', comma, max = ''] = m;
    if (min === '' && max === '') return null; // {} and {,} are literal text
    if (min !== '' && max !== '' && Number(min) > Number(max)) {
      this.fail("Can't do {n,m} with n > m", at + whole.length);
    }
    const text = comma ? `{${min === '' ? '0' : Number(min)},${max === '' ? '' : Number(max)}}` : `{${Number(min)}}`;
    return { text, end: at + whole.length };
  }

  private atom(flags: Flags): Atom {
    const c = this.peek() as string;
    switch (c) {
      case '(':
        return this.group(flags);
      case '[':
        return { text: this.charClass(flags), quantifiable: true };
      case '.':
        this.pos++;
        return { text: flags.s ? '[\\s\\S]' : '[^\\n]', quantifiable: true };
      case '^':
        this.pos++;
        return { text: flags.m ? '(?:^|(?<=\\n)(?!$))' : '^', quantifiable: true };
      case '$':
        this.pos++;
        return { text: flags.m ? '(?=\\n|$)' : '(?=\\n?$)', quantifiable: true };
      case '\\':
        return this.escape(flags);
      case '*':
      case '+':
      case '?':
        return this.fail('Quantifier follows nothing', this.pos + 1);
      default:
        this.pos++;
        return { text: literal(c.charCodeAt(0), flags.i), quantifiable: true };
    }
  }

  // ---- groups ---------------------------------------------------------------------

  /** `(?flags)` with no body: returns the new flags, or null if this is not one. */
  private inlineFlags(flags: Flags): Flags | null {
    if (!this.startsWith('(?')) return null;
    const m = /^\(\?(\^?)([imsxnpoadlu]*)(?:-([imsxnpoadlu]*))?\)/.exec(this.src.slice(this.pos, this.pos + 40));
    if (!m) return null;
    const next = this.applyFlags(flags, m[1] === '^', m[2] ?? '', m[3], this.pos + 2);
    this.pos += m[0].length;
    return next;
  }

  private applyFlags(flags: Flags, caret: boolean, on: string, off: string | undefined, at: number): Flags {
    if (caret && off !== undefined) this.fail('Sequence (?^-...) not recognized', at);
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
            if (!value) this.fail('Regexp modifier "a" may not appear after the "-"', at);
            break;
          case 'u':
          case 'l':
            this.fail(`the (?${f}) character-set modifier is not supported (receive is matched against bytes)`, at);
            break;
          default:
            this.fail(`Sequence (?${letters}...) not recognized`, at);
        }
      }
    };
    set(on, true);
    if (off !== undefined) set(off, false);
    next = { ...next };
    return next;
  }

  private group(flags: Flags): Atom {
    const open = this.pos;
    if (this.startsWith('(*')) return this.starGroup(flags);
    if (!this.startsWith('(?')) {
      this.pos++;
      if (flags.n) return { text: `(?:${this.closeGroup(flags, open)})`, quantifiable: true };
      return { text: `(${this.capture(flags, open, undefined)})`, quantifiable: true };
    }
    const rest = this.src.slice(this.pos + 2, this.pos + 40);
    const simple: Array<[string, string]> = [[':', '(?:'], ['=', '(?='], ['!', '(?!'], ['<=', '(?<='], ['<!', '(?<!']];
    for (const [marker, js] of simple) {
      if (rest.startsWith(marker)) {
        this.pos += 2 + marker.length;
        return { text: `${js}${this.closeGroup(flags, open)})`, quantifiable: true };
      }
    }
    if (rest.startsWith('>')) {
      this.pos += 3;
      return { text: this.atomic(flags, open), quantifiable: true };
    }
    const named = /^(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|P<([A-Za-z_]\w*)>)/.exec(rest);
    if (named) {
      const name = (named[1] ?? named[2] ?? named[3]) as string;
      this.pos += 2 + named[0].length;
      return { text: `(?<${name}>${this.capture(flags, open, name)})`, quantifiable: true };
    }
    const pBackref = /^P=([A-Za-z_]\w*)\)/.exec(rest);
    if (pBackref) {
      this.pos += 2 + pBackref[0].length;
      return { text: this.namedBackref(pBackref[1] as string, flags, open), quantifiable: true };
    }
    const scoped = /^(\^?)([imsxnpoadlu]*)(?:-([imsxnpoadlu]*))?:/.exec(rest);
    if (scoped) {
      const inner = this.applyFlags(flags, scoped[1] === '^', scoped[2] ?? '', scoped[3], this.pos + 2);
      this.pos += 2 + scoped[0].length;
      return { text: `(?:${this.closeGroup(inner, open)})`, quantifiable: true };
    }
    const c = rest[0];
    if (c === '#') {
      // Only reached through atom() when skipTrivia did not see it; cannot happen.
      this.fail('Sequence (?#... not terminated');
    }
    const unsupported: Array<[RegExp, string]> = [
      [/^\??\{/, 'embedded Perl code (?{...}) is not supported'],
      [/^\|/, 'branch reset groups (?|...) are not supported'],
      [/^\(/, 'conditional groups (?(...)...) are not supported'],
      [/^(?:R|[+-]?\d|&|P>)/, 'recursion and subroutine calls are not supported'],
      [/^\[/, 'extended bracketed character classes (?[...]) are not supported'],
    ];
    for (const [re, message] of unsupported) {
      if (re.test(rest)) this.fail(message, this.pos + 2);
    }
    return this.fail(`Sequence (?${c ?? ''}...) not recognized`, this.pos + 3);
  }

  private starGroup(flags: Flags): Atom {
    const open = this.pos;
    const m = /^\(\*([a-z_]+):/.exec(this.src.slice(this.pos, this.pos + 40));
    const alpha: Record<string, string> = {
      pla: '(?=', positive_lookahead: '(?=',
      nla: '(?!', negative_lookahead: '(?!',
      plb: '(?<=', positive_lookbehind: '(?<=',
      nlb: '(?<!', negative_lookbehind: '(?<!',
    };
    if (m) {
      const name = m[1] as string;
      this.pos += m[0].length;
      const js = alpha[name];
      if (js) return { text: `${js}${this.closeGroup(flags, open)})`, quantifiable: true };
      if (name === 'atomic') return { text: this.atomic(flags, open), quantifiable: true };
      this.fail(`(*${name}:...) is not supported`, open + 2);
    }
    return this.fail('backtracking control verbs (*VERB) are not supported', open + 2);
  }

  /** Body and ')' of a group whose opening has been consumed. */
  private closeGroup(flags: Flags, open: number): string {
    const text = this.body(flags);
    if (this.peek() !== ')') this.fail('Missing right paren', open + 1);
    this.pos++;
    return text;
  }

  private capture(flags: Flags, open: number, name: string | undefined): string {
    const user = ++this.userCount;
    const out = ++this.outCount;
    if (this.pass === 1) {
      this.plan.userToOut.set(user, out);
      if (name !== undefined) {
        if (this.plan.names.has(name)) {
          this.fail(`a group name used twice (<${name}>) is not supported`, open + 1);
        }
        this.plan.names.add(name);
      }
    }
    return this.closeGroup(flags, open);
  }

  /** (?>X) == (?=(X))\N: the lookahead cannot be backtracked into. */
  private atomic(flags: Flags, open: number): string {
    const group = ++this.outCount;
    return `(?:(?=(${this.closeGroup(flags, open)}))\\${group})`;
  }

  // ---- escapes --------------------------------------------------------------------

  private escape(flags: Flags): Atom {
    const at = this.pos;
    this.pos++;
    const c = this.peek();
    if (c === undefined) this.fail('Trailing \\', at);
    this.pos++;
    const text = (t: string): Atom => ({ text: t, quantifiable: true });
    switch (c) {
      case 'A':
      case 'G': // no /g: \G is the start of the subject
        return text('^');
      case 'z':
        return text('$');
      case 'Z':
        return text('(?=\\n?$)');
      case 'b':
      case 'B':
        if (this.peek() === '{') this.fail(`\\${c}{...} boundaries are not supported`);
        return text(`\\${c}`);
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return text(`\\${c}`);
      case 's':
        return text(classText(SPACE));
      case 'S':
        return text(classText(complement(SPACE)));
      case 'h':
        return text(classText(HSPACE));
      case 'H':
        return text(classText(complement(HSPACE)));
      case 'v':
        return text(classText(VSPACE));
      case 'V':
        return text(classText(complement(VSPACE)));
      case 'R':
        return text(`(?:\\r\\n|(?!\\r\\n)${classText(VSPACE)})`);
      case 'N':
        if (this.peek() === '{') return text(literal(this.namedChar(), flags.i));
        return text('[^\\n]');
      case 'K':
        return this.fail('\\K is not supported');
      case 'X':
        return this.fail('\\X (extended grapheme cluster) is not supported');
      case 'C':
        return this.fail('\\C is not supported');
      case 'p':
      case 'P':
        return this.fail(`Unicode properties \\${c}{...} are not supported (receive is matched against bytes)`);
      case 'Q':
      case 'E':
      case 'U':
      case 'L':
      case 'u':
      case 'l':
      case 'F':
        return this.fail(
          `\\${c} is not applied to a receive string (Perl reads it as a literal "${c}"); escape the characters instead`,
        );
      case 'g':
        return text(this.gBackref(flags, at));
      case 'k': {
        const m = /^(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{([A-Za-z_]\w*)\})/.exec(this.src.slice(this.pos, this.pos + 40));
        if (!m) this.fail('Sequence \\k... not terminated');
        this.pos += m[0].length;
        return text(this.namedBackref((m[1] ?? m[2] ?? m[3]) as string, flags, at));
      }
      default:
        break;
    }
    if (c >= '1' && c <= '9') {
      this.pos--;
      const digits = /^\d+/.exec(this.src.slice(this.pos))?.[0] as string;
      const n = Number(digits);
      if (n < 10 || n <= this.plan.userGroups) {
        this.pos += digits.length;
        return text(this.numberedBackref(n, flags, at));
      }
      if (c === '8' || c === '9') {
        if (this.plan.userGroups >= 0) this.fail('Reference to nonexistent group', this.pos + digits.length);
        this.pos += digits.length;
        return text('(?:)');
      }
      return text(literal(this.octal(3), flags.i));
    }
    this.pos--;
    const code = this.charEscape();
    if (code === null) {
      return this.fail(`Unrecognized escape \\${c} (Perl reads it as a literal "${c}"); write "${c}" instead`, this.pos + 1);
    }
    return text(literal(code, flags.i));
  }

  /**
   * Escapes that denote one char, with this.pos on the char after the backslash.
   * Returns null (consuming nothing) for an unrecognised letter escape.
   */
  private charEscape(inClass = false): number | null {
    const c = this.peek() as string;
    const simple: Record<string, number> = { t: 9, n: 10, r: 13, f: 12, e: 0x1b, a: 7 };
    if (inClass) simple.b = 8;
    if (simple[c] !== undefined) {
      this.pos++;
      return simple[c] as number;
    }
    switch (c) {
      case '0':
        return this.octal(3);
      case 'o': {
        this.pos++;
        const m = /^\{\s*([0-7_]*)\s*\}/.exec(this.src.slice(this.pos, this.pos + 40));
        if (!m) this.fail('Missing braces on \\o{}');
        this.pos += m[0].length;
        return this.checkCode(parseInt((m[1] ?? '').replace(/_/g, '') || '0', 8));
      }
      case 'x': {
        this.pos++;
        if (this.peek() === '{') {
          const end = this.src.indexOf('}', this.pos);
          if (end < 0) this.fail('Missing right brace on \\x{}');
          const digits = this.src.slice(this.pos + 1, end).trim().replace(/_/g, '');
          const valid = /^[0-9A-Fa-f]*/.exec(digits)?.[0] ?? '';
          this.pos = end + 1;
          return this.checkCode(parseInt(valid || '0', 16));
        }
        const m = /^[0-9A-Fa-f]{0,2}/.exec(this.src.slice(this.pos, this.pos + 2))?.[0] ?? '';
        this.pos += m.length;
        return parseInt(m || '0', 16);
      }
      case 'c': {
        this.pos++;
        const x = this.peek();
        if (x === undefined) this.fail('Character following "\\c" must be printable ASCII');
        this.pos++;
        return x.toUpperCase().charCodeAt(0) ^ 0x40;
      }
      default:
        if (isAlnum(c)) return null;
        this.pos++;
        return c.charCodeAt(0);
    }
  }

  private checkCode(code: number): number {
    if (code > 0xff) this.fail('code points above \\x{FF} are not supported (receive is matched against bytes)');
    return code;
  }

  /** Up to `max` octal digits at this.pos (at least one is present). */
  private octal(max: number): number {
    const m = /^[0-7]*/.exec(this.src.slice(this.pos, this.pos + max))?.[0] ?? '';
    this.pos += m.length;
    return this.checkCode(parseInt(m || '0', 8));
  }

  private namedChar(): number {
    const m = /^\{U\+([0-9A-Fa-f_]+)\}/.exec(this.src.slice(this.pos, this.pos + 40));
    if (!m) this.fail('named characters \\N{NAME} are not supported; use \\x{..}');
    this.pos += m[0].length;
    return this.checkCode(parseInt((m[1] as string).replace(/_/g, ''), 16));
  }

  private gBackref(flags: Flags, at: number): string {
    const m = /^(?:\{\s*(-?\d+)\s*\}|(-?\d+)|\{([A-Za-z_]\w*)\})/.exec(this.src.slice(this.pos, this.pos + 40));
    if (!m) return this.fail('Unterminated \\g... pattern');
    this.pos += m[0].length;
    if (m[3] !== undefined) return this.namedBackref(m[3], flags, at);
    let n = Number(m[1] ?? m[2]);
    if (n === 0) this.fail('Reference to invalid group 0');
    if (n < 0) {
      n = this.userCount + 1 + n;
      if (n <= 0) this.fail('Reference to nonexistent or unclosed group');
    }
    return this.numberedBackref(n, flags, at);
  }

  private numberedBackref(n: number, flags: Flags, at: number): string {
    if (flags.i) this.fail('case-insensitive backreferences are not supported', at);
    if (this.pass === 1) return '(?:)';
    const out = this.plan.userToOut.get(n);
    if (out === undefined) this.fail('Reference to nonexistent group');
    return `(?:\\${out})`;
  }

  private namedBackref(name: string, flags: Flags, at: number): string {
    if (flags.i) this.fail('case-insensitive backreferences are not supported', at);
    if (this.pass === 2 && !this.plan.names.has(name)) this.fail('Reference to nonexistent named group');
    return `(?:\\k<${name}>)`;
  }

  // ---- character classes ------------------------------------------------------------

  private charClass(flags: Flags): string {
    const open = this.pos;
    this.pos++;
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      if (flags.xx) {
        while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
      }
      const c = this.peek();
      if (c === undefined) this.fail('Unmatched [', open + 1);
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const lo = this.classItem();
      if (Array.isArray(lo)) {
        ranges.push(...lo);
        continue;
      }
      // A range a-z unless '-' is last or the other end is a set.
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.classItem();
        if (Array.isArray(hi)) {
          ranges.push([lo, lo], [0x2d, 0x2d], ...hi);
          continue;
        }
        if (hi < lo) this.fail('Invalid [] range', this.pos);
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
  private classItem(): number | Range[] {
    const c = this.peek() as string;
    if (c === '[') {
      const m = /^\[([:=.])(\^?)([a-z]*)\1\]/.exec(this.src.slice(this.pos, this.pos + 20));
      if (m) {
        if (m[1] !== ':') this.fail(`POSIX syntax [${m[1]} ${m[1]}] is reserved for future extensions`, this.pos + 2);
        const set = POSIX[m[3] as string];
        if (!set) this.fail(`POSIX class [:${m[2]}${m[3]}:] unknown`, this.pos + m[0].length);
        this.pos += m[0].length;
        return m[2] ? complement(set) : [...set];
      }
      this.pos++;
      return c.charCodeAt(0);
    }
    if (c !== '\\') {
      this.pos++;
      return c.charCodeAt(0);
    }
    this.pos++;
    const e = this.peek();
    if (e === undefined) this.fail('Unmatched [');
    const sets: Record<string, Range[]> = {
      d: DIGIT, w: WORD, s: SPACE, h: HSPACE, v: VSPACE,
    };
    const lower = e.toLowerCase();
    if (sets[lower] && (e === lower || 'DWSHV'.includes(e))) {
      this.pos++;
      const set = sets[lower] as Range[];
      return e === lower ? [...set] : complement(set);
    }
    if (e === 'N' || e === 'R' || e === 'X' || e === 'K') this.fail(`\\${e} is not allowed in a character class`, this.pos + 1);
    if (e === 'p' || e === 'P') this.fail(`Unicode properties \\${e}{...} are not supported (receive is matched against bytes)`, this.pos + 1);
    if (e >= '1' && e <= '7') return this.octal(3);
    if (e === '8' || e === '9') {
      this.pos++;
      return e.charCodeAt(0);
    }
    const code = this.charEscape(true);
    if (code === null) {
      this.fail(`Unrecognized escape \\${e} in character class (Perl reads it as a literal "${e}"); write "${e}" instead`, this.pos + 1);
    }
    return code;
  }
}

/** True when a quantifier can follow the text directly (one char, escape, class or whole group). */
function isUnit(text: string): boolean {
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
