// Property test: mutated real-world configs never make the parser throw or hang,
// and every diagnostic points at a line that exists in the file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from './parse-helpers.js';

const FIXTURES = new URL('../../fixtures/config/', import.meta.url).pathname;

function fixtureTexts(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.cf')) out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(FIXTURES);
  return out;
}

const SEED = `checktimeout=3
checkinterval=5
autoreload=yes
quiescent=yes
emailalert="admin@somedomain.co.za"
fallback=127.0.0.1:80
virtual=192.168.1.20:80
    real=192.168.22.4:80 masq
    real=192.168.22.5->192.168.22.9:80 gate 3 "/a","b" l:1 u:9
    service=http
    request="ping.html"
    receive="Hello World"
    scheduler=wlc
    persistent=600
    netmask=255.255.255.0
    checktype=3
virtual6=[2001:db8::1]:53
    real6=[::1]:53 gate
    protocol=udp
virtual=7
    real=10.0.0.1 gate
`;

/** Fragments that exercise the grammar's corners when spliced in anywhere. */
const FRAGMENTS = [
  '\n',
  '\r\n',
  '\t',
  ' ',
  '    ',
  '#',
  '"',
  '=',
  ':',
  '->',
  '[',
  ']',
  ',',
  'virtual=',
  'virtual6=',
  'real=',
  'real6=',
  'fallback=',
  ' gate',
  ' masq',
  ' ipip',
  ' l:',
  ' u:',
  '65536',
  '0',
  '99999999999999999999',
  '::',
  '\u00e9',
  'checktype=',
  'service=',
  'emailalertstatus=none,',
  'supervised',
  '\n\n    ',
  'localhost',
  '127.0.0.1',
  '"/x#y"',
];

const mutation = (lineCount: number) =>
  fc.oneof(
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 12 })),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ kind: fc.constant('dupLine' as const), line: fc.nat({ max: Math.max(0, lineCount - 1) }) }),
    fc.record({
      kind: fc.constant('swapLines' as const),
      a: fc.nat({ max: Math.max(0, lineCount - 1) }),
      b: fc.nat({ max: Math.max(0, lineCount - 1) }),
    }),
  );

type Mutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'dupLine'; line: number }
  | { kind: 'swapLines'; a: number; b: number };

function apply(text: string, m: Mutation): string {
  switch (m.kind) {
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.len);
    }
    case 'dupLine': {
      const lines = text.split('\n');
      lines.splice(m.line, 0, lines[m.line] ?? '');
      return lines.join('\n');
    }
    case 'swapLines': {
      const lines = text.split('\n');
      const a = lines[m.a];
      const b = lines[m.b];
      if (a === undefined || b === undefined) return text;
      lines[m.a] = b;
      lines[m.b] = a;
      return lines.join('\n');
    }
  }
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

describe('parser under mutation', () => {
  const bases = [SEED, ...fixtureTexts()];

  it(`never throws, never hangs, and reports lines inside the file (${RUNS} cases)`, async () => {
    const arb = fc
      .nat({ max: bases.length - 1 })
      .chain((i) => fc.tuple(fc.constant(bases[i]!), fc.array(mutation(bases[i]!.split('\n').length), { minLength: 1, maxLength: 6 })));
    await fc.assert(
      fc.asyncProperty(arb, async ([base, mutations]) => {
        const text = mutations.reduce((t, m) => apply(t, m as Mutation), base);
        const started = performance.now();
        const r = await parse(text);
        const elapsed = performance.now() - started;
        const lines = text.split('\n').length;
        for (const d of r.diagnostics) {
          expect(d.line, d.message).toBeGreaterThanOrEqual(1);
          expect(d.line, d.message).toBeLessThanOrEqual(lines);
          expect(d.message.length).toBeGreaterThan(0);
        }
        expect(r.config === undefined).toBe(r.diagnostics.some((d) => d.severity === 'error'));
        // "Never hangs": one small config parses in far less than a second.
        expect(elapsed).toBeLessThan(1000);
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
