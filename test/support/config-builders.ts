// Config-model values built by hand, for tests that need a VirtualService, a RealServer or
// a whole Config without parsing a file. The one place that spells out every field of the
// model: a field added to it is added here once, and each suite passes only the values its
// assertions depend on.
import type { Config, EmailSettings, GlobalSettings, RealServer, VirtualService } from '../../lib/config/model.js';

/** No e-mail alerts (emailalert unset). */
export function noEmail(): EmailSettings {
  return { emailalert: [], emailalertRaw: '', emailalertfreq: 0, emailalertstatus: new Set() };
}

/** `virtual=10.0.0.1:80`, tcp, wrr, a negotiate check of http `/` every 10 s with 5 s timeouts; `over` on top. */
export function virtualService(over: Partial<VirtualService> = {}): VirtualService {
  return {
    id: 'tcp:10.0.0.1:80',
    name: '10.0.0.1:80',
    family: 4,
    protocol: 'tcp',
    ip: '10.0.0.1',
    port: 80,
    line: 1,
    reals: [],
    checktype: { kind: 'negotiate' },
    service: 'http',
    checkcommand: '/bin/true',
    checktimeout: 5,
    negotiatetimeout: 5,
    checkinterval: 10,
    checkcount: 1,
    failurecount: 1,
    successcount: 1,
    slowstart: 0,
    request: '/',
    receive: '',
    httpmethod: 'GET',
    login: '',
    passwd: '',
    database: '',
    secret: '',
    scheduler: 'wrr',
    ops: false,
    quiescent: false,
    cleanstop: true,
    email: noEmail(),
    ...over,
  };
}

/** `real=127.0.0.1 masq 1` (no port: the checks use the service's); `over` on top. */
export function realServer(over: Partial<RealServer> = {}): RealServer {
  return { ip: '127.0.0.1', port: 0, forward: 'masq', weight: 1, lowerThreshold: 0, upperThreshold: 0, line: 2, ...over };
}

/** The global defaults of an ldirectord.cf without global directives; `over` on top. */
export function globalSettings(over: Partial<GlobalSettings> = {}): GlobalSettings {
  return {
    checkinterval: 10,
    checkcount: 1,
    failurecount: 1,
    successcount: 1,
    slowstart: 0,
    autoreload: false,
    logfile: '/var/log/ldirectord.log',
    execute: [],
    fork: false,
    supervised: false,
    quiescent: false,
    readdquiescent: false,
    email: noEmail(),
    cleanstop: true,
    ...over,
  };
}

/** A config read from /etc/ldirectord.cf with these virtuals and globals. */
export function configOf(virtuals: readonly VirtualService[], globals: Partial<GlobalSettings> = {}): Config {
  return { file: '/etc/ldirectord.cf', globals: globalSettings(globals), virtuals };
}
