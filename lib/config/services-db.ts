// getservbyname(3) for the parser: Node has no binding for it, so read the same
// /etc/services database that glibc reads. Loaded once per process, lazily.
import { readFileSync } from 'node:fs';

type Table = Map<string, Map<string, number>>; // name or alias -> protocol -> port

let cached: { path: string; table: Table } | undefined;

export function parseServicesFile(text: string): Table {
  const table: Table = new Map();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(fields[1] ?? '');
    if (!m) continue;
    const port = Number(m[1]);
    const proto = m[2]!;
    for (const name of [fields[0]!, ...fields.slice(2)]) {
      let byProto = table.get(name);
      if (!byProto) table.set(name, (byProto = new Map()));
      // glibc returns the first matching line, so the first entry wins.
      if (!byProto.has(proto)) byProto.set(proto, port);
    }
  }
  return table;
}

function load(path: string): Table {
  if (cached?.path === path) return cached.table;
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // No services database: only numeric ports resolve, as with getservbyname.
  }
  cached = { path, table: parseServicesFile(text) };
  return cached.table;
}

/**
 * Port of a service name for `protocol` ('' = any protocol, like the original's
 * real-server lookup), or undefined when unknown.
 */
export function getServiceByName(name: string, protocol: string, path = '/etc/services'): number | undefined {
  const byProto = load(path).get(name);
  if (!byProto) return undefined;
  if (protocol === '' || protocol === 'fwm') return byProto.values().next().value;
  return byProto.get(protocol);
}
