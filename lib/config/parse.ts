// Entry point of the config layer: text in, immutable model and every
// diagnostic out. Touches the outside world only where the original does while
// parsing (name resolution, test-opening the logfile and monitorfiles).
import { closeSync, openSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { Config, Diagnostic, ParseResult } from './model.js';
import { scanConfig } from './scan.js';
import { buildModel, wantNames } from './build-model.js';
import { NameCache, systemResolver, type HostResolver } from './resolve.js';
import { errnoText } from './perl-values.js';

export interface ParseOptions {
  /** Path used in diagnostics and in the model. */
  readonly file: string;
  readonly resolver?: HostResolver;
  /** `$HOSTNAME` for the ftp/sip login defaults; default: env, else uname. */
  readonly hostname?: string;
  /** -d mode: the original does not test-open the logfile then. */
  readonly debug?: boolean;
  /** Test-open for append (creates the file, as the original does); error text or null. */
  readonly openForAppend?: (path: string) => string | null;
  readonly isDirectory?: (path: string) => boolean;
  readonly validateReceive?: (source: string) => string | null;
}

export function appendOpenCheck(path: string): string | null {
  try {
    closeSync(openSync(path, 'a'));
    return null;
  } catch (err) {
    return errnoText(err);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export async function parseConfig(text: string, opts: ParseOptions): Promise<ParseResult> {
  const scan = scanConfig(text, {
    hostname: opts.hostname ?? process.env.HOSTNAME ?? osHostname(),
    openForAppend: opts.openForAppend ?? appendOpenCheck,
    isDirectory: opts.isDirectory ?? isDirectory,
    debug: opts.debug ?? false,
  });
  const cache = new NameCache(opts.resolver ?? systemResolver);
  wantNames(scan.globals, scan.virtuals, cache);
  await cache.settle();
  const built = buildModel({
    file: opts.file,
    globals: scan.globals,
    virtuals: scan.virtuals,
    cache,
    ...(opts.validateReceive ? { validateReceive: opts.validateReceive } : {}),
  });
  const diagnostics: Diagnostic[] = [...scan.issues, ...built.issues]
    .map((i) => ({ ...i, file: opts.file }))
    // Stable sort: file order, the original's order within a line.
    .sort((a, b) => a.line - b.line);
  const hasError = diagnostics.some((d) => d.severity === 'error');
  const config: Config | undefined = hasError ? undefined : deepFreeze(built.config);
  return config ? { config, diagnostics } : { diagnostics };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    const o = value as Record<string, unknown>;
    for (const k in o) deepFreeze(o[k]);
  }
  return value;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.severity}: ${d.message}`;
}
