// Where the config named on the command line is read from (spec §1.2).
import { statSync } from 'node:fs';

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface ConfigLocation {
  /** The name as given ("ldirectord.cf" when none was). */
  readonly config: string;
  /** Basename including extension: names the pid file and the log lines. */
  readonly cfgName: string;
  /** The file found, or undefined. */
  readonly path?: string;
}

/**
 * /etc/ha.d/<name>, then /etc/ha.d/conf/<name>, then <name> itself. The first two
 * are tried even for absolute names, exactly as the original does.
 */
export function locateConfig(given: string | undefined, roots = ['/etc/ha.d/', '/etc/ha.d/conf/']): ConfigLocation {
  const config = given ?? 'ldirectord.cf';
  const cfgName = given === undefined ? 'ldirectord' : config.slice(config.lastIndexOf('/') + 1);
  for (const candidate of [...roots.map((r) => r + config), config]) {
    if (isFile(candidate)) return { config, cfgName, path: candidate };
  }
  return { config, cfgName };
}
