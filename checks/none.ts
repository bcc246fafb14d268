// service=none: no network I/O, always up, and (unlike checktype=on) a monitorfile line.
import { Outcome } from './outcome.js';
import { defineChecker, NEGOTIATETIMEOUT } from './types.js';

export const noneChecker = defineChecker({
  name: 'none',
  timeout: NEGOTIATETIMEOUT,
  options: () => ({}),
  probe: async () => new Outcome().up(),
});
