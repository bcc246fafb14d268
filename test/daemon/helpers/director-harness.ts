// A Director against the fake ipvsadm in-process, with a scripted probe: what the director
// tests (director.test.ts, director-drift.test.ts, director-rise-ramp.test.ts) drive and look at.
import { assembleDirector } from '../../../lib/daemon/assemble-director.js';
import type { Director } from '../../../lib/daemon/director.js';
import type { DaemonEvents } from '../../../lib/daemon/transition-events.js';
import type { IpvsadmRunner } from '../../../lib/ipvs/ipvsadm-runner.js';
import { scriptedCheckers } from './scripted-checker.js';
import { fakeIpvsadm, type FakeIpvsadm } from '../../support/fake-ipvsadm-helper.js';
import { parse } from '../../config/parse-helpers.js';

export interface Harness {
  director: Director;
  events: DaemonEvents;
  fake: FakeIpvsadm;
  /** Log lines, in order. */
  logs: string[];
  /** The same, each with when it was logged. */
  timed: { at: number; line: string }[];
  alerts: { subject: string; real: string; remind: boolean }[];
  monitor: string[];
  fallbackRuns: string[];
  /** `ip:port` -> what its probe answers (false when absent). */
  up: Map<string, boolean>;
  /** When set, decides every probe instead of `up`. */
  script: { next?: () => boolean };
  /** The table as `ipvsadm -S -n` lines. */
  table(): string[];
}

const open: (() => Promise<void>)[] = [];

/** Stops every director and removes every fake made since the last call (for afterEach). */
export async function closeHarnesses(): Promise<void> {
  for (const c of open.splice(0)) await c();
}

/**
 * What a drift check reads of /proc/net/ip_vs: nothing by default (every drift check lists
 * the table with ipvsadm, whatever the host's kernel has); `proc`: the fake's rendering, or that file.
 */
export interface HarnessOptions {
  readonly proc?: boolean | string;
  readonly fullReadEveryMs?: number;
  /** Stands between the director and the fake, to hold or fail chosen ipvsadm runs. */
  readonly wrapRunner?: (inner: IpvsadmRunner) => IpvsadmRunner;
}

/** A director on `text`, the fake's table set up by `preset` (ipvsadm argument lists) first. */
export async function harness(text: string, preset: string[][] = [], o: HarnessOptions = {}): Promise<Harness> {
  const r = await parse(text);
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  const fake = fakeIpvsadm();
  for (const args of preset) fake.sh(...args);
  const h: Omit<Harness, 'director' | 'events'> = {
    fake,
    logs: [],
    timed: [],
    alerts: [],
    monitor: [],
    fallbackRuns: [],
    up: new Map(),
    script: {},
    table: () => fake.sh('-S', '-n').split('\n').filter(Boolean),
  };
  const { director, events } = assembleDirector(r.config, {
    log: {
      log: (line) => {
        h.logs.push(line);
        h.timed.push({ at: Date.now(), line });
      },
      debug: () => undefined,
    },
    ipvsadm: o.wrapRunner ? o.wrapRunner(fake.inProcess()) : fake.inProcess(),
    alerts: {
      alert: (ev) => h.alerts.push({ subject: ev.subject, real: ev.real, remind: ev.remind }),
      sendReminders: () => 0,
    },
    monitor: { write: (path, id, state, message) => h.monitor.push(`${path} ${state} ${message} ${id.split(':')[3]}`) },
    checkers: scriptedCheckers(async (_v, real) => {
      const ok = h.script.next ? h.script.next() : (h.up.get(`${real.ip}:${real.port}`) ?? false);
      return { ok, message: ok ? 'OK' : 'down', durationMs: 1 };
    }),
    fallbackCommand: (cmd, args) => h.fallbackRuns.push([cmd, ...args].join(' ')),
    ipvsProcFile: typeof o.proc === 'string' ? o.proc : o.proc ? fake.procPath : null,
    ...(o.fullReadEveryMs !== undefined ? { fullReadEveryMs: o.fullReadEveryMs } : {}),
  });
  open.push(async () => {
    await director.stop().catch(() => undefined);
    fake.cleanup();
  });
  return { ...h, director, events };
}

/** A director on `text`, started and through its first checks with the reals `up` passing. */
export async function running(text: string, up: readonly string[], o: HarnessOptions = {}): Promise<Harness> {
  const h = await harness(text, [], o);
  for (const real of up) h.up.set(real, true);
  await h.director.start();
  await h.director.run();
  return h;
}

export async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
