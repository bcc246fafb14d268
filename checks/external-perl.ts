// checktype=external-perl: the original compiles checkcommand as Perl and runs it in
// its own process. ldirectord-ts runs the file with perl(1) instead (spec §10), with the
// same four arguments in @ARGV: exit(0) or falling off the end is up; exit(n) with n > 0,
// die, a compile error or the timeout (checktimeout, SIGTERM) is down. Like the
// original, it writes no monitorfile line.
import { externalArguments, runExternal } from './external.js';
import { CHECKTIMEOUT, defineChecker } from './types.js';

export const PERL = '/usr/bin/perl';

export const externalPerlChecker = defineChecker({
  name: 'external-perl',
  timeout: CHECKTIMEOUT,
  options: (target, timeoutSeconds) => ({ file: target.virtual.checkcommand, args: externalArguments(target), timeoutSeconds }),
  probe: (_endpoint, { file, args, timeoutSeconds }, signal) =>
    runExternal(
      { command: PERL, args: ['--', file, ...args], describe: `(external-perl) ${file} ${args.join(' ')}`, timeoutSeconds },
      signal,
      true,
    ),
});
