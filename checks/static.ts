// checktype=on and checktype=off: no probe at all (spec §3.2).
// on: the real is set up every cycle, without a monitorfile line.
// off: no check and no change of state; the runner must not act on the result
// (it is reported as not ok so that nothing is ever brought up by it).
import { Outcome } from './outcome.js';
import { CHECKTIMEOUT, defineChecker } from './types.js';

export const onChecker = defineChecker({
  name: 'on',
  timeout: CHECKTIMEOUT,
  options: () => ({}),
  probe: async () => new Outcome().up('-', { skipMonitorfile: true, detail: 'checktype=on' }),
});

export const offChecker = defineChecker({
  name: 'off',
  timeout: CHECKTIMEOUT,
  options: () => ({}),
  probe: async () => new Outcome().down('-', { skipMonitorfile: true, detail: 'checktype=off: no check, no change of state' }),
});
