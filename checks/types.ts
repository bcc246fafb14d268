// The one interface every checker implements, and how a checker declares itself. A
// checker probes once and knows nothing of timers, state, failurecount or IPVS: the
// runner (lib/daemon/) owns those.
import type { RealServer, VirtualService } from '../lib/config/model.js';

export interface CheckTarget {
  readonly virtual: VirtualService;
  readonly real: RealServer;
  /** Address to connect to, without IPv6 brackets. */
  readonly host: string;
  /** net.isIP(host), worked out with the target (a probe runs every interval). */
  readonly family?: number;
  /** checkport, else the real's port if > 0, else the service's default port (spec §3.2). */
  readonly port: number;
  /** Per-real request/receive if set, else the virtual's. */
  readonly request: string;
  readonly receive: string;
}

/** What every probe talks to and sends; the rest of what it reads is its typed options. */
export type Endpoint = Pick<CheckTarget, 'host' | 'family' | 'port' | 'request' | 'receive'>;

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

/** Where a probe started by start() reports, once: maybe before start() has returned. */
export interface ProbeSink {
  settle(result: CheckResult): void;
  /** The probe failed without a result (what a rejection of probe()'s promise says). */
  failed(err: unknown): void;
}

/** What the runner and the registry see of a checker. */
export interface Checker {
  /** Service name (`http`, `smtp`, ...) or check type (`connect`, `ping`, `external`, ...). */
  readonly name: string;
  /** The service's default check port (spec §2.6, read right to left); none for check types. */
  readonly defaultPort?: number;
  /** Seconds the runner allows one probe: the original's timeout for this check (spec §3.3). */
  timeoutSeconds(virtual: VirtualService): number;
  /**
   * Two targets with the same identity are the same probe: the checker, the endpoint
   * and every option the probe reads.
   */
  identity(target: CheckTarget): string;
  /**
   * Must settle by the time `signal` aborts (the runner aborts it at timeoutSeconds) and
   * must bound the memory it reads.
   */
  probe(target: CheckTarget, signal: AbortSignal): Promise<CheckResult>;
  /**
   * probe() reporting to `sink` instead of through a promise, where a checker has it: for
   * the checks that run for every real every interval, a promise and its reaction are a
   * good part of the work of a check.
   */
  start?(target: CheckTarget, signal: AbortSignal, sink: ProbeSink): void;
}

/** A checker in one place: name, default port, timeout, typed options and the probe. */
export interface CheckerSpec<O> {
  readonly name: string;
  readonly defaultPort?: number;
  /** Which of the virtual's timeouts bounds one probe (see CHECKTIMEOUT, NEGOTIATETIMEOUT). */
  readonly timeout: (virtual: VirtualService) => number;
  /**
   * Everything the probe reads from the config beyond the endpoint. `timeoutSeconds` is
   * `timeout`'s value, for a probe that must name it (external's log line) or hand it to
   * a library that cannot take the signal (oracle).
   */
  options(target: CheckTarget, timeoutSeconds: number): O;
  /** Obeys only `signal` for time: no timeout arithmetic of its own. */
  probe(endpoint: Endpoint, options: O, signal: AbortSignal): Promise<CheckResult>;
  /** probe() without its promise (see Checker.start); the same answers. */
  start?(endpoint: Endpoint, options: O, signal: AbortSignal, sink: ProbeSink): void;
}

export const CHECKTIMEOUT = (virtual: VirtualService): number => virtual.checktimeout;
export const NEGOTIATETIMEOUT = (virtual: VirtualService): number => virtual.negotiatetimeout;

export function defineChecker<O>(spec: CheckerSpec<O>): Checker {
  const optionsOf = (target: CheckTarget): O => spec.options(target, spec.timeout(target.virtual));
  return {
    name: spec.name,
    ...(spec.defaultPort === undefined ? {} : { defaultPort: spec.defaultPort }),
    timeoutSeconds: spec.timeout,
    identity: (target) => JSON.stringify([spec.name, target.host, target.port, target.request, target.receive, optionsOf(target)]),
    probe: (target, signal) => spec.probe(target, optionsOf(target), signal),
    ...(spec.start === undefined ? {} : { start: startOf(spec, optionsOf) }),
  };
}

function startOf<O>(spec: CheckerSpec<O>, optionsOf: (target: CheckTarget) => O): Checker['start'] {
  const start = spec.start as NonNullable<CheckerSpec<O>['start']>;
  return (target, signal, sink) => start(target, optionsOf(target), signal, sink);
}
