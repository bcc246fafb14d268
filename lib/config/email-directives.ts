// The e-mail alert directives, read the same way at top level and in a virtual block
// (where they override the global value): emailalert, emailalertfreq, emailalertstatus
// and smtp. emailalertfrom is global only and stays with the global directives.
import { EMAIL_STATUSES, type DaemonStatus, type EmailSettings } from './model.js';
import { MSG } from './messages.js';
import { fail, ok, type Outcome } from './outcome.js';
import { directive } from './perl-values.js';

/** Where the directives land: the global draft (with defaults) or a virtual's (unset = inherit). */
export interface EmailDraft {
  emailalert?: string;
  emailalertfreq?: number;
  emailalertstatus?: Set<DaemonStatus>;
  smtp?: string;
}

/** One of the e-mail directives, or undefined when the line is none of them. */
export function emailDirective(text: string, draft: EmailDraft): Outcome | undefined {
  let v: string | undefined;
  if ((v = directive(text, 'emailalert')) !== undefined) {
    const r = readEmailAlert(v);
    return 'error' in r ? fail(r.error) : ok(() => (draft.emailalert = r.value));
  }
  const freq = /^emailalertfreq\s*=\s*(\d*)/.exec(text);
  if (freq) {
    const d = freq[1]!;
    return d !== '' ? ok(() => (draft.emailalertfreq = Number(d))) : fail(MSG.invalidEmailAlertFrequency);
  }
  if ((v = directive(text, 'emailalertstatus')) !== undefined) {
    const r = parseEmailAlertStatus(v);
    return 'error' in r ? fail(r.error) : ok(() => (draft.emailalertstatus = r.value));
  }
  if ((v = directive(text, 'smtp')) !== undefined) {
    const r = readSmtp(v);
    return 'error' in r ? fail(r.error) : ok(() => (draft.smtp = r.value));
  }
  return undefined;
}

/** read_emailalert: strip enclosing quotes; empty is an error. */
function readEmailAlert(value: string): { value: string } | { error: string } {
  const v = value.replace(/^"([^"]*)"$/, '$1');
  if (v === '') return { error: MSG.noEmailAddress };
  return { value: v };
}

/** parse_emailalertstatus. */
function parseEmailAlertStatus(value: string): { value: Set<DaemonStatus> } | { error: string } {
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
function readSmtp(value: string): { value: string } | { error: string } {
  const m = /^([0-9A-Za-z._+-]+)/.exec(value);
  return m ? { value: m[1]! } : { error: MSG.invalidSmtp };
}

/** The model's settings from the effective (virtual-else-global) values. */
export function emailSettings(
  alert: string,
  freq: number,
  status: EmailSettings['emailalertstatus'],
  smtp: string | undefined,
): EmailSettings {
  return {
    emailalert: splitEmailAddresses(alert),
    emailalertRaw: alert,
    emailalertfreq: freq,
    emailalertstatus: status,
    ...(smtp !== undefined ? { smtp } : {}),
  };
}

function splitEmailAddresses(value: string): string[] {
  return value
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}
