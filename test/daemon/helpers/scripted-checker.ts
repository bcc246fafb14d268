// A checker lookup for the runner and director tests: every probe answered by a script
// with the (virtual, real, mode) it checks, within the deadline `timeoutSeconds` names.
import type { CheckResult } from '../../../checks/types.js';
import type { RealServer, VirtualService } from '../../../lib/config/model.js';
import type { CheckerLookup, CheckMode } from '../../../lib/daemon/check-runner.js';

export type ProbeFn = (v: VirtualService, r: RealServer, mode: CheckMode, signal: AbortSignal) => Promise<CheckResult>;

export function scriptedCheckers(probe: ProbeFn, timeoutSeconds: (v: VirtualService) => number = () => 1): CheckerLookup {
  return (_virtual, mode) => ({
    name: 'scripted',
    timeoutSeconds,
    identity: (target) => `scripted ${mode} ${target.host}:${target.port}`,
    probe: (target, signal) => probe(target.virtual, target.real, mode, signal),
  });
}
