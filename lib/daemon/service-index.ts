// Per config, computed once: every convergence needs the managed service keys, and
// every applied command the virtual it belongs to; a linear search per command is too
// slow when thousands of reals change at once.
import type { Config, VirtualService } from '../config/model.js';
import { virtualKey } from '../ipvs/desired.js';

export interface ServiceIndex {
  /** serviceKey() of each virtual, in config order. */
  readonly keys: readonly string[];
  /** The first virtual of each service key. */
  readonly byKey: ReadonlyMap<string, VirtualService>;
}

const serviceIndexes = new WeakMap<Config, ServiceIndex>();

export function serviceIndex(config: Config): ServiceIndex {
  let index = serviceIndexes.get(config);
  if (!index) {
    const keys = config.virtuals.map(virtualKey);
    const byKey = new Map<string, VirtualService>();
    keys.forEach((k, i) => {
      if (!byKey.has(k)) byKey.set(k, config.virtuals[i]!);
    });
    index = { keys, byKey };
    serviceIndexes.set(config, index);
  }
  return index;
}
