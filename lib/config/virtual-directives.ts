// Directives inside a virtual= / virtual6= block, matched in the original's
// order (spec §2.3). Values are kept as the original stores them; inheritance
// and resolution happen after the whole file is read (build-model.ts).
import { SERVICES, type CheckType, type DaemonStatus, type Family, type Service } from './model.js';
import { MSG } from './messages.js';
import { emailDirective } from './email-directives.js';
import { fail, ok, yesNo, type Outcome } from './outcome.js';
import { directive, firstDigits, perlTrue, quotedDirective } from './perl-values.js';
import { parseFallbackValue, splitRealAddress, type FallbackPart } from './real-line.js';
import { readSlowStart, readSuccessCount } from './extension-values.js';

export interface VirtualDraft {
  readonly family: Family;
  readonly line: number;
  /** Line that ended the block: where the original reports a duplicate. */
  endLine: number;
  /** `host:port` text of the address form; undefined for a fwmark. */
  readonly ipPort?: string;
  readonly fwmark?: string;
  /** The port text as written (the fallback borrows it); '0' for a fwmark. */
  readonly portText: string;
  /** The virtual= value itself was bad: the block is read but yields nothing. */
  readonly invalid: boolean;

  protocol: 'tcp' | 'udp' | 'fwm';
  checktype: CheckType;
  service?: Service;
  scheduler: string;
  checkcommand: string;
  request: string;
  receive: string;
  receiveLine: number;
  login: string;
  passwd: string;
  database: string;
  secret: string;
  checktimeout?: number;
  negotiatetimeout?: number;
  checkcount?: number;
  failurecount?: number;
  successcount?: number;
  slowstart?: number;
  checkinterval?: number;
  checkport?: number;
  httpmethod: 'GET' | 'HEAD';
  virtualhost?: string;
  persistent?: number;
  schedflags?: string;
  netmask?: string;
  ops: boolean;
  fallback?: { part: FallbackPart; line: number };
  fallbackcommand?: string;
  quiescent?: boolean;
  emailalert?: string;
  emailalertfreq?: number;
  emailalertstatus?: Set<DaemonStatus>;
  cleanstop?: boolean;
  smtp?: string;
  monitorfile?: string;
  servicename?: string;
  comment?: string;
  reals: { value: string; line: number; address?: ReturnType<typeof splitRealAddress> }[];
}

export function newVirtualDraft(
  family: Family,
  line: number,
  address: { ipPort: string; portText: string } | { fwmark: string } | { invalid: true },
): VirtualDraft {
  const isFwm = 'fwmark' in address;
  const base = {
    family,
    line,
    endLine: line,
    portText: 'portText' in address ? address.portText : '0',
    invalid: 'invalid' in address,
    protocol: isFwm ? ('fwm' as const) : 'ipPort' in address && /:(53|domain)$/.test(address.ipPort) ? ('udp' as const) : ('tcp' as const),
    checktype: { kind: 'negotiate' as const },
    scheduler: 'wrr',
    checkcommand: '/bin/true',
    request: '/',
    receive: '',
    receiveLine: 0,
    login: '',
    passwd: '',
    database: '',
    secret: '',
    httpmethod: 'GET' as const,
    ops: false,
    reals: [],
  };
  if ('ipPort' in address) return { ...base, ipPort: address.ipPort };
  if (isFwm) return { ...base, fwmark: address.fwmark, service: 'none' };
  return base;
}

export interface VirtualContext {
  readonly line: number;
  /** The line as written: the original quotes it whole in "Unknown command". */
  readonly rawLine: string;
  readonly hostname: string;
  readonly openForAppend: (path: string) => string | null;
}

const CHECKTYPES = ['connect', 'negotiate', 'ping', 'off', 'on', 'external', 'external-perl'] as const;

function nonZeroDigits(value: string, error: string, set: (n: number) => void): Outcome {
  const d = firstDigits(value);
  return perlTrue(d) ? ok(() => set(Number(d))) : fail(error);
}

function quotedNonEmpty(text: string, name: string, error: string, set: (s: string) => void): Outcome | undefined {
  const q = quotedDirective(text, name);
  if (q === undefined) return undefined;
  return q !== '' ? ok(() => set(q)) : fail(error);
}

export function virtualDirective(text: string, vs: VirtualDraft, ctx: VirtualContext): Outcome {
  let v: string | undefined;
  let r: Outcome | undefined;
  const real = /^(real(6)?)\s*=\s*(.*)/.exec(text);
  if (real) {
    if ((vs.family === 4) === (real[2] !== undefined)) return fail(MSG.wrongReal(real[1]!, vs.family === 4 ? 'real' : 'real6'));
    const value = real[3]!;
    return ok(() => vs.reals.push({ value, line: ctx.line }));
  }
  if ((v = quotedDirective(text, 'request')) !== undefined) {
    if (v === '') return fail(MSG.noRequest);
    const req = v.startsWith('/') ? v : `/${v}`;
    return ok(() => (vs.request = req));
  }
  if ((v = quotedDirective(text, 'receive')) !== undefined) {
    const rec = v;
    if (rec === '') return fail(MSG.invalidReceive);
    return ok(() => {
      vs.receive = rec;
      vs.receiveLine = ctx.line;
    });
  }
  if ((v = directive(text, 'checktype')) !== undefined) {
    const d = firstDigits(v);
    if (d !== undefined) return ok(() => (vs.checktype = { kind: 'combined', n: Number(d) }));
    const word = /([\w-]+)/.exec(v)?.[1];
    const kind = CHECKTYPES.find((c) => c === word);
    return kind ? ok(() => (vs.checktype = { kind })) : fail(MSG.invalidChecktype);
  }
  if ((v = quotedDirective(text, 'checkcommand') ?? directive(text, 'checkcommand')) !== undefined) {
    const cmd = v;
    return cmd !== '' ? ok(() => (vs.checkcommand = cmd)) : fail(MSG.invalidCheckCommand);
  }
  if ((v = directive(text, 'checktimeout')) !== undefined) return nonZeroDigits(v, MSG.invalidCheckTimeout, (n) => (vs.checktimeout = n));
  if (directive(text, 'connecttimeout') !== undefined) return fail(MSG.connecttimeoutDeprecated);
  if ((v = directive(text, 'negotiatetimeout')) !== undefined)
    return nonZeroDigits(v, MSG.invalidNegotiateTimeout, (n) => (vs.negotiatetimeout = n));
  if ((v = directive(text, 'checkcount')) !== undefined) {
    const d = firstDigits(v);
    return perlTrue(d) ? ok(() => (vs.checkcount = Number(d)), [MSG.checkcountDeprecated]) : fail(MSG.invalidCheckCount);
  }
  if ((v = directive(text, 'failurecount')) !== undefined) return nonZeroDigits(v, MSG.invalidFailureCount, (n) => (vs.failurecount = n));
  // ldirectord-ts extensions: read strictly (the original has no such directives).
  if ((v = directive(text, 'successcount')) !== undefined) {
    const n = readSuccessCount(v);
    return 'error' in n ? fail(n.error) : ok(() => (vs.successcount = n.value));
  }
  if ((v = directive(text, 'slowstart')) !== undefined) {
    const n = readSlowStart(v);
    return 'error' in n ? fail(n.error) : ok(() => (vs.slowstart = n.value));
  }
  if ((v = directive(text, 'checkinterval')) !== undefined)
    return nonZeroDigits(v, MSG.invalidCheckInterval, (n) => (vs.checkinterval = n));
  if ((v = directive(text, 'checkport')) !== undefined) {
    const d = firstDigits(v);
    if (d === undefined) return fail(MSG.invalidPort);
    const n = Number(d);
    return n > 0 && n < 65536 ? ok(() => (vs.checkport = n)) : fail(MSG.checkportRange);
  }
  if ((r = quotedNonEmpty(text, 'login', MSG.invalidLogin, (s) => (vs.login = s)))) return r;
  if ((r = quotedNonEmpty(text, 'passwd', MSG.invalidPasswd, (s) => (vs.passwd = s)))) return r;
  if ((r = quotedNonEmpty(text, 'database', MSG.invalidDatabase, (s) => (vs.database = s)))) return r;
  if ((r = quotedNonEmpty(text, 'secret', MSG.invalidSecret, (s) => (vs.secret = s)))) return r;
  if ((v = quotedDirective(text, 'load')) !== undefined)
    // Undocumented and unused by the original: accepted and ignored.
    return /\w+/.test(v) ? ok(() => undefined) : fail(MSG.invalidLoad);
  if ((v = directive(text, 'scheduler')) !== undefined) {
    const s = /([a-z]+)/.exec(v)?.[1];
    return s ? ok(() => (vs.scheduler = s)) : fail(MSG.invalidScheduler);
  }
  if ((v = directive(text, 'persistent')) !== undefined) {
    const d = firstDigits(v);
    return d !== undefined ? ok(() => (vs.persistent = Number(d))) : fail(MSG.invalidPersistent);
  }
  if ((v = directive(text, 'schedflags')) !== undefined) {
    const f = /(\S+)/.exec(v)?.[1];
    return f ? ok(() => (vs.schedflags = f)) : fail(MSG.invalidSchedflags);
  }
  if ((v = directive(text, 'netmask')) !== undefined) {
    const mask = v;
    if (vs.family === 6) {
      if (!/^\d+$/.test(mask) || Number(mask) < 1 || Number(mask) > 128) return fail(MSG.invalidNetmask6);
    } else if (!/^\d+\.\d+\.\d+\.\d+$/.test(mask)) return fail(MSG.invalidNetmask4);
    return ok(() => (vs.netmask = mask));
  }
  if ((v = directive(text, 'protocol')) !== undefined) {
    const p = /(\w+)/.exec(v)?.[1];
    if (p === undefined) return fail(MSG.invalidProtocol);
    if (vs.protocol === 'fwm') return p === 'fwm' ? ok(() => undefined) : fail(MSG.protocolFwm);
    return p === 'tcp' || p === 'udp' ? ok(() => (vs.protocol = p)) : fail(MSG.protocolTcpUdp);
  }
  if ((v = directive(text, 'ops')) !== undefined) {
    const o = v;
    return o === 'yes' || o === 'no' ? ok(() => (vs.ops = o === 'yes')) : fail(MSG.opsYesNo);
  }
  if ((v = directive(text, 'service')) !== undefined) {
    const s = /(\w+)/.exec(v)?.[1];
    const service = SERVICES.find((x) => x === s);
    if (!service) return fail(MSG.invalidService);
    return ok(() => {
      vs.service = service;
      // Side effects at the moment the line is read, as the original does.
      if (service === 'ftp' && vs.login === '') vs.login = 'anonymous';
      else if (service === 'sip' && vs.login === '') vs.login = `ldirectord@${ctx.hostname}`;
      if (service === 'ftp' && vs.passwd === '') vs.passwd = `ldirectord@${ctx.hostname}`;
    });
  }
  if ((v = directive(text, 'httpmethod')) !== undefined) {
    const m = /(\w+)/.exec(v)?.[1]?.toUpperCase();
    return m === 'GET' || m === 'HEAD' ? ok(() => (vs.httpmethod = m)) : fail(MSG.invalidHttpMethod);
  }
  if ((v = directive(text, 'virtualhost')) !== undefined) {
    const host = /"?([^"]*)"?/.exec(v)![1]!;
    return ok(() => (vs.virtualhost = host));
  }
  const fb = /^(fallback(6)?)\s*=\s*(.*)/.exec(text);
  if (fb) {
    if ((vs.family === 4) === (fb[2] !== undefined)) return fail(MSG.wrongFallback(fb[1]!, vs.family === 4 ? 'fallback' : 'fallback6'));
    const part = parseFallbackValue(fb[3]!);
    if ('error' in part) return fail(part.error);
    const withPort = part.port === undefined ? { ...part, port: vs.portText } : part;
    return ok(() => (vs.fallback = { part: withPort, line: ctx.line }));
  }
  if ((v = quotedDirective(text, 'fallbackcommand') ?? directive(text, 'fallbackcommand')) !== undefined) {
    const cmd = v;
    return cmd !== '' ? ok(() => (vs.fallbackcommand = cmd)) : fail(MSG.invalidFallbackCommand);
  }
  if ((v = directive(text, 'quiescent')) !== undefined) return yesNo(v, 'quiescent', (b) => (vs.quiescent = b));
  if ((r = emailDirective(text, vs))) return r;
  if ((v = quotedDirective(text, 'monitorfile') ?? directive(text, 'monitorfile')) !== undefined) {
    const path = v;
    const err = ctx.openForAppend(path);
    return err === null ? ok(() => (vs.monitorfile = path)) : fail(MSG.unableToOpenMonitorfile(path, err));
  }
  if ((v = directive(text, 'cleanstop')) !== undefined) return yesNo(v, 'cleanstop', (b) => (vs.cleanstop = b));
  if ((v = directive(text, 'servicename')) !== undefined) {
    const name = v;
    return ok(() => (vs.servicename = name));
  }
  if ((v = directive(text, 'comment')) !== undefined) {
    const c = v;
    return ok(() => (vs.comment = c));
  }
  return fail(MSG.unknownVirtualCommand(ctx.rawLine));
}
