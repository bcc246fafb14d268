// The registry: checker name -> Checker. Names are the checktypes that probe on their
// own (connect, ping, external, external-perl, on, off) and the services that
// checktype=negotiate runs (http, smtp, ldap, ...). Each group of checkers lists itself
// in its own file (group-web.ts, group-data.ts); to add a checker, add it to a group.
import type { Service, VirtualService } from '../lib/config/model.js';
import type { CombinedStep } from './combined.js';
import { DATA_CHECKERS } from './group-data.js';
import { WEB_CHECKERS } from './group-web.js';
import type { Checker } from './types.js';

/** Builds a registry, refusing two checkers with one name. */
export function buildRegistry(checkers: readonly Checker[]): ReadonlyMap<string, Checker> {
  const map = new Map<string, Checker>();
  for (const checker of checkers) {
    if (map.has(checker.name)) throw new Error(`two checkers are named "${checker.name}"`);
    map.set(checker.name, checker);
  }
  return map;
}

export const CHECKERS: ReadonlyMap<string, Checker> = buildRegistry([...WEB_CHECKERS, ...DATA_CHECKERS]);

export function getChecker(name: string): Checker | undefined {
  return CHECKERS.get(name);
}

/** The checker of checktype=negotiate for a service. */
export function serviceChecker(service: Service, registry: ReadonlyMap<string, Checker> = CHECKERS): Checker | undefined {
  return registry.get(service);
}

/**
 * The checker the runner calls for a virtual's next probe. `step` is required for
 * combined checktypes (see combined.ts). A connect check (plain or combined) on a udp
 * virtual runs the service check instead (spec §10: on UDP a connect proves nothing;
 * the original pinged for checktype=connect and "connected" for combined).
 */
export function selectChecker(
  virtual: VirtualService,
  step?: CombinedStep,
  registry: ReadonlyMap<string, Checker> = CHECKERS,
): Checker | undefined {
  const kind = virtual.checktype.kind;
  const connectOrService = (): Checker | undefined => {
    if (virtual.protocol !== 'udp') return registry.get('connect');
    // dns: the check still passes without a receive (see createDnsConnectChecker).
    return virtual.service === 'dns' ? registry.get('dns-connect') : serviceChecker(virtual.service, registry);
  };
  switch (kind) {
    case 'negotiate':
      return serviceChecker(virtual.service, registry);
    case 'connect':
      return connectOrService();
    case 'combined':
      if (step === undefined) throw new Error('selectChecker: a combined checktype needs the step');
      return step === 'negotiate' ? serviceChecker(virtual.service, registry) : connectOrService();
    default:
      return registry.get(kind);
  }
}
