// The e2e guest imports lib/ipvs as JavaScript. Rather than trusting a dist/ that may be
// stale (or not build while another part of the tree is mid-edit), transpile the few
// modules it needs into .cache/ipvs-e2e/ (git-ignored, inside the share the guest sees).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const VM = path.join(ROOT, 'test/e2e/vm/ipvs-vm.sh');

/**
 * Transpiles lib/ipvs/*.ts, what they import from elsewhere in lib/, test/support/ipvs-listing.ts (the
 * parsers of saved tables and lone listings), and writes the steps of the fake-vs-real
 * sequence for test/e2e/guest/ipvs-e2e.sh; returns the output dir, relative to ROOT.
 */
export function buildForGuest(steps: ReadonlyArray<readonly [readonly string[], string?]>): string {
  const outRel = '.cache/ipvs-e2e';
  const files = [
    ...readdirSync(path.join(ROOT, 'lib/ipvs'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `lib/ipvs/${f}`),
    'lib/config/ip-address.ts',
    'lib/config/model.ts',
    'test/support/ipvs-listing.ts',
    'lib/proc/run-bounded.ts',
  ];
  for (const rel of files) {
    const src = readFileSync(path.join(ROOT, rel), 'utf8');
    const js = ts.transpileModule(src, {
      fileName: rel,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dest = path.join(ROOT, outRel, rel.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  const stepsDir = path.join(ROOT, outRel, 'steps');
  rmSync(stepsDir, { recursive: true, force: true });
  mkdirSync(stepsDir, { recursive: true });
  steps.forEach(([args, input], i) => {
    writeFileSync(path.join(stepsDir, `${i}.args`), args.map((a) => `${a}\0`).join(''));
    writeFileSync(path.join(stepsDir, `${i}.in`), input ?? '');
  });
  writeFileSync(path.join(stepsDir, 'count'), `${steps.length}\n`);
  return outRel;
}
