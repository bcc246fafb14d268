// Bundles the compiled CLI (dist/lib/cli/main.js and what it imports statically) into one
// CommonJS file, dist/lib/cli/main.cjs, which bin/ldirectord require()s. `status` runs
// every few seconds under heartbeat and Pacemaker: started as ES modules, Node 20's ESM
// loader resolves, links and evaluates each of our files before our first line runs, which
// costs `status` about as much as our own code does (figures: bench/RESULTS.md, "status").
//
// The bundle sits next to main.js so that what main.js names relative to itself still
// resolves, and import.meta.url (the man page's path) becomes the bundle's own file URL.
// The daemon and sync, loaded with import() only when this process becomes the daemon or
// syncs, are bundles of their own (dist/lib/app/run-daemon.cjs, dist/lib/sync/
// sync-command.cjs) that main.cjs requires then: they pull in the checkers, undici, ssh2,
// ... and are never on the fast paths. As ES modules they would start Node's ESM loader
// in the daemon, which costs about 2 MB of RSS there (bench/RESULTS.md, "ninth pass").
//
// Used by `npm run build` (after tsc) and by the daemon e2e guest build, on its own dist.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Options common to the bundles: CommonJS for node 20, packages left to node_modules. */
function bundleOptions(entry, outfile, plugins) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // V8 keeps a script's source for as long as its functions live, at one byte a character
    // only when every character fits in Latin-1: one § would double it. See asciiComments().
    charset: 'ascii',
    // import() becomes a require() run when it is reached: an import() left in a CommonJS
    // file would still start Node's ESM loader to load it.
    supported: { 'dynamic-import': false },
    // Packages are not bundled: a package on the fast path would be an unnoticed cost
    // here (and its licence text would have to travel with the bundle).
    packages: 'external',
    define: { 'import.meta.url': '__bundleFileUrl' },
    banner: { js: '"use strict";\nconst __bundleFileUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins,
    sourcemap: true,
    logLevel: 'warning',
  };
}

async function bundle(options) {
  const r = await build(options);
  // A warning (another import.meta use, say) means the bundle may behave unlike the modules.
  if (r.warnings.length > 0) throw new Error(`bundle-cli: ${r.warnings.length} warning(s), see above`);
  asciiComments(options.outfile);
}

/**
 * charset 'ascii' escapes strings, regular expressions and names, not the comments esbuild
 * keeps (those inside an object literal or a call's arguments): what is left outside ASCII
 * is in comments, where an escape is just text.
 */
function asciiComments(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\p{ASCII}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

/**
 * Makes <distDir>/lib/cli/main.cjs from <distDir>/lib/cli/main.js, and of each module that
 * main.js loads with import() (the daemon, sync) a bundle of its own next to its .js, which
 * main.cjs requires when it is reached.
 */
export async function bundleCli(distDir = join(ROOT, 'dist')) {
  const cliDir = join(distDir, 'lib/cli');
  const lazyEntries = new Set();
  const lazyStaysOutside = {
    name: 'lazy-imports-stay-outside',
    setup(b) {
      // import() marks what the fast paths must not load: a bundle of its own, required at run time.
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        // Kept verbatim, the specifier resolves against the bundle's directory, so it is
        // only right when written in a module of that same directory.
        if (!args.path.startsWith('.') || !args.path.endsWith('.js') || dirname(args.importer) !== cliDir) {
          return {
            errors: [
              {
                text: `import('${args.path}') in ${args.importer}: only relative import() of a .js from ${cliDir} can stay outside the bundle`,
              },
            ],
          };
        }
        lazyEntries.add(resolve(cliDir, args.path));
        return { path: args.path.replace(/\.js$/, '.cjs'), external: true };
      });
    },
  };
  await bundle(bundleOptions(join(cliDir, 'main.js'), join(cliDir, 'main.cjs'), [lazyStaysOutside]));
  // Inside these, import() of our own modules is bundled too, evaluated when first reached.
  for (const entry of lazyEntries) await bundle(bundleOptions(entry, entry.replace(/\.js$/, '.cjs'), []));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleCli(process.argv[2] ? resolve(process.argv[2]) : undefined);
}
