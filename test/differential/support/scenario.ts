// What a scenario is: backends, a config (the same text for both directors apart from the
// per-director SMTP receiver and directory), what the "down" and "up" phases do, and every
// expected difference between the original and ours, each with the §10 reason.
import type { Backend, BackendSpec } from './backends.js';

export const PHASES = ['start', 'down', 'up', 'reload', 'stop'] as const;
export type Phase = (typeof PHASES)[number];

export interface Net {
  /** Loopback IPv4 address j (1..63) of this scenario's block in 127.0.60.0-127.0.69.255. */
  ip(j: number): string;
  /** A TCP/UDP port of this scenario's own for ::1 servers (j 0..9). */
  port6(j: number): number;
  /** A directory both directors share (maintenancedir). */
  readonly shared: string;
}

export interface DirectorCtx extends Net {
  /** This director's own directory (its cwd, for files the config names). */
  readonly dir: string;
  /** This director's SMTP receiver (a host; the port is always 25). */
  readonly smtp: string;
}

export interface Expected {
  /** Table lines only one side has once the phase has settled. */
  readonly table?: { readonly onlyOriginal?: readonly string[]; readonly onlyOurs?: readonly string[]; readonly reason: string };
  /**
   * Real servers (address as in the table) whose entry the original changes more than once
   * in the phase (§10: start/reload flap). Ours must flap nothing, ever. Transition messages
   * and mails that name these hosts may differ.
   */
  readonly flap?: readonly string[];
  /** fallbackcommand runs ("start 192.0.2.1:80 tcp") only one side has. */
  readonly fallbackRuns?: { readonly onlyOriginal?: readonly string[]; readonly onlyOurs?: readonly string[]; readonly reason: string };
  /** Transition messages (and mail subjects) only one side has, other than flap ones. */
  readonly messages?: { readonly onlyOriginal?: readonly RegExp[]; readonly onlyOurs?: readonly RegExp[]; readonly reason: string };
}

export interface Scenario {
  readonly name: string;
  /** One line for SCENARIOS.md. */
  readonly about: string;
  backends(net: Net): BackendSpec[];
  config(ctx: DirectorCtx): string;
  /** The config for the reload phase; default: the same file (a plain HUP). */
  reloadConfig?(ctx: DirectorCtx): string;
  /** Default: take down the backends named in `downs`. */
  goDown?(net: Net, backends: ReadonlyMap<string, Backend>): Promise<void>;
  comeBack?(net: Net, backends: ReadonlyMap<string, Backend>): Promise<void>;
  /** Backend names the default down/up phases stop and restart. */
  readonly downs?: readonly string[];
  /** Files the config needs (scripts, directories), before the directors start. */
  prepare?(net: Net): void;
  /** Which tables the down phase must change (default both): a guard against a phase that did nothing. */
  readonly downChanges?: 'both' | 'ours' | 'none';
  /** Compare fallbackcommand runs: the config runs FALLBACK_RECORDER with ctx.dir's FALLBACK_LOG first. */
  readonly fallbackRuns?: boolean;
  /** Compare e-mail alerts (the config must send them to ctx.smtp). */
  readonly mail?: boolean;
  /** Slowest check of the config (checkinterval + timeout), failurecount: how long phases take. */
  readonly timing?: { readonly passSeconds?: number; readonly failurecount?: number };
  expected(net: Net): Partial<Record<Phase, Expected>>;
}
