// checktype=external-perl: the original compiles checkcommand as Perl and runs it in
// its own process. ldirectord-ts runs the file with perl(1) instead (spec §10), with the
// same four arguments in @ARGV: exit(0) or falling off the end is up; exit(n) with n > 0,
// die, a compile error or the timeout (checktimeout, SIGTERM) is down. Like the
// original, it writes no monitorfile line.
import type { VirtualService } from '../lib/config/model.js';
import { externalArguments, runExternal } from './external.js';
import { Outcome } from './outcome.js';
import type { CheckResult, CheckTarget, Checker } from './types.js';

export const PERL = '/usr/bin/perl';

export const externalPerlChecker: Checker = {
  name: 'external-perl',
  timeoutSeconds: (virtual: VirtualService) => virtual.checktimeout,
  probe: (target: CheckTarget, signal: AbortSignal): Promise<CheckResult> => {
    const outcome = new Outcome();
    const args = externalArguments(target);
    const file = target.virtual.checkcommand;
    return runExternal(
      { command: PERL, args: ['--', file, ...args], describe: `(external-perl) ${file} ${args.join(' ')}` },
      target.virtual.checktimeout,
      signal,
      outcome,
      true,
    );
  },
};
