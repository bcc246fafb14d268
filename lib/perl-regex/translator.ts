// The translation proper: reads the Perl pattern construct by construct and writes the
// JavaScript pattern with the same meaning. It runs in passes over the same source
// (see regex.ts): what a later construct needs to know about the whole pattern (the
// group count, which atoms are possessive, Perl -> JavaScript group numbers) is
// gathered in pass 1 into a Plan that pass 2 reads.
import { charClass } from './char-class.js';
import { charEscape, namedChar, octal } from './char-escapes.js';
import { classText, complement, HSPACE, literal, SPACE, VSPACE } from './char-sets.js';
import { Cursor, PerlSyntaxError } from './cursor.js';
import { applyFlags, DEFAULT_FLAGS, inlineFlags, type Flags } from './flags.js';
import { isUnit, quantifierAhead, readQuantifier } from './quantifiers.js';

export interface Plan {
  /** Source offsets of atoms that carry a possessive quantifier (found in pass 1). */
  readonly possessive: Set<number>;
  /** Number of capture groups in Perl's numbering (-1 until the first pass has counted). */
  userGroups: number;
  /** Perl group number -> JavaScript group number (they differ once atomic groups are emulated). */
  readonly userToOut: Map<number, number>;
  readonly names: Set<string>;
}

interface Atom {
  readonly text: string;
  /** False for things a quantifier cannot follow (nothing was emitted). */
  readonly quantifiable: boolean;
}

export class Translator extends Cursor {
  private userCount = 0;
  private outCount = 0;

  constructor(
    src: string,
    private readonly plan: Plan,
    private readonly pass: 1 | 2,
  ) {
    super(src);
  }

  run(): string {
    const text = this.body(DEFAULT_FLAGS);
    if (this.pos < this.src.length) {
      // body() stops only at ')' when at top level.
      throw new PerlSyntaxError('Unmatched )', this.pos + 1);
    }
    if (this.pass === 1) this.plan.userGroups = this.userCount;
    return text;
  }

  /** A sequence of alternatives up to an unconsumed ')' or the end. */
  private body(outer: Flags): string {
    let flags = outer;
    let out = '';
    for (;;) {
      this.skipTrivia(flags.x);
      const c = this.peek();
      if (c === undefined || c === ')') return out;
      if (c === '|') {
        this.pos++;
        out += '|';
        continue;
      }
      const inline = inlineFlags(this, flags);
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
    this.skipTrivia(flags.x);
    const quant = readQuantifier(this);
    if (!quant) return atom.text;
    if (!atom.quantifiable) this.fail('Quantifier follows nothing', quant.end);
    this.skipTrivia(flags.x);
    if (quantifierAhead(this)) this.fail('Nested quantifiers', this.pos + 1);
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

  private atom(flags: Flags): Atom {
    const c = this.peek() as string;
    switch (c) {
      case '(':
        return this.group(flags);
      case '[':
        return { text: charClass(this, flags), quantifiable: true };
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

  private group(flags: Flags): Atom {
    const open = this.pos;
    if (this.startsWith('(*')) return this.starGroup(flags);
    if (!this.startsWith('(?')) {
      this.pos++;
      if (flags.n) return { text: `(?:${this.closeGroup(flags, open)})`, quantifiable: true };
      return { text: `(${this.capture(flags, open, undefined)})`, quantifiable: true };
    }
    const rest = this.src.slice(this.pos + 2, this.pos + 40);
    const simple: Array<[string, string]> = [
      [':', '(?:'],
      ['=', '(?='],
      ['!', '(?!'],
      ['<=', '(?<='],
      ['<!', '(?<!'],
    ];
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
      const inner = applyFlags(this, flags, scoped[1] === '^', scoped[2] ?? '', scoped[3], this.pos + 2);
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
      pla: '(?=',
      positive_lookahead: '(?=',
      nla: '(?!',
      negative_lookahead: '(?!',
      plb: '(?<=',
      positive_lookbehind: '(?<=',
      nlb: '(?<!',
      negative_lookbehind: '(?<!',
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
        if (this.peek() === '{') return text(literal(namedChar(this), flags.i));
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
        return this.fail(`\\${c} is not applied to a receive string (Perl reads it as a literal "${c}"); escape the characters instead`);
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
      return text(literal(octal(this, 3), flags.i));
    }
    this.pos--;
    const code = charEscape(this);
    if (code === null) {
      return this.fail(`Unrecognized escape \\${c} (Perl reads it as a literal "${c}"); write "${c}" instead`, this.pos + 1);
    }
    return text(literal(code, flags.i));
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
}
