// Option parsing as the original's Getopt::Long configuration: bundling, no
// abbreviations, options only before the first non-option ("require_order").

export interface ParsedArgs {
  readonly debug: boolean;
  readonly help: boolean;
  readonly version: boolean;
  readonly test: boolean;
  readonly positional: readonly string[];
}

export type ArgsResult = { ok: true; args: ParsedArgs } | { ok: false; unknown: string };

const SHORT: Record<string, keyof Omit<ParsedArgs, 'positional'>> = { d: 'debug', h: 'help', '?': 'help', v: 'version', t: 'test' };
const LONG: Record<string, keyof Omit<ParsedArgs, 'positional'>> = { debug: 'debug', help: 'help', version: 'version', test: 'test' };

export function parseArgs(argv: readonly string[]): ArgsResult {
  const flags = { debug: false, help: false, version: false, test: false };
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
  return { ok: true, args: { ...flags, positional: argv.slice(i) } };
}
