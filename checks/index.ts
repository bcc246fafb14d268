// Public surface of the checks layer: the registry, target building, the combined
// sequence, the receive-regex translation and the types.
export { CHECKERS, buildRegistry, getChecker, selectChecker, serviceChecker } from './registry.js';
export { buildTarget, checkPortFor, defaultPortFor, SERVICE_DEFAULT_PORTS, stripBrackets } from './target.js';
export { COMBINED_FORCE_NEGOTIATE, combinedNext, combinedStep, type CombinedStep } from './combined.js';
export { perlBytes, perlMatch, translatePerlRegex, type PerlRegexTranslation } from '../lib/perl-regex/regex.js';
export type { CheckResult, CheckTarget, Checker } from './types.js';
