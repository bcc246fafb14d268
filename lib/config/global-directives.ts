// Top-level (global) directives, matched in the original's order (spec §2.2).
// A handler never mutates on error, so a line can be re-tried in a lenient form.
import type { DaemonStatus, StatusAddress } from './model.js';
import { readSlowStart, readStatusAddress, readSuccessCount, type Read } from './extension-values.js';
import { LENIENT, MSG } from './messages.js';
import { SYSLOG_FACILITIES } from '../log/facilities.js';
import { emailDirective } from './email-directives.js';
import { fail, ok, yesNo, type Outcome } from './outcome.js';
import { directive, firstDigits, perlTrue, quotedDirective } from './perl-values.js';
import { parseFallbackValue, type FallbackPart } from './real-line.js';
import { syncDirective, type SyncDraft } from './sync-directives.js';

export interface GlobalDraft {
  checktimeout?: number;
  negotiatetimeout?: number;
  checkinterval: number;
  checkcount: number;
  failurecount: number;
  successcount: number;
  slowstart: number;
  statusaddress?: StatusAddress;
  fallback?: { part: FallbackPart; line: number };
  fallback6?: { part: FallbackPart; line: number };
  fallbackcommand?: string;
  autoreload: boolean;
  callback?: string;
  logfile: string;
  logfileLine: number;
  execute: string[];
  fork: boolean;
  supervised: boolean;
  quiescent: boolean;
  readdquiescent: boolean;
  emailalert: string;
  emailalertfreq: number;
  emailalertstatus: Set<DaemonStatus>;
  emailalertfrom?: string;
  cleanstop: boolean;
  smtp?: string;
  maintenancedir?: string;
  sync: SyncDraft;
}

export function defaultGlobals(): GlobalDraft {
  return {
    checkinterval: 10,
    checkcount: 1,
    failurecount: 1,
    successcount: 1,
    slowstart: 0,
    autoreload: false,
    logfile: '/var/log/ldirectord.log',
    logfileLine: 0,
    execute: [],
    fork: false,
    supervised: false,
    quiescent: false,
    readdquiescent: false,
    emailalert: '',
    emailalertfreq: 0,
    emailalertstatus: new Set(['starting', 'running', 'stopping', 'reloading']),
    cleanstop: true,
    sync: {},
  };
}

export interface GlobalContext {
  readonly line: number;
  /** Test-opens a log file for append; returns the error text or null. */
  readonly openForAppend: (path: string) => string | null;
  readonly isDirectory: (path: string) => boolean;
  /** -d mode: the original does not test-open the logfile. */
  readonly debug: boolean;
}

function positiveNumber(value: string, error: string, set: (n: number) => void): Outcome {
  const d = firstDigits(value);
  return perlTrue(d) && Number(d) > 0 ? ok(() => set(Number(d))) : fail(error);
}

function extension<T>(r: Read<T>, set: (v: T) => void): Outcome {
  return 'error' in r ? fail(r.error) : ok(() => set(r.value));
}

export function globalDirective(text: string, g: GlobalDraft, ctx: GlobalContext): Outcome {
  let v: string | undefined;
  if ((v = directive(text, 'checktimeout')) !== undefined)
    return positiveNumber(v, MSG.invalidCheckTimeoutValue, (n) => (g.checktimeout = n));
  if (directive(text, 'connecttimeout') !== undefined) return fail(MSG.connecttimeoutDeprecated);
  if ((v = directive(text, 'negotiatetimeout')) !== undefined)
    return positiveNumber(v, MSG.invalidNegotiateTimeoutValue, (n) => (g.negotiatetimeout = n));
  if ((v = directive(text, 'checkinterval')) !== undefined)
    return positiveNumber(v, MSG.invalidCheckIntervalValue, (n) => (g.checkinterval = n));
  if ((v = directive(text, 'checkcount')) !== undefined) {
    const d = firstDigits(v);
    return perlTrue(d) ? ok(() => (g.checkcount = Number(d)), [MSG.checkcountDeprecated]) : fail(MSG.invalidCheckCountValue);
  }
  if ((v = directive(text, 'failurecount')) !== undefined) {
    const d = firstDigits(v);
    return perlTrue(d) ? ok(() => (g.failurecount = Number(d))) : fail(MSG.invalidFailureCountValue);
  }
  const fb = /^fallback(6)?\s*=\s*(.*)/.exec(text);
  if (fb) {
    const part = parseFallbackValue(fb[2]!);
    if ('error' in part) return fail(part.error);
    const entry = { part, line: ctx.line };
    return ok(() => (fb[1] ? (g.fallback6 = entry) : (g.fallback = entry)));
  }
  if ((v = directive(text, 'fallbackcommand')) !== undefined) {
    const cmd = v;
    return cmd !== '' ? ok(() => (g.fallbackcommand = cmd)) : fail(MSG.invalidFallbackCommand);
  }
  if ((v = directive(text, 'autoreload')) !== undefined) return yesNo(v, 'autoreload', (b) => (g.autoreload = b));
  if ((v = quotedDirective(text, 'callback')) !== undefined) {
    const cb = v;
    return ok(() => (g.callback = cb));
  }
  if ((v = quotedDirective(text, 'logfile')) !== undefined) {
    const path = v;
    if (!ctx.debug && !g.supervised && path.startsWith('/')) {
      const err = ctx.openForAppend(path);
      if (err !== null) return fail(MSG.unableToOpenLogfile(path));
    }
    const warnings = !path.startsWith('/') && !SYSLOG_FACILITIES.has(path) ? [LENIENT.relativeLogfile(path)] : undefined;
    return ok(() => {
      g.logfile = path;
      g.logfileLine = ctx.line;
    }, warnings);
  }
  if ((v = directive(text, 'execute')) !== undefined) {
    const name = v;
    return ok(() => {
      if (!g.execute.includes(name)) g.execute.push(name);
    });
  }
  if ((v = directive(text, 'fork')) !== undefined) return yesNo(v, 'fork', (b) => (g.fork = b));
  if (/^supervised/.test(text)) {
    const s = directive(text, 'supervised');
    if (s === 'yes' || s === 'no') return ok(() => (g.supervised = s === 'yes'));
    if (/^supervised\s*$/.test(text)) return ok(() => (g.supervised = true), [MSG.bareSupervised]);
    return fail(MSG.yesNo('supervised'));
  }
  if ((v = directive(text, 'quiescent')) !== undefined) return yesNo(v, 'quiescent', (b) => (g.quiescent = b));
  if ((v = directive(text, 'readdquiescent')) !== undefined) return yesNo(v, 'readdquiescent', (b) => (g.readdquiescent = b));
  const email = emailDirective(text, g);
  if (email) return email;
  if ((v = directive(text, 'emailalertfrom')) !== undefined) {
    const from = v;
    return from !== '' ? ok(() => (g.emailalertfrom = from)) : fail(MSG.noEmailFrom);
  }
  if ((v = directive(text, 'cleanstop')) !== undefined) return yesNo(v, 'cleanstop', (b) => (g.cleanstop = b));
  if ((v = directive(text, 'maintenancedir')) !== undefined) {
    const dir = v;
    if (dir === '') return fail(MSG.maintenanceDirNotSpecified);
    return ok(() => (g.maintenancedir = dir), ctx.isDirectory(dir) ? undefined : [MSG.maintenanceDirMissing]);
  }
  // ldirectord-ts extensions (none of these names is known to the original).
  if ((v = directive(text, 'successcount')) !== undefined) return extension(readSuccessCount(v), (n) => (g.successcount = n));
  if ((v = directive(text, 'slowstart')) !== undefined) return extension(readSlowStart(v), (n) => (g.slowstart = n));
  if ((v = directive(text, 'statusaddress')) !== undefined) return extension(readStatusAddress(v), (a) => (g.statusaddress = a));
  const sync = syncDirective(text, g.sync, ctx.line);
  if (sync) return sync;
  if (directive(text, 'timeout') !== undefined) return fail(MSG.timeoutDeprecated);
  return fail(MSG.unknownCommand(text));
}
