// The one interface every checker implements. A checker probes once and knows
// nothing of timers, state, failurecount or IPVS: the runner (lib/daemon/) owns those.
import type { RealServer, VirtualService } from '../lib/config/model.js';

export interface CheckTarget {
  readonly virtual: VirtualService;
  readonly real: RealServer;
  /** Address to connect to, without IPv6 brackets. */
  readonly host: string;
  /** checkport, else the real's port if > 0, else the service's default port (spec §3.2). */
  readonly port: number;
  /** Per-real request/receive if set, else the virtual's. */
  readonly request: string;
  readonly receive: string;
}

export interface CheckResult {
  readonly ok: boolean;
  /** The monitorfile message of the original ("-" when it has none). */
  readonly message: string;
  readonly durationMs: number;
  /**
   * Why, in words ("connection refused", "login failed: -ERR ...", "timed out after 5 s"):
   * for debug output and tests. Never written to the monitorfile.
   */
  readonly detail?: string;
  /**
   * Lines the original writes to the log (not only in debug mode) during this check,
   * e.g. external's `system_timeout(5, /x.sh 10.0.0.1 80 127.0.0.2 8080) timed out, kill -TERM child`.
   */
  readonly log?: readonly string[];
  /**
   * True when the original writes no monitorfile line for this result: a failed ping,
   * external-perl, checktype=on (they call service_set without do_log).
   */
  readonly skipMonitorfile?: boolean;
}

export interface Checker {
  /** Service name (`http`, `smtp`, ...) or check type (`connect`, `ping`, `external`, ...). */
  readonly name: string;
  readonly defaultPort?: number;
  /** Seconds the runner allows one probe: the original's timeout for this check (spec §3.3). */
  timeoutSeconds(virtual: VirtualService): number;
  /**
   * Must settle by the time `signal` aborts (the runner aborts it at the timeout the
   * original uses for this check, spec §3.3) and must bound the memory it reads.
   */
  probe(target: CheckTarget, signal: AbortSignal): Promise<CheckResult>;
}
