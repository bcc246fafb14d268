// Syslog facilities: the names a non-path `logfile=` may give (the config parser
// warns about any other) and their syslog(3) numbers.

/** Facility numbers of syslog(3) (RFC 3164 table 1). */
export const FACILITY_CODES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** The facility names the original's logfile= accepts for syslog. */
export const SYSLOG_FACILITIES: ReadonlySet<string> = new Set(Object.keys(FACILITY_CODES));

export interface Facility {
  readonly name: string;
  readonly code: number;
}

/**
 * The facility a non-path `logfile=` value names. Anything the config parser
 * does not know as a facility (it warns about it) becomes daemon.
 */
export function syslogFacility(logfile: string): Facility {
  const name = SYSLOG_FACILITIES.has(logfile) ? logfile : 'daemon';
  return { name, code: FACILITY_CODES[name]! };
}
