// What can be known about a translated receive regex without running it, so that
// matching can take a path whose cost is bounded before it starts:
//
// - `literal`: the whole pattern is a fixed byte string, so `subject =~ /receive/` is a
//   substring search (linear, never backtracks);
// - `required`: byte strings that every match contains, so a subject missing one of
//   them cannot match (this is how Perl answers `status.*up` against a body without
//   "up" at once, where a backtracking engine scans quadratically);
// - `workBound(n)`: an upper bound on the steps a backtracking engine can take on a
//   subject of n bytes, or Infinity when no useful bound exists (nested or ambiguous
//   unbounded repetition, which is where backtracking turns exponential).
//
// The input is the JavaScript source that regex.ts emits, not arbitrary JavaScript:
// that translator writes every literal byte as [A-Za-z0-9_] or an escape, so any other
// character is a metacharacter. A construct this parser does not know makes the
// analysis give up (no literal, nothing required, no bound), which is always safe.

export interface ReceivePlan {
  /** The pattern matches exactly this byte string (latin1), anywhere in the subject. */
  readonly literal: string | null;
  /** Byte strings (latin1) that occur in every subject the pattern matches, longest first. */
  readonly required: readonly string[];
  /** Upper bound on backtracking steps over a subject of `n` bytes (Infinity: none known). */
  workBound(n: number): number;
}

type Node =
  | { readonly t: 'char'; readonly c: string }
  | { readonly t: 'set' } // a class, \d, \w ...: one byte, not a fixed one
  | { readonly t: 'assert' } // ^ $ \b \B: zero width
  | { readonly t: 'backref' }
  | { readonly t: 'seq'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly branches: readonly Node[] }
  | { readonly t: 'group'; readonly body: Node } // capturing or not
  | { readonly t: 'look'; readonly positive: boolean; readonly body: Node }
  | { readonly t: 'quant'; readonly min: number; readonly max: number; readonly body: Node };

const UNKNOWN: ReceivePlan = { literal: null, required: [], workBound: () => Infinity };

/** At most this many required strings are kept: each costs one scan of the subject. */
const MAX_REQUIRED = 3;

export function planReceive(jsSource: string): ReceivePlan {
  let root: Node;
  try {
    root = new Parser(jsSource).parse();
  } catch {
    return UNKNOWN;
  }
  const facts = literalFacts(root);
  const required = [...new Set([...facts.required, ...(facts.exact ? [facts.exact] : [])])]
    .filter((s) => s.length > 0)
    .sort((a, b) => b.length - a.length)
    .slice(0, MAX_REQUIRED);
  return {
    literal: facts.pure ? facts.exact : null,
    required,
    workBound: (n: number) => {
      const p = paths(root, n);
      if (!Number.isFinite(p)) return Infinity;
      return (n + 1) * p * (steps(root, n) + 1);
    },
  };
}

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.pos !== this.src.length) throw new Error('unbalanced )');
    return node;
  }

  private alternation(): Node {
    const branches = [this.sequence()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? (branches[0] as Node) : { t: 'alt', branches };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined || c === '|' || c === ')') break;
      items.push(this.quantified(this.atom()));
    }
    return { t: 'seq', items };
  }

  private quantified(atom: Node): Node {
    const m = /^(?:([*+?])|\{(\d+)(?:(,)(\d*))?\})\??/.exec(this.src.slice(this.pos, this.pos + 32));
    if (!m) return atom;
    this.pos += m[0].length;
    let min: number;
    let max: number;
    if (m[1] !== undefined) {
      min = m[1] === '+' ? 1 : 0;
      max = m[1] === '?' ? 1 : Infinity;
    } else {
      min = Number(m[2]);
      max = m[3] === undefined ? min : m[4] === '' ? Infinity : Number(m[4]);
    }
    return { t: 'quant', min, max, body: atom };
  }

  private atom(): Node {
    const c = this.src[this.pos] as string;
    if (/[A-Za-z0-9_]/.test(c)) {
      this.pos++;
      return { t: 'char', c };
    }
    if (c === '^' || c === '$') {
      this.pos++;
      return { t: 'assert' };
    }
    if (c === '[') return this.charClass();
    if (c === '(') return this.group();
    if (c === '\\') return this.escape();
    throw new Error(`unexpected ${c}`);
  }

  private charClass(): Node {
    this.pos++;
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) throw new Error('unterminated class');
      this.pos += c === '\\' ? 2 : 1;
      if (c === ']') return { t: 'set' };
    }
  }

  private group(): Node {
    const m = /^\((\?(?::|=|!|<=|<!|<[A-Za-z_]\w*>))?/.exec(this.src.slice(this.pos, this.pos + 64)) as RegExpExecArray;
    this.pos += m[0].length;
    const body = this.alternation();
    if (this.src[this.pos] !== ')') throw new Error('unterminated group');
    this.pos++;
    const kind = m[1];
    if (kind === '?=' || kind === '?<=') return { t: 'look', positive: true, body };
    if (kind === '?!' || kind === '?<!') return { t: 'look', positive: false, body };
    return { t: 'group', body };
  }

  private escape(): Node {
    const rest = this.src.slice(this.pos, this.pos + 64);
    let m: RegExpExecArray | null;
    if ((m = /^\\x([0-9a-f]{2})/.exec(rest)) || (m = /^\\u([0-9a-f]{4})/.exec(rest))) {
      this.pos += m[0].length;
      return { t: 'char', c: String.fromCharCode(parseInt(m[1] as string, 16)) };
    }
    if ((m = /^\\([rn])/.exec(rest))) {
      this.pos += 2;
      return { t: 'char', c: m[1] === 'r' ? '\r' : '\n' };
    }
    if (/^\\[dDwW]/.test(rest)) {
      this.pos += 2;
      return { t: 'set' };
    }
    if (/^\\[bB]/.test(rest)) {
      this.pos += 2;
      return { t: 'assert' };
    }
    if ((m = /^\\(?:[1-9]\d*|k<[A-Za-z_]\w*>)/.exec(rest))) {
      this.pos += m[0].length;
      return { t: 'backref' };
    }
    throw new Error(`unknown escape ${rest.slice(0, 2)}`);
  }
}

interface LiteralFacts {
  /** Every match of the node consumes exactly this string. */
  readonly exact: string | null;
  /** The node makes no test other than its bytes (no assertion, no lookaround). */
  readonly pure: boolean;
  /** Strings every match of the node contains. */
  readonly required: readonly string[];
}

function literalFacts(node: Node): LiteralFacts {
  switch (node.t) {
    case 'char':
      return { exact: node.c, pure: true, required: [] };
    case 'set':
    case 'backref':
      return { exact: null, pure: false, required: [] };
    case 'assert':
      return { exact: '', pure: false, required: [] };
    case 'group':
      return literalFacts(node.body);
    case 'look':
      // A positive lookaround's match lies in the subject too, but it fixes no text at this place.
      return node.positive
        ? { exact: null, pure: false, required: allRequired(literalFacts(node.body)) }
        : { exact: '', pure: false, required: [] };
    case 'quant': {
      if (node.min === 0) return { exact: null, pure: false, required: [] };
      const inner = literalFacts(node.body);
      if (inner.exact !== null && node.min === node.max) {
        return { exact: inner.exact.repeat(node.min), pure: inner.pure, required: inner.required };
      }
      return { exact: null, pure: false, required: allRequired(inner) };
    }
    case 'alt': {
      const each = node.branches.map((b) => allRequired(literalFacts(b)));
      const [first = [], ...others] = each;
      return { exact: null, pure: false, required: first.filter((s) => others.every((o) => o.includes(s))) };
    }
    case 'seq': {
      const required: string[] = [];
      let run = '';
      let exact = true;
      let pure = true;
      for (const item of node.items) {
        const f = literalFacts(item);
        pure &&= f.pure;
        required.push(...f.required);
        // Zero-width items (exact '') keep the run: what they test consumes nothing, so
        // the bytes on either side are adjacent in the subject.
        if (f.exact !== null) {
          run += f.exact;
        } else {
          exact = false;
          required.push(run);
          run = '';
        }
      }
      if (exact) return { exact: run, pure, required };
      required.push(run);
      return { exact: null, pure: false, required };
    }
  }
}

function allRequired(f: LiteralFacts): string[] {
  return [...f.required, ...(f.exact ? [f.exact] : [])].filter((s) => s.length > 0);
}

const CAP = 1e15;

/**
 * How many ways a backtracking engine can match `node` from one position (the leaves of
 * its search tree there). A repetition runs at most n + min times, because JavaScript
 * ends a loop whose optional iteration consumed nothing.
 */
function paths(node: Node, n: number): number {
  switch (node.t) {
    case 'char':
    case 'set':
    case 'assert':
    case 'backref':
      return 1;
    case 'group':
    case 'look':
      return paths(node.body, n);
    case 'seq':
      return capped(node.items.reduce((p, item) => p * paths(item, n), 1));
    case 'alt':
      return capped(node.branches.reduce((p, b) => p + paths(b, n), 0));
    case 'quant': {
      const inner = paths(node.body, n);
      const top = Math.min(node.max, node.min + n);
      if (inner === 1) return capped(top - node.min + 1);
      if (!Number.isFinite(inner) || top * Math.log2(Math.max(inner, 2)) > 50) return Infinity;
      let total = 0;
      for (let r = node.min; r <= top; r++) total += inner ** r;
      return capped(total);
    }
  }
}

/** Longest root-to-leaf walk through `node` (each step at most one byte or one test). */
function steps(node: Node, n: number): number {
  switch (node.t) {
    case 'char':
    case 'set':
    case 'assert':
      return 1;
    case 'backref':
      return n + 1;
    case 'group':
    case 'look':
      return steps(node.body, n) + 1;
    case 'seq':
      return capped(node.items.reduce((s, item) => s + steps(item, n), 1));
    case 'alt':
      return capped(node.branches.reduce((s, b) => s + steps(b, n), 1));
    case 'quant':
      return capped((Math.min(node.max, node.min + n) + 1) * steps(node.body, n));
  }
}

function capped(x: number): number {
  return x > CAP ? Infinity : x;
}
