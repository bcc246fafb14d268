import { isIP } from 'node:net';
import { parseConfig, type ParseOptions } from '../../lib/config/parse.js';
import type { HostResolver } from '../../lib/config/resolve.js';

/** Resolves literals and a few fixed names without touching DNS. */
export const offlineResolver: HostResolver = async (name, family) => {
  if (isIP(name) === family) return name;
  const table: Record<string, [string | null, string | null]> = {
    localhost: ['127.0.0.1', '::1'],
    'rs1.example': ['127.0.0.11', null],
    'rs2.example': ['127.0.0.13', null],
  };
  const hit = table[name];
  return hit ? hit[family === 4 ? 0 : 1] : null;
};

export function parse(text: string, opts: Partial<ParseOptions> = {}) {
  return parseConfig(text, {
    file: 'test.cf',
    resolver: offlineResolver,
    hostname: 'director1',
    openForAppend: () => null,
    isDirectory: () => true,
    ...opts,
  });
}

export function errors(r: Awaited<ReturnType<typeof parse>>) {
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}: ${d.message}`);
}

export function warnings(r: Awaited<ReturnType<typeof parse>>) {
  return r.diagnostics.filter((d) => d.severity === 'warning').map((d) => `${d.line}: ${d.message}`);
}

/** Lines of a virtual block, indented. */
export const block = (lines: string[]) => lines.map((l) => `    ${l}`).join('\n');
