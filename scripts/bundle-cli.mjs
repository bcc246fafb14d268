// Bundles the compiled CLI (dist/lib/cli/main.js and what it imports statically) into one
// CommonJS file, dist/lib/cli/main.cjs, which bin/ldirectord require()s. `status` runs
// every few seconds under heartbeat and Pacemaker: started as ES modules, Node 20's ESM
// loader resolves, links and evaluates each of our files before our first line runs, which
// costs `status` about as much as our own code does (figures: bench/RESULTS.md, "status").
//
// The bundle sits next to main.js so that what main.js names relative to itself still
// resolves: the daemon and sync, loaded with import() only when this process becomes
// the daemon or syncs, stay ES modules in dist/ (they pull in undici, ssh2, the SQL
// drivers, ... and are never on the fast paths), and import.meta.url (the man page's
// path) becomes the bundle's own file URL.
//
// Used by `npm run build` (after tsc) and by the daemon e2e guest build, on its own dist.
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Makes <distDir>/lib/cli/main.cjs from <distDir>/lib/cli/main.js. */
export async function bundleCli(distDir = join(ROOT, 'dist')) {
  const cliDir = join(distDir, 'lib/cli');
  const lazyStaysOutside = {
    name: 'lazy-imports-stay-esm',
    setup(b) {
      // import() marks what the fast paths must not load: leave it to run at run time.
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        // Kept verbatim, the specifier resolves against the bundle's directory, so it is
        // only right when written in a module of that same directory.
        if (!args.path.startsWith('.') || dirname(args.importer) !== cliDir) {
          return {
            errors: [
              { text: `import('${args.path}') in ${args.importer}: only relative import() from ${cliDir} can stay outside the bundle` },
            ],
          };
        }
        return { path: args.path, external: true };
      });
    },
  };
  await build({
    entryPoints: [join(cliDir, 'main.js')],
    outfile: join(cliDir, 'main.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Packages are not bundled: a package on the fast path would be an unnoticed cost
    // here (and its licence text would have to travel with the bundle).
    packages: 'external',
    define: { 'import.meta.url': '__bundleFileUrl' },
    banner: { js: '"use strict";\nconst __bundleFileUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [lazyStaysOutside],
    sourcemap: true,
    logLevel: 'warning',
  }).then((r) => {
    // A warning (another import.meta use, say) means the bundle may behave unlike the modules.
    if (r.warnings.length > 0) throw new Error(`bundle-cli: ${r.warnings.length} warning(s), see above`);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleCli(process.argv[2] ? resolve(process.argv[2]) : undefined);
}
