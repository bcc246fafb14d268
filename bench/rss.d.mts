// Types of rss.mjs for the TypeScript tests.

export interface Real {
  readonly ip: string;
  readonly port: number;
}

export interface RssRunOptions {
  reals?: number;
  /** The reals themselves (else `reals` of them on 127.<range.second>.x.y, port 8080). */
  addresses?: readonly Real[];
  interval?: number;
  timeout?: number;
  perVirtual?: number;
  warmS?: number;
  steadyS?: number;
  reloads?: number;
  range?: { second: number; third: number };
  log?: (message: string) => void;
}

/** Memory in MB, CPU per check in µs. */
export interface RssRun {
  reals: number;
  load: number;
  startupMs: number;
  startPeakMB: number;
  steady: {
    rssMB: number;
    maxRssMB: number;
    peakMB: number;
    heapUsedMB?: number;
    externalMB?: number;
    cpu: number;
    cpuUsPerCheck: number;
    checksPerSecond: number;
    onTime: number;
    loopMaxMs?: number;
  };
  reload: { reloads: number; appliedMs: number[]; maxRssMB: number; peakMB: number; rssMB: number };
  /** The peak over the whole life, the stop included; undefined when the daemon had to be killed. */
  lifePeakMB?: number;
}

export function rssRun(options?: RssRunOptions): Promise<RssRun>;

export function floorRun(options?: {
  range?: { second: number; third: number };
  addresses?: readonly Real[];
}): Promise<{ rssMB: number; peakMB: number; heapUsedMB?: number; externalMB?: number }>;
