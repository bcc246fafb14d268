// The status document: one JSON shape for `ldirectord <cfg> status --json`, the
// control socket and the HTTP listener's /status. Defined once, here, so the
// three cannot drift apart. Only types and tiny builders: the command line
// loads this without loading the daemon.
import type { DaemonStatus, SyncParameters, SyncRole } from '../config/model.js';

/** Bumped when a field changes meaning or goes away (adding fields does not). */
export const STATUS_SCHEMA = 1;

export interface StatusDocument {
  readonly schema: typeof STATUS_SCHEMA;
  /** The config file as the command line resolved it. */
  readonly config: string;
  readonly daemon: DaemonInfo;
  /** Present when the daemon answered. */
  readonly virtuals?: readonly VirtualStatus[];
  /** Why the daemon's state could not be read although it runs. */
  readonly error?: string;
}

export type DaemonInfo =
  { readonly state: 'stopped' } | { readonly state: 'stale'; readonly pidFile: string; readonly pid: string } | RunningDaemon;

export interface RunningDaemon {
  /** What the daemon is doing: the original's daemon status (e-mail's Daemon-Status). */
  readonly state: DaemonStatus;
  readonly pid: number;
  /** The rest is there when the daemon itself answered. */
  readonly version?: string;
  /** ISO 8601, UTC. */
  readonly startedAt?: string;
  readonly uptimeSeconds?: number;
  readonly reloads?: { readonly ok: number; readonly failed: number; readonly lastAt?: string };
  readonly ipvs?: {
    /** When the table was last read (start, every convergence, every check interval). */
    readonly readAt?: string;
    /** The last IPVS error, when the last convergence failed. */
    readonly error?: string;
  };
  readonly statusAddress?: string;
  /** The IPVS connection-sync daemons (syncdaemon=). */
  readonly syncDaemons?: SyncDaemonsStatus;
}

export interface SyncDaemonParams extends SyncParameters {
  readonly role: SyncRole;
}

export interface SyncDaemonsStatus {
  /** syncdaemon=: none means they are never touched (nor read). */
  readonly mode: 'none' | 'master' | 'backup' | 'both';
  /** The roles the config asks for; running: the kernel ran it so at the last look. */
  readonly configured: readonly (SyncDaemonParams & { readonly running: boolean })[];
  /** Every role the kernel ran at the last look (ours or not); absent before the first. */
  readonly running?: readonly SyncDaemonParams[];
  /** ISO 8601, UTC: the last look (start-up, reload, every shortest checkinterval). */
  readonly readAt?: string;
  /** Why the last look or step failed (retried at the next check). */
  readonly error?: string;
}

export interface VirtualStatus {
  /** `tcp:192.0.2.1:80`, `fwm:7`: the original's virtual id. */
  readonly id: string;
  /** `192.0.2.1:80` or the fwmark, as log lines name it. */
  readonly name: string;
  readonly protocol: 'tcp' | 'udp' | 'fwm';
  readonly scheduler: string;
  readonly service: string;
  /** `negotiate`, `connect`, `combined:3`, ... */
  readonly checktype: string;
  readonly checkinterval: number;
  readonly failurecount: number;
  readonly successcount: number;
  readonly slowstart: number;
  readonly quiescent: boolean;
  /** The virtual service is in the IPVS table. */
  readonly inTable: boolean;
  readonly fallback: FallbackStatus | null;
  readonly reals: readonly RealStatus[];
}

export interface FallbackStatus {
  readonly address: string;
  readonly forward: string;
  /** Weight in the IPVS table; null when it is not there. */
  readonly ipvsWeight: number | null;
}

export interface RealStatus {
  /** `ip:port` as the config gives it (port 0 when omitted), as log lines show it. */
  readonly address: string;
  readonly forward: string;
  /** The configured weight. */
  readonly weight: number;
  /** unknown: not decided by a check in this process yet. */
  readonly state: 'up' | 'down' | 'unknown';
  /** Weight in the IPVS table; null when the real is not there. */
  readonly ipvsWeight: number | null;
  readonly lastCheck: CheckStatus | null;
  /** Failed checks in a row while up (soft failures, failurecount). */
  readonly failCount: number;
  /** Passed checks in a row while not up (successcount). */
  readonly successCount: number;
  /** When the state last changed, or the real was first loaded (ISO 8601, UTC). */
  readonly lastChange: string;
  readonly secondsSinceChange: number;
  /** A slowstart ramp in progress: the step's weight and when the full weight is reached. */
  readonly slowstart: { readonly weight: number; readonly endsAt: string } | null;
}

export interface CheckStatus {
  readonly ok: boolean;
  /** The check's message (the monitorfile's). */
  readonly message: string;
  readonly at: string;
  /** How long the check took: the latency of the real server's answer. */
  readonly durationMs: number;
}

export function stoppedDocument(config: string): StatusDocument {
  return { schema: STATUS_SCHEMA, config, daemon: { state: 'stopped' } };
}

export function staleDocument(config: string, pidFile: string, pid: string): StatusDocument {
  return { schema: STATUS_SCHEMA, config, daemon: { state: 'stale', pidFile, pid } };
}

/** The daemon runs but did not answer: what the pid file says, and why. */
export function unreachableDocument(config: string, pid: number, error: string): StatusDocument {
  return { schema: STATUS_SCHEMA, config, daemon: { state: 'running', pid }, error };
}

/** Pretty: the same text for the command line, the socket and HTTP. */
export function formatDocument(doc: StatusDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
