// The import layers of lib/ and checks/ (README, "Development"): a module imports only from
// layers below its own, never from a sibling folder of its own layer, and no import cycle.
// A new folder under lib/ must be placed in LAYERS before anything imports it.
/** Top first. Each entry is one layer: folders (or single files) that share it. */
const LAYERS = [
  ['lib/cli'],
  ['lib/app'],
  ['lib/status', 'lib/sync'],
  ['lib/daemon'],
  ['checks', 'lib/ipvs'],
  ['lib/config'],
  ['lib/log', 'lib/perl-regex'],
  ['lib/proc', 'lib/version.ts', 'lib/content-digest.ts'],
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A path regex for one unit: a folder and everything under it, or exactly one file. */
const unit = (u) => (u.endsWith('.ts') ? `^${escape(u)}$` : `^${escape(u)}/`);
const anyOf = (units) => `(${units.map(unit).join('|')})`;

const layerRules = LAYERS.flatMap((layer, rank) =>
  layer.flatMap((u) => {
    const above = LAYERS.slice(0, rank).flat();
    const siblings = layer.filter((other) => other !== u);
    if (above.length + siblings.length === 0) return [];
    return {
      name: `layer:${u}`,
      comment: `${u} may import only from layers below it (${
        LAYERS.slice(rank + 1)
          .map((l) => l.join(', '))
          .join(' > ') || 'none'
      })`,
      severity: 'error',
      from: { path: unit(u) },
      to: { path: anyOf([...above, ...siblings]) },
    };
  }),
);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      comment: 'an import cycle: the modules of a cycle cannot be read, tested or loaded one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'outside-layers',
      comment: 'a module of lib/ outside every layer: place its folder in LAYERS (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^lib/', pathNot: anyOf(LAYERS.flat()) },
      to: {},
    },
    {
      name: 'no-test-imports',
      comment: 'the daemon does not import from test/',
      severity: 'error',
      from: { path: '^(lib|checks)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-dev-dependencies',
      comment: 'a devDependency is not installed with the package: the daemon cannot import it',
      severity: 'error',
      from: { path: '^(lib|checks)/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to no file',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // Type-only imports bind layers as much as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
