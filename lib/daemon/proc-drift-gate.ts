// Whether a drift check must read the table in full. A full read starts ipvsadm and parses
// every destination twice; the kernel's /proc/net/ip_vs costs no process. So each drift
// check first reads /proc: when the managed services show there exactly as they did
// around the last full read that found the table as wanted, nothing /proc shows has
// changed, and the full read is skipped. It still happens when /proc cannot be read or
// parsed (never skipped silently), when the daemon itself changed something meanwhile,
// and at least every `fullReadEveryMs`, for what /proc does not show (thresholds,
// scheduler flags, the persistence engine).
import { digestIpvsProc } from '../ipvs/proc-table.js';

/** What /proc showed before a full read: handed back to settle() once that read is done. */
export interface ProcLook {
  /** Nothing to do: the managed services are as last found right, and no full read is due. */
  readonly unchanged: boolean;
  /** The digest of the canonical form read (undefined when /proc could not be read). */
  readonly seen?: number;
}

export interface ProcDriftGateOptions {
  /** The /proc file; undefined: never looked at (every drift check reads in full). */
  readonly file: string | undefined;
  readonly fullReadEveryMs?: number;
  readonly now?: () => number;
}

/** A full read at least this often, whatever /proc shows. */
export const FULL_READ_EVERY_MS = 60_000;

export class ProcDriftGate {
  private baseline: number | undefined;
  private lastFullRead = -Infinity;
  private readonly now: () => number;
  private readonly every: number;

  constructor(private readonly o: ProcDriftGateOptions) {
    this.now = o.now ?? Date.now;
    this.every = o.fullReadEveryMs ?? FULL_READ_EVERY_MS;
  }

  /** /proc's canonical form of the `managed` services (its digest), compared with the last one found right. */
  async look(managed: ReadonlySet<string>): Promise<ProcLook> {
    const seen = await this.canonical(managed);
    const due = this.now() - this.lastFullRead >= this.every;
    return {
      unchanged: !due && seen !== undefined && seen === this.baseline,
      ...(seen !== undefined ? { seen } : {}),
    };
  }

  /** A full read is being made. */
  fullRead(): void {
    this.lastFullRead = this.now();
  }

  /**
   * The full read after `look` found the managed services as wanted. If /proc shows now
   * what it showed before that read, the table did not change across it: that form is
   * what later drift checks compare with. Otherwise, the next check reads in full again.
   */
  async settle(look: ProcLook, managed: ReadonlySet<string>): Promise<void> {
    const after = look.seen !== undefined ? await this.canonical(managed) : undefined;
    this.baseline = after !== undefined && look.seen === after ? look.seen : undefined;
  }

  /** The table may not be as wanted (or nobody checked): the next drift check reads in full. */
  forget(): void {
    this.baseline = undefined;
  }

  private async canonical(managed: ReadonlySet<string>): Promise<number | undefined> {
    if (this.o.file === undefined) return undefined;
    try {
      return await digestIpvsProc(this.o.file, managed);
    } catch {
      return undefined;
    }
  }
}
