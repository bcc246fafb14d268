// Every message the parser prints. The original's wording is kept byte for byte
// (people grep for it, and the differential tests compare it); the leniency
// warnings are ours and always say what the original would have done.

export const MSG = {
  unknownCommand: (raw: string) => `Unknown command ${raw}`,
  unknownVirtualCommand: (raw: string) => `Unknown command "${raw}"`,
  duplicateVirtual: 'duplicate virtual server',

  // globals (§2.2)
  invalidCheckTimeoutValue: 'invalid check timeout value',
  invalidNegotiateTimeoutValue: 'invalid negotiate timeout value',
  connecttimeoutDeprecated: 'connecttimeout directive deprecated in favour of negotiatetimeout',
  timeoutDeprecated: 'timeout directive deprecated in favour of checktimeout and negotiatetimeout',
  invalidCheckIntervalValue: 'invalid check interval value',
  invalidCheckCountValue: 'invalid check count value',
  checkcountDeprecated: "checkcount option is deprecated and slated for removal.  please see 'failurecount'",
  invalidFailureCountValue: 'invalid failure count value',
  invalidFallbackCommand: 'invalid fallback command',
  yesNo: (name: string) => `${name} must be 'yes' or 'no'`,
  bareSupervised: 'please update your config not to use a bare supervised directive',
  unableToOpenLogfile: (v: string) => `unable to open logfile: ${v}`,
  noEmailAddress: 'no email address specified',
  invalidEmailAlertFrequency: 'invalid email alert frequency',
  invalidEmailAlertStatusAt: (v: string) => `invalid email alert status at: "${v}"`,
  invalidEmailAlertStatusWithNone: (v: string) => `invalid email alert status: "${v}" specified with "none"`,
  noEmailFrom: 'no email from address specified',
  invalidSmtp: 'invalid SMTP server address',
  maintenanceDirNotSpecified: 'maintenance directory not specified',
  maintenanceDirMissing: 'maintenance directory does not exist',

  // virtual block (§2.3)
  wrongReal: (used: string, want: string) => `cannot specify "${used}" here.  please use "${want}" instead`,
  wrongFallback: (used: string, want: string) => `cannot specify "${used}" here.  please use "${want}" instead`,
  noRequest: 'no request string specified',
  invalidReceive: 'invalid receive string',
  invalidChecktype: 'checktype must be "connect", "negotiate", "on", "off", "ping", "external", "external-perl" or a positive number',
  invalidCheckCommand: 'invalid check command',
  invalidCheckTimeout: 'invalid check timeout',
  invalidNegotiateTimeout: 'invalid negotiate timeout',
  invalidCheckCount: 'invalid check count',
  invalidFailureCount: 'invalid failure count',
  invalidCheckInterval: 'invalid checkinterval',
  invalidPort: 'invalid port',
  checkportRange: 'checkport must be in range 1..65536',
  invalidLogin: 'invalid login string',
  invalidPasswd: 'invalid password',
  invalidDatabase: 'invalid database',
  invalidSecret: 'invalid secret',
  invalidLoad: 'invalid string for load testing',
  invalidScheduler: 'invalid scheduler, should be only lowercase letters (a-z)',
  invalidPersistent: 'invalid persistent timeout',
  invalidSchedflags: 'invalid sched-flags',
  invalidNetmask6: 'invalid netmask: a prefix length between 1 and 128 is required',
  invalidNetmask4: 'invalid netmask: dotted quad notation is required',
  protocolFwm: 'protocol must be fwm if the virtual service is a fwmark (a number)',
  protocolTcpUdp: 'protocol must be tcp or udp if the virtual service is an address and port',
  invalidProtocol: 'invalid protocol',
  opsYesNo: "ops must be 'yes' or 'no'",
  invalidService:
    'service must be dns, ftp, http, https, http_proxy, imap, imaps, ldap, ldaps, mysql, nntp, none, oracle, pop, pops, radius, pgsql, simpletcp, sip, smtp or submission',
  invalidHttpMethod: 'httpmethod must be GET or HEAD',
  unableToOpenMonitorfile: (path: string, err: string) => `unable to open monitorfile ${path}: ${err}`,

  // virtual= forms (§2.4)
  ipv6InVirtual: 'cannot specify an IPv6 address here. please use "virtual6" instead.',
  invalidIpv6Virtual: 'invalid ipv6 address for virtual server',
  invalidVirtualAddress: 'invalid address for virtual server',
  invalidVirtualService: 'invalid address for virtual service',

  // real= and fallback= (§2.5)
  realWrongFormat: 'invalid address for real server (wrong format)',
  realUnresolvableHost: (h: string) => `invalid address (${h}) for real server (could not resolve host)`,
  realUnresolvableEndHost: (h: string) => `invalid address (${h}) for real server (could not resolve end host)`,
  realBadPort: (p: string) => `invalid port (${p}) for real server (could not resolve port)`,
  invalidRange: (a: string, b: string) => `Invalid Range: ${a}-${b}: First value must be greater than or equal to the second value`,
  invalidIp: (a: string) => `Invalid IP address: ${a}`,
  ipv6Range: 'Address range for IPv6 is not supported yet',
  forwardMethod: 'forward method must be gate, masq or ipip',
  invalidRealLine: (rest: string) => `Invalid real server line, around "${rest}"`,
  invalidFallbackServer: (v: string) => `invalid fallback server: ${v}`,
  fallbackUnresolvable: (ipVersion: string, host: string) =>
    `invalid ${ipVersion} address or could not resolve for fallback server: ${host}`,
  fallbackBadPort: 'invalid port for fallback server',
} as const;

/** Our own warnings: each names what the original ldirectord does with the same text. */
export const LENIENT = {
  blankLineInBlock:
    'blank line inside a virtual block: the original ldirectord ends the block here and rejects the indented lines after it; ldirectord-ts continues the block',
  shallowIndent: (n: number, lines: number) =>
    `virtual block line indented by ${n} space${n === 1 ? '' : 's'}${lines > 1 ? ` (and ${lines - 1} more such line${lines > 2 ? 's' : ''} in this block)` : ''}: the original ldirectord needs at least 4 (or a tab) and rejects it; ldirectord-ts continues the block`,
  crlf: (count: number) =>
    `CRLF line endings (${count} line${count === 1 ? '' : 's'}): the original ldirectord keeps the carriage returns and rejects most directives; ldirectord-ts ignores them`,
  trailingSpace: 'trailing whitespace after the value: the original ldirectord rejects this line; ldirectord-ts ignores the whitespace',
  hashInQuotes:
    "'#' inside a quoted value: the original ldirectord cuts the line at the '#' and rejects it; ldirectord-ts keeps the quoted value whole",
  upperBeforeLower: '"u:" given before "l:": the original ldirectord silently drops the upper threshold; ldirectord-ts honours both',
  weightAfterStrings:
    'weight given after the quoted request/receive: the original ldirectord silently drops the request and receive; ldirectord-ts honours both',
  ignoredRealText: (t: string) => `text "${t}" in the real server line is ignored (as the original ldirectord ignores it)`,
  fwmarkFromAddress: (mark: string, value: string) =>
    `virtual=${value} has no port and is taken as fwmark ${mark}, as the original ldirectord does; write virtual=${mark} if a fwmark is meant`,
  rangeStringCompare: (ours: number, theirs: number) =>
    `this range has ${ours} addresses; the original ldirectord compares addresses as strings and would add ${theirs}`,
  relativeLogfile: (v: string) =>
    `logfile "${v}" is neither an absolute path nor a syslog facility: the original ldirectord passes it to syslog as a facility name, so its messages arrive as kern.notice (or are lost where /dev/log is missing); ldirectord-ts logs them to syslog facility daemon`,
} as const;

export const OUR_ERRORS = {
  rangeTooLarge: (n: number, max: number) =>
    `real server range of ${n} addresses is larger than ${max}: split it (the original ldirectord would try to add every one)`,
  receiveRegex: (why: string) => `invalid receive string: ${why}`,
  cannotReadFile: (file: string, why: string) => `can not open file ${file}: ${why}`,
} as const;

/** The original's config diagnostic line (spec §2.7). */
export const configDiagnostic = (severity: 'error' | 'warning', pid: number, config: string, line: number, msg: string) =>
  `${severity === 'error' ? 'Error' : 'Warning'} [${pid}]${line > 0 ? ` reading file ${config} at line ${line}` : ''}: ${msg}`;
