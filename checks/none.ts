// service=none: no network I/O, always up, and (unlike checktype=on) a monitorfile line.
import type { VirtualService } from '../lib/config/model.js';
import { Outcome } from './outcome.js';
import type { CheckResult, Checker } from './types.js';

export const noneChecker: Checker = {
  name: 'none',
  timeoutSeconds: (virtual: VirtualService) => virtual.negotiatetimeout,
  probe: async (): Promise<CheckResult> => new Outcome().up(),
};
