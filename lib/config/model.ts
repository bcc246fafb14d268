// The typed, immutable model of an ldirectord.cf. Every value here is already
// resolved (addresses, ports, defaults, inheritance), so consumers never re-read
// the text. Field names follow the directives they come from.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  /** 1-based; 0 when the problem belongs to no line (e.g. file-wide). */
  readonly line: number;
  readonly message: string;
}

export type Family = 4 | 6;
export type Forward = 'gate' | 'masq' | 'ipip';
export type Protocol = 'tcp' | 'udp' | 'fwm';

export const SERVICES = [
  'dns',
  'ftp',
  'http',
  'https',
  'http_proxy',
  'imap',
  'imaps',
  'ldap',
  'ldaps',
  'mysql',
  'nntp',
  'none',
  'oracle',
  'pgsql',
  'pop',
  'pops',
  'radius',
  'simpletcp',
  'sip',
  'smtp',
  'submission',
  // Extensions: services the original does not know. Only an explicit service= selects
  // them (a virtual on port 22 still defaults to none), so configs the original accepts
  // mean the same here.
  'ssh',
] as const;
export type Service = (typeof SERVICES)[number];

export type CheckType =
  | { readonly kind: 'connect' | 'negotiate' | 'ping' | 'off' | 'on' | 'external' | 'external-perl' }
  /** "checktype=N": negotiate, N x connect, negotiate, ... */
  | { readonly kind: 'combined'; readonly n: number };

export const EMAIL_STATUSES = ['starting', 'running', 'stopping', 'reloading'] as const;
export type DaemonStatus = (typeof EMAIL_STATUSES)[number];

/** Address text as ipvsadm and the log lines print it: `1.2.3.4` or `[2001:db8::1]`. */
export type AddressText = string;

export interface RealServer {
  /** Resolved address, IPv6 in brackets. */
  readonly ip: AddressText;
  /** 0 when omitted in the config (checks then use the service's default port). */
  readonly port: number;
  readonly forward: Forward;
  readonly weight: number;
  /** ipvsadm -y; 0 when unset. */
  readonly lowerThreshold: number;
  /** ipvsadm -x; 0 when unset. */
  readonly upperThreshold: number;
  /** Per-real overrides of the virtual's request/receive (request already has its leading '/'). */
  readonly request?: string;
  readonly receive?: string;
  readonly line: number;
}

export interface FallbackServer {
  readonly ip: AddressText;
  /** Undefined for a global fallback written without a port: it borrows each virtual's port. */
  readonly port?: number;
  readonly forward: Forward;
  readonly line: number;
}

export interface EmailSettings {
  /** Each recipient separately (the original's single comma string, split). Empty = disabled. */
  readonly emailalert: readonly string[];
  /** The raw emailalert value as written (used for the To: header like the original). */
  readonly emailalertRaw: string;
  readonly emailalertfreq: number;
  readonly emailalertstatus: ReadonlySet<DaemonStatus>;
  /** SMTP host (no port, like the original) or undefined for the local sendmail. */
  readonly smtp?: string;
}

export interface VirtualService {
  /** `tcp:1.2.3.4:80`, `udp:[::1]:53`, `fwm:7`, `fwm6:8`: the original's virtual id. */
  readonly id: string;
  /** `1.2.3.4:80`, `[::1]:80` or `7`: how log lines name the virtual. */
  readonly name: string;
  readonly family: Family;
  readonly protocol: Protocol;
  /** Address form only. */
  readonly ip?: AddressText;
  readonly port?: number;
  /** Fwmark form only. */
  readonly fwmark?: number;
  readonly line: number;

  readonly reals: readonly RealServer[];
  readonly fallback?: FallbackServer;
  readonly fallbackcommand?: string;

  readonly checktype: CheckType;
  readonly service: Service;
  readonly checkcommand: string;
  /** Effective values after §2.6 inheritance, in seconds. */
  readonly checktimeout: number;
  readonly negotiatetimeout: number;
  readonly checkinterval: number;
  readonly checkcount: number;
  readonly failurecount: number;
  /** ldirectord-ts: consecutive successes a down real needs to come back (1 = the original's behaviour). */
  readonly successcount: number;
  /** ldirectord-ts: seconds over which a recovered real's weight ramps up; 0 = off. */
  readonly slowstart: number;
  readonly checkport?: number;
  readonly request: string;
  readonly receive: string;
  readonly httpmethod: 'GET' | 'HEAD';
  readonly virtualhost?: string;
  readonly login: string;
  readonly passwd: string;
  readonly database: string;
  readonly secret: string;

  readonly scheduler: string;
  /** Persistence timeout in seconds; undefined when not persistent. */
  readonly persistent?: number;
  readonly netmask?: string;
  readonly ops: boolean;
  readonly schedflags?: string;

  readonly quiescent: boolean;
  readonly cleanstop: boolean;
  readonly email: EmailSettings;
  readonly monitorfile?: string;
  readonly servicename?: string;
  readonly comment?: string;
}

export interface GlobalSettings {
  readonly checktimeout?: number;
  readonly negotiatetimeout?: number;
  readonly checkinterval: number;
  readonly checkcount: number;
  readonly failurecount: number;
  /** ldirectord-ts: default of the per-virtual successcount. */
  readonly successcount: number;
  /** ldirectord-ts: default of the per-virtual slowstart. */
  readonly slowstart: number;
  /** ldirectord-ts: where the status/metrics HTTP listener binds; none when unset. */
  readonly statusaddress?: StatusAddress;
  readonly fallback?: FallbackServer;
  readonly fallback6?: FallbackServer;
  readonly fallbackcommand?: string;
  readonly autoreload: boolean;
  readonly callback?: string;
  /** `/path` for a file, anything else is a syslog facility name. */
  readonly logfile: string;
  readonly execute: readonly string[];
  readonly fork: boolean;
  readonly supervised: boolean;
  readonly quiescent: boolean;
  readonly readdquiescent: boolean;
  readonly email: EmailSettings;
  readonly emailalertfrom?: string;
  readonly cleanstop: boolean;
  readonly maintenancedir?: string;
  /** ldirectord-ts: the kernel's IPVS sync daemons to keep running; absent for syncdaemon=none (never touched). */
  readonly syncdaemon?: SyncDaemonSettings;
}

export type SyncDaemonMode = 'none' | 'master' | 'backup' | 'both';
export type SyncRole = 'master' | 'backup';

/**
 * One sync daemon role's parameters (ipvsadm --start-daemon's options): what the config asks
 * for, or what the kernel reports running.
 */
export interface SyncParameters {
  readonly interface: string;
  readonly syncid: number;
  /** Unset: the kernel's default (from the interface's MTU), or not reported (old kernels). */
  readonly maxlen?: number;
  /** Numeric multicast address (IPv6 without brackets); unset: the kernel's 224.0.0.81. */
  readonly group?: string;
  readonly port?: number;
  readonly ttl?: number;
}

/** syncdaemon= and its parameters. */
export interface SyncDaemonSettings extends SyncParameters {
  readonly mode: Exclude<SyncDaemonMode, 'none'>;
  /** master, backup, or both in that order. */
  readonly roles: readonly SyncRole[];
}

/** A numeric listen address (IPv6 without brackets). */
export interface StatusAddress {
  readonly host: string;
  readonly port: number;
  readonly family: Family;
}

export interface Config {
  /** The path the config was read from (as resolved by the CLI). */
  readonly file: string;
  readonly globals: GlobalSettings;
  readonly virtuals: readonly VirtualService[];
}

export interface ParseResult {
  /** Present only when there are no errors. */
  readonly config?: Config;
  readonly diagnostics: readonly Diagnostic[];
}
