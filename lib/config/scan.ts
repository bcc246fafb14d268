// Reads the file's lines into global settings and virtual-block drafts, with the
// original's lexical rules (spec §2.1) and the leniencies of §10: where the
// original would reject a line, a forgiving reading is tried and, if it works,
// used with a warning that says what the original does.
import type { Family } from './model.js';
import { LENIENT, MSG } from './messages.js';
import { defaultGlobals, globalDirective, type GlobalDraft } from './global-directives.js';
import type { Outcome } from './outcome.js';
import { newVirtualDraft, virtualDirective, type VirtualDraft } from './virtual-directives.js';

export interface ScanIssue {
  readonly severity: 'error' | 'warning';
  readonly line: number;
  readonly message: string;
}

export interface ScanResult {
  readonly globals: GlobalDraft;
  readonly virtuals: VirtualDraft[];
  readonly issues: ScanIssue[];
}

export interface ScanOptions {
  readonly hostname: string;
  readonly openForAppend: (path: string) => string | null;
  readonly isDirectory: (path: string) => boolean;
  readonly debug: boolean;
}

/** The original cuts a virtual-block line at its first '#', quotes or not. */
function cutAtHash(s: string): string {
  const i = s.indexOf('#');
  return i < 0 ? s : s.slice(0, i);
}

/** Cuts at the first '#' that is outside double quotes. */
function cutAtUnquotedHash(s: string): string {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') quoted = !quoted;
    else if (s[i] === '#' && !quoted) return s.slice(0, i);
  }
  return s;
}

interface Variant {
  readonly text: string;
  readonly warning: string;
}

/**
 * Tries the original's reading first; only if it fails are the forgiving
 * readings tried, so a line the original accepts always means the same here.
 */
function tryLine(strict: string, variants: () => Variant[], handle: (text: string) => Outcome): { outcome: Outcome; warning?: string } {
  const first = handle(strict);
  if ('apply' in first) return { outcome: first };
  const seen = new Set([strict]);
  for (const v of variants()) {
    if (seen.has(v.text)) continue;
    seen.add(v.text);
    const o = handle(v.text);
    if ('apply' in o) return { outcome: o, warning: v.warning };
  }
  return { outcome: first };
}

const VIRTUAL_START = /^virtual(6)?\s*=\s*(.*)/;
const REAL_LINE = /^real(6)?\s*=\s*(.*)/;

function virtualAddress(value: string, family: Family): Parameters<typeof newVirtualDraft>[2] | { error: string } {
  let m: RegExpExecArray | null;
  if (family === 4 && (m = /^(\d+\.\d+\.\d+\.\d+):([0-9A-Za-z_-]+)/.exec(value))) return { ipPort: `${m[1]}:${m[2]}`, portText: m[2]! };
  if ((m = /^([0-9A-Za-z._+-]+):([0-9A-Za-z_-]+)/.exec(value))) return { ipPort: `${m[1]}:${m[2]}`, portText: m[2]! };
  if ((m = /^(\d+)/.exec(value))) return { fwmark: m[1]! };
  if ((m = /^\[([0-9A-Fa-f:]+)\]:([0-9A-Za-z_-]+)/.exec(value))) {
    if (family === 4) return { error: MSG.ipv6InVirtual };
    return { ipPort: `[${m[1]}]:${m[2]}`, portText: m[2]! };
  }
  return { error: MSG.invalidVirtualAddress };
}

export function scanConfig(text: string, opts: ScanOptions): ScanResult {
  const issues: ScanIssue[] = [];
  const globals = defaultGlobals();
  const virtuals: VirtualDraft[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  let crlf = 0;
  let firstCrlf = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.endsWith('\r')) {
      if (crlf++ === 0) firstCrlf = i + 1;
      lines[i] = lines[i]!.slice(0, -1);
    }
  }
  if (crlf > 0) issues.push({ severity: 'warning', line: firstCrlf, message: LENIENT.crlf(crlf) });

  const report = (line: number, res: { outcome: Outcome; warning?: string }): void => {
    const o = res.outcome;
    if ('error' in o) {
      issues.push({ severity: 'error', line, message: o.error });
      return;
    }
    o.apply();
    if (res.warning) issues.push({ severity: 'warning', line, message: res.warning });
    for (const w of o.warnings ?? []) issues.push({ severity: 'warning', line, message: w });
  };

  const isBlank = (s: string): boolean => /^\s*$/.test(s);
  const isComment = (s: string): boolean => /^\s*#/.test(s);
  /** Would the line after index i (skipping blanks and comments) continue a block? */
  const indentedLineFollows = (i: number): boolean => {
    for (let k = i + 1; k < lines.length; k++) {
      const s = lines[k]!;
      if (isBlank(s) || isComment(s)) continue;
      return /^[ \t]/.test(s);
    }
    return false;
  };

  let i = 0;
  while (i < lines.length) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    const start = VIRTUAL_START.exec(raw);
    if (!start) {
      i++;
      if (isBlank(raw) || isComment(raw)) continue;
      // Only trailing whitespace is forgiven at top level (§10); a trailing
      // comment after a yes/no value stays an error, as in the original.
      const variants = (): Variant[] => [{ text: raw.trimEnd(), warning: LENIENT.trailingSpace }];
      report(
        lineNo,
        tryLine(raw, variants, (t) =>
          globalDirective(t, globals, {
            line: lineNo,
            openForAppend: opts.openForAppend,
            isDirectory: opts.isDirectory,
            debug: opts.debug,
          }),
        ),
      );
      continue;
    }

    const family: Family = start[1] ? 6 : 4;
    let address = virtualAddress(start[2]!, family);
    if ('error' in address) {
      issues.push({ severity: 'error', line: lineNo, message: address.error });
      address = { invalid: true };
    } else if ('fwmark' in address && /^\d+\.\d+/.test(start[2]!)) {
      issues.push({ severity: 'warning', line: lineNo, message: LENIENT.fwmarkFromAddress(address.fwmark, start[2]!) });
    }
    const vs = newVirtualDraft(family, lineNo, address);
    virtuals.push(vs);

    // Block lines.
    const shallowLines: { line: number; indent: number }[] = [];
    i++;
    while (i < lines.length) {
      const rawLine = lines[i]!;
      const n = i + 1;
      vs.endLine = n;
      if (isComment(rawLine)) {
        i++;
        continue;
      }
      const cut = cutAtHash(rawLine);
      const body = cut.includes('\t') ? cut.replace(/\t/g, '    ') : cut;
      const m = /^ {4,}(.+)/.exec(body);
      let content: string;
      if (m && !isBlank(m[1]!)) {
        content = m[1]!;
      } else if (isBlank(body)) {
        // The original ends the block at a blank line (and rejects a line of 5+
        // spaces as a command " "); when indented lines follow, it rejects them
        // too, so here the block goes on.
        if (m || indentedLineFollows(i)) {
          issues.push({ severity: 'warning', line: n, message: LENIENT.blankLineInBlock });
          i++;
          continue;
        }
        break;
      } else {
        const shallow = /^( {1,3})(\S.*)/.exec(body);
        if (!shallow) break;
        content = shallow[2]!;
        shallowLines.push({ line: n, indent: shallow[1]!.length });
      }

      // Fast path for the bulk of big configs: a real= line in a block of its family
      // (what virtualDirective would do, without the retry machinery).
      const real = REAL_LINE.exec(content);
      if (real && (real[1] === '6') === (vs.family === 6)) {
        vs.reals.push({ value: real[2]!, line: n });
        i++;
        continue;
      }
      const variants = (): Variant[] => {
        const quoteAware = cutAtUnquotedHash(rawLine.replace(/^[ \t]+/, '').replace(/\t/g, '    '));
        return [
          { text: content.trimEnd(), warning: LENIENT.trailingSpace },
          { text: quoteAware, warning: LENIENT.hashInQuotes },
          { text: quoteAware.trimEnd(), warning: LENIENT.hashInQuotes },
        ];
      };
      report(
        n,
        tryLine(content, variants, (t) =>
          virtualDirective(t, vs, { line: n, rawLine, hostname: opts.hostname, openForAppend: opts.openForAppend }),
        ),
      );
      i++;
    }
    if (i >= lines.length) vs.endLine = lines.length;
    // One warning per block, at its first shallow line, rather than one per line.
    if (shallowLines.length > 0) {
      const first = shallowLines[0]!;
      issues.push({ severity: 'warning', line: first.line, message: LENIENT.shallowIndent(first.indent, shallowLines.length) });
    }
  }
  return { globals, virtuals, issues };
}
