// Runs one scenario: both directors side by side on the same backends, through the phases
// start -> down -> up -> reload -> stop, and records what each phase did on each side.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flaps, TRANSITION } from './analysis.js';
import { startBackends, type Backend } from './backends.js';
import { startDirector, type Director, type Which } from './director.js';
import type { DirectorCtx, Net, Phase, Scenario } from './scenario.js';
import { PHASES } from './scenario.js';
import { settle } from './settle.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

export interface SideRecord {
  /** Sorted table lines once the phase settled. */
  readonly table: readonly string[];
  /** Reals whose entry changed more than once in the phase. */
  readonly flaps: readonly string[];
  /** Transition messages logged in the phase. */
  readonly messages: readonly string[];
  /** Mails received in the phase: subject, then body, then From/To. */
  readonly mails: readonly string[];
  /** fallbackcommand runs in the phase (their arguments). */
  readonly fallbackRuns: readonly string[];
}

export interface PhaseRecord {
  readonly phase: Phase;
  readonly settled: boolean;
  readonly ms: number;
  readonly original: SideRecord;
  readonly ours: SideRecord;
}

export interface ScenarioRecord {
  readonly net: Net;
  readonly phases: PhaseRecord[];
  /** How each director ended: exit code, and the phase it exited in (only "stop" is right). */
  readonly exits: Record<Which, { readonly code: number | null; readonly phase: Phase | undefined }>;
  /** The directors' stderr, for failure reports. */
  readonly stderr: Record<Which, string>;
}

/** The file (in each director's directory) where the fallback recorder appends its runs. */
export const FALLBACK_LOG = 'fallbackcommand.log';
/** `fallbackcommand=<shared>/fallback-recorder.sh <log>`: appends "start|stop <vip:port> <proto>" to <log>. */
const FALLBACK_RECORDER_SCRIPT = '#!/bin/sh\nlog=$1\nshift\necho "$*" >> "$log"\n';

/** Scenario i's addresses: 127.0.(60 + i/4).(64 * (i%4) + j); SMTP receivers live in 127.0.69.0/24. */
export function netFor(index: number, shared: string): Net {
  if (index < 0 || index >= 36) throw new Error('scenario index out of 127.0.60.0-127.0.68.255');
  return {
    ip: (j) => {
      if (j < 1 || j > 63) throw new Error(`host ${j} out of the scenario's block`);
      return `127.0.${60 + Math.floor(index / 4)}.${64 * (index % 4) + j}`;
    },
    port6: (j) => 16000 + 10 * index + j,
    shared,
  };
}

const smtpHost = (index: number, which: Which): string => `127.0.69.${2 * index + (which === 'original' ? 1 : 2)}`;

function mailText(m: SmtpSink['mails'][number]): string {
  return [
    `Subject: ${m.subject}`,
    m.body.trimEnd(),
    `(from ${m.from} to ${m.to.join(',')}; ${m.headers.filter((h) => !/^subject:/i.test(h)).join('; ')})`,
  ].join('\n');
}

export async function runScenario(sc: Scenario, index: number): Promise<ScenarioRecord> {
  const base = mkdtempSync(join(tmpdir(), `ldts-differential-${sc.name}-`));
  const shared = join(base, 'shared');
  mkdirSync(shared);
  const net = netFor(index, shared);
  writeFileSync(join(shared, 'fallback-recorder.sh'), FALLBACK_RECORDER_SCRIPT);
  chmodSync(join(shared, 'fallback-recorder.sh'), 0o755);
  sc.prepare?.(net);
  const backends = await startBackends(sc.backends(net));
  const sinks = new Map<Which, SmtpSink>();
  const directors: Director[] = [];
  const phases: PhaseRecord[] = [];
  const tStart = Date.now();
  const ctxOf = (which: Which): DirectorCtx => ({ ...net, dir: join(base, which), smtp: smtpHost(index, which) });
  try {
    if (sc.mail) for (const w of ['original', 'ours'] as const) sinks.set(w, await startSmtpSink(smtpHost(index, w)));
    // A pass of checks on loopback: the check interval and a little; ours has no pass marker
    // in its log, so its phases are timed by this (the original's by its "Checking" lines).
    const runsBefore: Record<Which, number> = { original: 0, ours: 0 };
    const phaseEnds: number[] = [];
    const passSeconds = sc.timing?.passSeconds ?? 1.5;
    const failurecount = sc.timing?.failurecount ?? 1;
    for (const phase of PHASES) {
      const t0 = Date.now();
      let passes = 2;
      let minMs = 2 * passSeconds * 1000 + 1000;
      switch (phase) {
        case 'start':
          for (const w of ['original', 'ours'] as const) mkdirSync(ctxOf(w).dir, { recursive: true });
          directors.push(
            ...(await Promise.all((['original', 'ours'] as const).map((w) => startDirector(w, ctxOf(w).dir, sc.config(ctxOf(w)))))),
          );
          break;
        case 'down':
          await (sc.goDown ? sc.goDown(net, backends) : Promise.all((sc.downs ?? []).map((n) => backendOf(backends, n).down())));
          passes = failurecount + 1;
          minMs = (failurecount + 1) * passSeconds * 1000 + 1000;
          break;
        case 'up':
          await (sc.comeBack ? sc.comeBack(net, backends) : Promise.all((sc.downs ?? []).map((n) => backendOf(backends, n).up())));
          break;
        case 'reload':
          for (const d of directors) {
            if (sc.reloadConfig) writeFileSync(join(d.dir, 'ldirectord.cf'), sc.reloadConfig(ctxOf(d.which)));
            d.reload();
          }
          break;
        case 'stop':
          await Promise.all(directors.map((d) => d.stop()));
          passes = 0;
          minMs = 0;
          break;
      }
      // 90 s: on a loaded 2-core machine the original's start-up flap alone took 40 s.
      const settled = await settle(directors, t0, { minMs, passes, quietMs: 1500, maxMs: 90_000, fromVirtuals: phase === 'start' });
      const t1 = Date.now();
      const runsSoFar = (which: Which): string[] => {
        try {
          return readFileSync(join(ctxOf(which).dir, FALLBACK_LOG), 'utf8')
            .split('\n')
            .filter(Boolean);
        } catch {
          return [];
        }
      };
      const side = (which: Which): SideRecord => {
        const d = directors.find((x) => x.which === which)!;
        const inPhase = (at: number) => at >= t0 && at <= t1;
        return {
          table: d.ipvs.table(),
          flaps: flaps(d.ipvs.history, t0, t1),
          messages: d.log.filter((l) => inPhase(l.at) && TRANSITION.test(l.text)).map((l) => l.text),
          mails: (sinks.get(which)?.mails ?? []).filter((m) => inPhase(m.at)).map(mailText),
          fallbackRuns: runsSoFar(which).slice(runsBefore[which]),
        };
      };
      phases.push({ phase, settled, ms: t1 - t0, original: side('original'), ours: side('ours') });
      phaseEnds.push(t1);
      for (const w of ['original', 'ours'] as const) runsBefore[w] = runsSoFar(w).length;
    }
    const exitOf = (which: Which) => {
      const e = directors.find((d) => d.which === which)?.exit;
      const ends = phases.map((p, i) => ({ phase: p.phase, end: phaseEnds[i]! }));
      return { code: e?.code ?? null, phase: e ? ends.find((x) => e.at <= x.end)?.phase : undefined };
    };
    return {
      net,
      phases,
      exits: { original: exitOf('original'), ours: exitOf('ours') },
      stderr: {
        original:
          directors
            .find((d) => d.which === 'original')
            ?.stderr.map((l) => `${l.at - tStart} ${l.text}`)
            .join('\n') ?? '',
        ours:
          directors
            .find((d) => d.which === 'ours')
            ?.stderr.map((l) => `${l.at - tStart} ${l.text}`)
            .join('\n') ?? '',
      },
    };
  } finally {
    await Promise.all(directors.map((d) => d.dispose()));
    for (const b of backends.values()) await b.down();
    for (const s of sinks.values()) await s.close();
    rmSync(base, { recursive: true, force: true });
  }
}

function backendOf(backends: ReadonlyMap<string, Backend>, name: string): Backend {
  const b = backends.get(name);
  if (!b) throw new Error(`no backend named ${name}`);
  return b;
}
