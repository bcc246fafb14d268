// Differential test of the config parser: every fixture under fixtures/config/ is given to the
// original Perl ldirectord (`ldirectord <file> status`, which parses the whole config first and
// exits 2 on a config error, 3 = valid and not running) and to ldirectord-ts (`ldirectord -t <file>`,
// exit 0 = valid, 2 = invalid, diagnostics `<file>:<line>: error|warning: <message>` on stderr).
// The fixture headers (see fixture-header.ts) say what each must do.
//
// The original needs /usr/sbin/ldirectord and an ipvsadm binary. Without them the original's half
// is skipped, except in CI (CI set), where that is a failure.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixture, readFixtures } from './fixture-header.js';

const ORIGINAL = '/usr/sbin/ldirectord';
const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUR_BIN = join(PROJECT, 'bin/ldirectord');
const OUR_MAIN = join(PROJECT, 'dist/lib/cli/main.js');
/** Each run of the original costs ~0.4 s of CPU (Perl start-up); the machines have 2 cores. */
const CONCURRENCY = 4;
const RUN_TIMEOUT_MS = 60_000;
/** All runs of one program happen in one beforeAll: ~40 s on an idle 2-core machine, more under load. */
const HOOK_TIMEOUT_MS = 600_000;

const haveOriginal = existsSync(ORIGINAL) && (existsSync('/sbin/ipvsadm') || existsSync('/usr/sbin/ipvsadm'));
const inCI = Boolean(process.env.CI);

const fixtures = readFixtures();

interface Run {
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs fn over items with at most `limit` in flight; results keyed by item. */
async function runAll<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<Run>): Promise<Map<T, Run>> {
  const results = new Map<T, Run>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      results.set(item, await fn(item));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function describeRun(run: Run | undefined): string {
  if (!run) return '(not run)';
  return `exit ${run.exitCode}\n--- stderr ---\n${run.stderr}\n--- stdout ---\n${run.stdout}`;
}

// A fixed environment: C locale (the original's strerror() texts are in English), and PERLIO set
// so that the original does not re-exec itself to set it (halves its start-up time).
const ENV = { LC_ALL: 'C', LANG: 'C', PERLIO: 'perlio' };

let cwd = '';
beforeAll(() => {
  // Both programs run in an empty scratch directory: nothing relative in a fixture may land in the tree.
  cwd = mkdtempSync(join(tmpdir(), 'ldirectord-differential-'));
});
afterAll(() => {
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

it('has fixtures in every category', () => {
  expect(fixtures.filter((f) => f.category === 'good').length).toBeGreaterThan(0);
  expect(fixtures.filter((f) => f.category === 'bad').length).toBeGreaterThan(0);
  expect(fixtures.filter((f) => f.category === 'lenient').length).toBeGreaterThan(0);
  expect(fixtures.filter((f) => f.category === 'extension').length).toBeGreaterThan(0);
});

// ---------------------------------------------------------------------------------------------
// The original: checks that every header's "original:" verdict (and its line/message) is true.

if (!haveOriginal && inCI) {
  it('the original ldirectord is installed (required in CI)', () => {
    expect.fail(`${ORIGINAL} (and /sbin/ipvsadm or /usr/sbin/ipvsadm) must exist in CI: install the Debian ldirectord package`);
  });
}

describe.skipIf(!haveOriginal)(
  haveOriginal ? `original ${ORIGINAL}` : `original ldirectord (SKIPPED: ${ORIGINAL} or ipvsadm not installed; fatal when CI is set)`,
  () => {
    let runs = new Map<Fixture, Run>();
    beforeAll(async () => {
      runs = await runAll(fixtures, CONCURRENCY, async (f) => {
        const r = await execa(ORIGINAL, [f.path, 'status'], {
          cwd,
          reject: false,
          timeout: RUN_TIMEOUT_MS,
          env: ENV,
          stdin: 'ignore',
        });
        return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
      });
    }, HOOK_TIMEOUT_MS);

    for (const f of fixtures) {
      it(`${f.name}: original says ${f.original}`, () => {
        const run = runs.get(f);
        const info = `${f.path}\n${describeRun(run)}`;
        if (f.original === 'error') {
          expect(run?.exitCode, info).toBe(2);
          const oe = f.originalExpectation!;
          const re = new RegExp(
            `^Error \\[\\d+\\] reading file ${escapeRegExp(f.path)} at line ${oe.line}: ${escapeRegExp(oe.message)}`,
            'm',
          );
          expect(run?.stderr, info).toMatch(re);
        } else {
          // 3 = "ldirectord is stopped": the config is valid (1 would mean a stale pid file).
          expect(run?.exitCode, info).toBe(3);
          expect(run?.stderr, info).not.toMatch(/^Error \[/m);
          if (f.originalExpectation) {
            const oe = f.originalExpectation;
            const re = new RegExp(
              `^Warning \\[\\d+\\] reading file ${escapeRegExp(f.path)} at line ${oe.line}: ${escapeRegExp(oe.message)}`,
              'm',
            );
            expect(run?.stderr, info).toMatch(re);
          }
        }
      });
    }
  },
);

// ---------------------------------------------------------------------------------------------
// ldirectord-ts: `ldirectord -t <file>`.

describe('ldirectord-ts -t', () => {
  const runs = new Map<Fixture, Run>();
  beforeAll(async () => {
    if (!existsSync(OUR_MAIN)) {
      throw new Error(`${OUR_MAIN} is missing: run "npm run build" first (npm test does)`);
    }
    // Every fixture goes through the CLI's own -t function in this process; a sample of
    // them also through the real command line, to prove the two say the same. (A node
    // start per fixture would double this file's time.)
    const { checkConfigFile } = (await import(OUR_MAIN)) as {
      checkConfigFile: (p: string) => Promise<{ code: number; stderr: string[] }>;
    };
    for (const f of fixtures) {
      const r = await checkConfigFile(f.path);
      runs.set(f, { exitCode: r.code, stdout: '', stderr: r.stderr.map((l) => `${l}\n`).join('') });
    }
    const sample = fixtures.filter((_, i) => i % 10 === 0);
    const spawned = await runAll(sample, CONCURRENCY, async (f) => {
      const r = await execa(process.execPath, [OUR_BIN, '-t', f.path], {
        cwd,
        reject: false,
        timeout: RUN_TIMEOUT_MS,
        env: ENV,
        stdin: 'ignore',
      });
      return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
    });
    for (const [f, r] of spawned) {
      const inProcess = runs.get(f)!;
      if (r.exitCode !== inProcess.exitCode || r.stderr.trim() !== inProcess.stderr.trim()) {
        throw new Error(`${f.path}: the command line says\n${describeRun(r)}\nbut checkConfigFile says\n${describeRun(inProcess)}`);
      }
    }
  }, HOOK_TIMEOUT_MS);

  for (const f of fixtures) {
    it(`${f.name}: ldirectord-ts says ${f.expect}`, () => {
      const run = runs.get(f);
      const info = `${f.path}\n${describeRun(run)}`;
      const first = f.expectations[0];
      if (f.expect === 'error') {
        expect(run?.exitCode, info).toBe(2);
        expect(run?.stderr, info).toContain(`${f.path}:${first!.line}: error: ${first!.message}`);
        return;
      }
      expect(run?.exitCode, info).toBe(0);
      expect(run?.stderr, info).not.toMatch(new RegExp(`^${escapeRegExp(f.path)}:\\d+: error:`, 'm'));
      if (f.expect === 'warning') {
        // Our own warnings' wording is ours to choose: only the line is checked. Where the
        // warning is one the original prints too, its wording is kept and checked.
        const keptOriginal =
          f.originalExpectation !== undefined &&
          f.original === 'ok' &&
          f.originalExpectation.line === first!.line &&
          f.originalExpectation.message === first!.message;
        const want = `${f.path}:${first!.line}: warning:` + (keptOriginal ? ` ${first!.message}` : '');
        expect(run?.stderr, info).toContain(want);
      }
    });
  }
});
