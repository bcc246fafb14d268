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
  const seeds = [
    ...readdirSync(path.join(ROOT, 'lib/ipvs'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `lib/ipvs/${f}`),
    'test/support/ipvs-listing.ts',
  ];
  for (const rel of withRelativeImports(seeds)) {
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

const RELATIVE_IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)\.js'/gm;

/** `seeds` and every module they import by relative path, transitively (paths relative to ROOT). */
function withRelativeImports(seeds: readonly string[]): string[] {
  const seen = new Set<string>();
  const todo = [...seeds];
  for (let rel = todo.pop(); rel !== undefined; rel = todo.pop()) {
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const m of readFileSync(path.join(ROOT, rel), 'utf8').matchAll(RELATIVE_IMPORT)) {
      todo.push(path.posix.join(path.posix.dirname(rel), `${m[1]}.ts`));
    }
  }
  return [...seen];
}
