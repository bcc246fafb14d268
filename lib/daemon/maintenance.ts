// maintenancedir (spec §3.1): a file named after a real forces it down. Names
// tried, in order: <ip>:<port>, <ip>, then the reverse-DNS name and its short
// form, each with :<port> and alone. Reverse names come from getnameinfo(3), as
// the original's, and are cached for a minute (it looked them up every check).
import { access } from 'node:fs/promises';
import { lookupService } from 'node:dns/promises';
import { join } from 'node:path';
import type { RealServer } from '../config/model.js';

const REVERSE_TTL_MS = 60_000;

/** getnameinfo(3) like the original: /etc/hosts first, then DNS; no name → []. */
async function reverseName(ip: string): Promise<string[]> {
  const r = await lookupService(ip, 1);
  return r.hostname && r.hostname !== ip ? [r.hostname] : [];
}

export function createMaintenanceCheck(dir: string, lookup: (ip: string) => Promise<string[]> = reverseName) {
  const names = new Map<string, { at: number; name?: string }>();
  const exists = (name: string) =>
    access(join(dir, name)).then(
      () => true,
      () => false,
    );
  const nameOf = async (ip: string): Promise<string | undefined> => {
    const hit = names.get(ip);
    if (hit && Date.now() - hit.at < REVERSE_TTL_MS) return hit.name;
    let name: string | undefined;
    try {
      name = (await lookup(ip.replace(/^\[|\]$/g, '')))[0];
    } catch {
      name = undefined;
    }
    names.set(ip, { at: Date.now(), ...(name ? { name } : {}) });
    return name;
  };
  return async (r: RealServer): Promise<boolean> => {
    const candidates = [`${r.ip}:${r.port}`, r.ip];
    for (const c of candidates) if (await exists(c)) return true;
    const name = await nameOf(r.ip);
    if (!name) return false;
    const short = /^([a-z][a-z0-9-]+)\./.exec(name)?.[1];
    for (const c of [`${name}:${r.port}`, name, ...(short ? [`${short}:${r.port}`, short] : [])]) {
      if (await exists(c)) return true;
    }
    return false;
  };
}
