// Reads the config fixtures under fixtures/config/{good,bad,lenient}/ and their
// machine-readable headers. Used by the differential test against the original
// ldirectord and by anything else that wants "every config we know the verdict of".
//
// A fixture starts with comment lines; those of the form `# key: value` form the header
// (reading stops at the first line that does not start with '#'):
//
//   # description: free text
//   # expect: ok | error | warning      what ldirectord-ts does (warning = accepted, with a warning)
//   # original: ok | error              what the original Perl ldirectord does (verified by running it)
//   # line: N                           } expected diagnostics of ldirectord-ts, in pairs, in order
//   # message: text                     } (for errors: the original's wording, which we keep)
//   # original-line: N                  } what the original prints, when it differs from line/message
//   # original-message: text            } (lenient fixtures), or the original's own warning (good ones)
//   # note: free text
//
// Line numbers count every line of the file, header included. In values, `\t` stands for a tab
// and `\\` for a backslash. Messages are prefixes: the original appends the raw line to
// "Unknown command", so fixtures give only its beginning.
//
// Categories: good/ = both accept; bad/ = both reject; lenient/ = the original rejects and
// ldirectord-ts accepts with a warning (spec section 10); extension/ = the original rejects
// a directive or value that ldirectord-ts adds on purpose (service=ssh, ...) and accepts
// without a warning (its header gives the original's error as original-line/-message).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Category = 'good' | 'bad' | 'lenient' | 'extension';
export const CATEGORIES: readonly Category[] = ['good', 'bad', 'lenient', 'extension'];

export interface Expectation {
  readonly line: number;
  readonly message: string;
}

export interface Fixture {
  /** Absolute path of the fixture file. */
  readonly path: string;
  /** `category/basename`, for test names. */
  readonly name: string;
  readonly category: Category;
  /** Verdict of ldirectord-ts. */
  readonly expect: 'ok' | 'error' | 'warning';
  /** Verdict of the original ldirectord. */
  readonly original: 'ok' | 'error';
  /** Diagnostics ldirectord-ts must print (errors for expect=error, warnings for expect=warning). */
  readonly expectations: readonly Expectation[];
  /**
   * What the original prints: its error for original=error, or its warning for a good fixture
   * on which it warns. Defaults to expectations[0] when the header gives no original-line.
   */
  readonly originalExpectation?: Expectation;
  readonly description: string;
}

export const FIXTURE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/config');

function unescape(value: string): string {
  return value.replace(/\\(t|\\)/g, (_, c: string) => (c === 't' ? '\t' : '\\'));
}

function lineNumber(value: string, where: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`${where}: line must be a number, got "${value}"`);
  return Number(value);
}

/** Parses the header of one fixture; throws on a malformed or inconsistent header. */
export function parseFixture(path: string, text: string, category: Category): Fixture {
  const fields = new Map<string, string>();
  const lines: number[] = [];
  const messages: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.startsWith('#')) break;
    const m = /^#\s*([a-z][a-z-]*):\s?(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'line') lines.push(lineNumber(value, path));
    else if (key === 'message') messages.push(unescape(value));
    else fields.set(key, unescape(value));
  }
  const expect = fields.get('expect');
  const original = fields.get('original');
  if (expect !== 'ok' && expect !== 'error' && expect !== 'warning') {
    throw new Error(`${path}: header needs "# expect: ok|error|warning"`);
  }
  if (original !== 'ok' && original !== 'error') {
    throw new Error(`${path}: header needs "# original: ok|error"`);
  }
  if (lines.length !== messages.length) {
    throw new Error(`${path}: every "# line:" needs a "# message:" (and the other way round)`);
  }
  if (expect !== 'ok' && lines.length === 0) {
    throw new Error(`${path}: expect=${expect} needs at least one "# line:"/"# message:" pair`);
  }
  const consistent =
    (category === 'good' && original === 'ok' && expect !== 'error') ||
    (category === 'bad' && original === 'error' && expect === 'error') ||
    (category === 'lenient' && original === 'error' && expect === 'warning') ||
    (category === 'extension' && original === 'error' && expect === 'ok');
  if (!consistent) {
    throw new Error(`${path}: expect=${expect}, original=${original} do not fit category ${category}`);
  }
  const expectations = lines.map((line, i) => ({ line, message: messages[i]! }));
  const oLine = fields.get('original-line');
  const oMessage = fields.get('original-message');
  let originalExpectation: Expectation | undefined;
  if (oLine !== undefined || oMessage !== undefined) {
    if (oLine === undefined || oMessage === undefined) {
      throw new Error(`${path}: original-line and original-message go together`);
    }
    originalExpectation = { line: lineNumber(oLine, path), message: oMessage };
  } else if (original === 'error') {
    originalExpectation = expectations[0];
    if (!originalExpectation) throw new Error(`${path}: original=error needs a line/message`);
  }
  const base = path.slice(path.lastIndexOf('/') + 1);
  return {
    path,
    name: `${category}/${base}`,
    category,
    expect,
    original,
    expectations,
    ...(originalExpectation ? { originalExpectation } : {}),
    description: fields.get('description') ?? '',
  };
}

/** Every fixture under fixtures/config/, sorted by category then file name. */
export function readFixtures(root: string = FIXTURE_ROOT): Fixture[] {
  const fixtures: Fixture[] = [];
  const seen = new Map<string, string>();
  for (const category of CATEGORIES) {
    const dir = join(root, category);
    let names: string[];
    try {
      names = readdirSync(dir)
        .filter((n) => n.endsWith('.cf'))
        .sort();
    } catch {
      continue;
    }
    for (const n of names) {
      // The original names its pid file after the config's basename: keep them unique.
      const other = seen.get(n);
      if (other) throw new Error(`fixture basename ${n} is used in both ${other}/ and ${category}/`);
      seen.set(n, category);
      const path = join(dir, n);
      fixtures.push(parseFixture(path, readFileSync(path, 'utf8'), category));
    }
  }
  return fixtures;
}
