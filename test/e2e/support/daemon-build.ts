// The daemon e2e guest runs the whole program: bin/ldirectord and everything it imports
// from dist/ (lib/ and checks/). Rather than trusting a dist/ that may be stale, transpile
// lib/**/*.ts and checks/**/*.ts into .cache/daemon-e2e/dist/ (git-ignored, inside the
// share the guest sees), bundle the CLI from them as `npm run build` does
// (scripts/bundle-cli.mjs: dist/lib/cli/main.cjs) and copy bin/ldirectord and
// bin/package.json unchanged next to it, so that its `../dist/lib/cli/main.cjs` is the
// fresh code. Packages resolve from the project's node_modules (Node walks up from
// .cache/daemon-e2e/dist/...).
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { bundleCli } from '../../../scripts/bundle-cli.mjs';
import { ROOT } from './guest-build.js';

function tsFiles(rel: string): string[] {
  return readdirSync(path.join(ROOT, rel), { withFileTypes: true }).flatMap((e) => {
    const child = `${rel}/${e.name}`;
    if (e.isDirectory()) return tsFiles(child);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [child] : [];
  });
}

/** Builds .cache/daemon-e2e/{bin,dist}; returns the build dir, relative to ROOT. */
export async function buildDaemonForGuest(): Promise<string> {
  const outRel = '.cache/daemon-e2e';
  const out = path.join(ROOT, outRel);
  rmSync(out, { recursive: true, force: true });
  for (const rel of [...tsFiles('lib'), ...tsFiles('checks')]) {
    const js = ts.transpileModule(readFileSync(path.join(ROOT, rel), 'utf8'), {
      fileName: rel,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const dest = path.join(out, 'dist', rel.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  await bundleCli(path.join(out, 'dist'));
  mkdirSync(path.join(out, 'bin'), { recursive: true });
  copyFileSync(path.join(ROOT, 'bin/ldirectord'), path.join(out, 'bin/ldirectord'));
  copyFileSync(path.join(ROOT, 'bin/package.json'), path.join(out, 'bin/package.json'));
  chmodSync(path.join(out, 'bin/ldirectord'), 0o755);
  return outRel;
}
