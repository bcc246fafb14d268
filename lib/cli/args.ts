// Option parsing as the original's Getopt::Long configuration: bundling, no
// abbreviations, options only before the first non-option ("require_order").

export interface ParsedArgs {
  readonly debug: boolean;
  readonly help: boolean;
  readonly version: boolean;
  readonly test: boolean;
  /** status --json (ldirectord-ts). */
  readonly json: boolean;
  readonly positional: readonly string[];
}

export type ArgsResult = { ok: true; args: ParsedArgs } | { ok: false; unknown: string };

const SHORT: Record<string, keyof Omit<ParsedArgs, 'positional'>> = {
  d: 'debug',
  h: 'help',
  '?': 'help',
  v: 'version',
  t: 'test',
  j: 'json',
};
const LONG: Record<string, keyof Omit<ParsedArgs, 'positional'>> = {
  debug: 'debug',
  help: 'help',
  version: 'version',
  test: 'test',
  json: 'json',
};

export function parseArgs(argv: readonly string[]): ArgsResult {
  const flags = { debug: false, help: false, version: false, test: false, json: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      const key = LONG[a.slice(2)];
      if (!key) return { ok: false, unknown: a.slice(2) };
      flags[key] = true;
    } else if (a.startsWith('-') && a.length > 1) {
      for (const c of a.slice(1)) {
        const key = SHORT[c];
        if (!key) return { ok: false, unknown: c };
        flags[key] = true;
      }
    } else break;
  }
  let positional = argv.slice(i);
  // `status --json` / `status -j`: the one option taken after the command, where
  // people write it. The original ignores words after the command, so this
  // only adds a meaning to lines it treated as a plain status.
  const last = positional.at(-1);
  if ((last === '--json' || last === '-j') && positional.at(-2) === 'status') {
    positional = positional.slice(0, -1);
    flags.json = true;
  }
  return { ok: true, args: { ...flags, positional } };
}
