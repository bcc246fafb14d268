// Locating ipvsadm as the original does (spec §1.5). Kept apart from ipvsadm-runner.ts:
// the short-lived commands (`status`, `stop`, `reload`) need the path, not the process runner.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';

/** Where the original looks for ipvsadm, in order (spec §1.5). */
export const IPVSADM_PATHS: readonly string[] = ['/sbin/ipvsadm', '/usr/sbin/ipvsadm'];

export interface LocateOptions {
  /** Debug mode (-d): `./ipvsadm` in `cwd` wins if that file exists (spec §1.5). */
  readonly debug?: boolean;
  readonly cwd?: string;
  /** Injectable for tests. */
  readonly isFile?: (p: string) => boolean;
  readonly isExecutable?: (p: string) => boolean;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
function isExecutable(p: string): boolean {
  try {
    accessSync(p, fsConstants.X_OK);
    return isFile(p);
  } catch {
    return false;
  }
}

/** The ipvsadm to run, or undefined when there is none (the original dies "Can not find ipvsadm"). */
export function locateIpvsadm(o: LocateOptions = {}): string | undefined {
  const file = o.isFile ?? isFile;
  const exec = o.isExecutable ?? isExecutable;
  if (o.debug) {
    const local = path.join(o.cwd ?? process.cwd(), 'ipvsadm');
    if (file(local)) return local;
  }
  return IPVSADM_PATHS.find((p) => exec(p));
}
