// Small readers for the original's value idioms ("first digit run anywhere",
// Perl truthiness, quoted values), shared by the global and virtual directives.
import { EMAIL_STATUSES, type DaemonStatus } from './model.js';
import { MSG } from './messages.js';

/** Perl truthiness of a string: only '' and '0' are false ("00" is true). */
export function perlTrue(s: string | undefined): boolean {
  return s !== undefined && s !== '' && s !== '0';
}

/** `$value =~ /(\d+)/`: the first run of digits anywhere, as text. */
export function firstDigits(value: string): string | undefined {
  return /(\d+)/.exec(value)?.[1];
}

const plainPatterns = new Map<string, RegExp>();
const quotedPatterns = new Map<string, RegExp>();

function pattern(cache: Map<string, RegExp>, name: string, value: string): RegExp {
  let re = cache.get(name);
  if (!re) cache.set(name, (re = new RegExp(`^${name}\\s*=\\s*${value}`)));
  return re;
}

/** The original's `name\s*=\s*(.*)` match against a directive line. */
export function directive(text: string, name: string): string | undefined {
  // Cheap prefix test first: most lines are not most directives.
  if (!text.startsWith(name)) return undefined;
  const m = pattern(plainPatterns, name, '(.*)').exec(text);
  return m ? m[1] : undefined;
}

/** `name\s*=\s*"(.*)"`: everything between the first and the last quote. */
export function quotedDirective(text: string, name: string): string | undefined {
  if (!text.startsWith(name)) return undefined;
  const m = pattern(quotedPatterns, name, '"(.*)"').exec(text);
  return m ? m[1] : undefined;
}

/** read_emailalert: strip enclosing quotes; empty is an error. */
export function readEmailAlert(value: string): { value: string } | { error: string } {
  const v = value.replace(/^"([^"]*)"$/, '$1');
  if (v === '') return { error: MSG.noEmailAddress };
  return { value: v };
}

export function splitEmailAddresses(value: string): string[] {
  return value
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

/** parse_emailalertstatus. */
export function parseEmailAlertStatus(value: string): { value: Set<DaemonStatus> } | { error: string } {
  const items = value.split(/\s*,\s*/);
  const hasNone = items.includes('none');
  const set = new Set<DaemonStatus>();
  for (const item of items) {
    if (item === 'none') continue;
    if (item === 'all') EMAIL_STATUSES.forEach((s) => set.add(s));
    else if ((EMAIL_STATUSES as readonly string[]).includes(item)) set.add(item as DaemonStatus);
    else return { error: MSG.invalidEmailAlertStatusAt(item) };
    if (hasNone) return { error: MSG.invalidEmailAlertStatusWithNone(item) };
  }
  return { value: set };
}

/** `smtp=`: the leading run of host characters; a port is not possible. */
export function readSmtp(value: string): { value: string } | { error: string } {
  const m = /^([0-9A-Za-z._+-]+)/.exec(value);
  return m ? { value: m[1]! } : { error: MSG.invalidSmtp };
}

export const SYSLOG_FACILITIES = new Set([
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
]);

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
};

/** The strerror(3) text Perl's `$!` would show for a Node error. */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && ERRNO_TEXT[code]) || (err instanceof Error ? err.message : String(err));
}
