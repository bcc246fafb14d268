// The scheduler and hysteresis with a scripted probe (the probes themselves are
// tested against real servers in test/checks/). Fake timers make cadence exact.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckRunner, type RealEntry } from '../../lib/daemon/check-runner.js';
import { scriptedCheckers, type ProbeFn } from './helpers/scripted-checker.js';
import type { RealCheckState, Transition } from '../../lib/daemon/hysteresis.js';
import { applyResult, INITIAL_STATE } from '../../lib/daemon/hysteresis.js';
import { parse } from '../config/parse-helpers.js';

async function config(text: string) {
  const r = await parse(text);
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  return r.config;
}

interface Call {
  at: number;
  real: string;
  mode: string;
}

function harness(script: (real: string, n: number) => boolean | 'hang') {
  const calls: Call[] = [];
  const transitions: { id: string; t: Transition; at: number }[] = [];
  const counts = new Map<string, number>();
  const probe: ProbeFn = (_v, r, mode, signal) => {
    const key = `${r.ip}:${r.port}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    calls.push({ at: Date.now(), real: key, mode });
    const outcome = script(key, n);
    if (outcome === 'hang')
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, message: 'timeout', durationMs: 0 })));
    return Promise.resolve({ ok: outcome, message: outcome ? 'OK' : 'down', durationMs: 1 });
  };
  const runner = new CheckRunner({
    checkers: scriptedCheckers(probe, (v) => v.checktimeout),
    onTransition: (e: RealEntry, t) => {
      if (t.kind !== 'none') transitions.push({ id: `${e.members[0]!.real.ip}:${e.members[0]!.real.port}`, t, at: Date.now() });
    },
    random: () => 0.5,
  });
  return { runner, calls, transitions };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('hysteresis', () => {
  it('counts soft failures up to failurecount and resets on success', () => {
    let s: RealCheckState = { status: 'up', failCount: 0, successCount: 0 };
    let r = applyResult(s, false, 3);
    expect(r.transition).toEqual({ kind: 'soft-failure', count: 1, limit: 3 });
    r = applyResult(r.state, false, 3);
    expect(r.transition).toEqual({ kind: 'soft-failure', count: 2, limit: 3 });
    const back = applyResult(r.state, true, 3);
    expect(back.transition).toEqual({ kind: 'reset-soft-failure' });
    r = applyResult(r.state, false, 3);
    expect(r.transition).toEqual({ kind: 'down' });
    expect(applyResult(r.state, false, 3).transition).toEqual({ kind: 'none' });
    s = { status: 'up', failCount: 0, successCount: 0 };
    expect(applyResult(s, true, 3).transition).toEqual({ kind: 'none' });
  });

  it('decides an unknown real on its first result', () => {
    expect(applyResult(INITIAL_STATE, false, 5).transition).toEqual({ kind: 'down' });
    expect(applyResult(INITIAL_STATE, true, 5).transition).toEqual({ kind: 'up', resetFrom: 0 });
  });
});

describe('CheckRunner', () => {
  it('checks each real once per checkinterval, first within a second', async () => {
    const cfg = await config(
      'checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    real=127.0.0.3:80 gate\n    checktype=connect\n',
    );
    const h = harness(() => true);
    h.runner.update(cfg);
    h.runner.start();
    await vi.advanceTimersByTimeAsync(20_600);
    const times = h.calls.filter((c) => c.real === '127.0.0.2:80').map((c) => c.at);
    expect(times).toEqual([500, 5500, 10500, 15500, 20500]);
    expect(h.calls.every((c) => c.mode === 'connect')).toBe(true);
    expect(h.transitions.map((t) => t.t.kind)).toEqual(['up', 'up']);
    await h.runner.stop();
  });

  it('takes a real down only after failurecount failures', async () => {
    const cfg = await config('checkinterval=2\nfailurecount=3\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n');
    const h = harness((_r, n) => n <= 2);
    h.runner.update(cfg);
    h.runner.start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.transitions.map((t) => [t.t.kind, t.at])).toEqual([
      ['up', 500],
      ['soft-failure', 4500],
      ['soft-failure', 6500],
      ['down', 8500],
    ]);
    await h.runner.stop();
  });

  it('checks a real shared by two virtuals once, and flips it in both', async () => {
    const cfg = await config(
      'checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\nvirtual=10.0.0.2:80\n    real=127.0.0.2:80 gate\nvirtual=10.0.0.3:80\n    real=127.0.0.2:80 gate 2\n',
    );
    const h = harness(() => true);
    h.runner.update(cfg);
    const entries = [...h.runner.all()];
    // The third differs only in weight: the original checks it separately; the check
    // cannot come out differently, so here it shares the one check too.
    expect(entries.map((e) => e.members.length)).toEqual([3]);
    h.runner.start();
    await vi.advanceTimersByTimeAsync(5_400);
    expect(h.calls).toHaveLength(1);
    expect(new Set(h.calls.map((c) => c.real))).toEqual(new Set(['127.0.0.2:80']));
    await h.runner.stop();
  });

  it('runs combined checks as negotiate, N x connect, negotiate', async () => {
    const cfg = await config('checkinterval=1\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    checktype=2\n');
    const h = harness(() => true);
    h.runner.update(cfg);
    h.runner.start();
    await vi.advanceTimersByTimeAsync(6_000);
    expect(h.calls.map((c) => c.mode)).toEqual(['negotiate', 'connect', 'connect', 'negotiate', 'connect', 'connect']);
    await h.runner.stop();
  });

  it('ends a hanging check at the timeout and counts it as a failure', async () => {
    const cfg = await config('checkinterval=10\nchecktimeout=3\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    checktype=connect\n');
    const h = harness(() => 'hang');
    h.runner.update(cfg);
    h.runner.start();
    await vi.advanceTimersByTimeAsync(3_600);
    expect(h.transitions.map((t) => [t.t.kind, t.at])).toEqual([['down', 3500]]);
    await h.runner.stop();
  });

  it('stop() while a probe ignores its signal: resolves once the deadline has expired, and no check starts after it', async () => {
    const cfg = await config('checkinterval=1\nchecktimeout=3\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    checktype=connect\n');
    let probes = 0;
    const seen: string[] = [];
    const runner = new CheckRunner({
      checkers: scriptedCheckers(
        () => {
          probes++;
          return new Promise(() => undefined); // never settles, deaf to the abort
        },
        () => 3,
      ),
      onTransition: (_e, t, r) => seen.push(`${t.kind}:${r?.message ?? '-'}`),
      random: () => 0,
    });
    runner.update(cfg);
    runner.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(probes).toBe(1);
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(1_500);
    expect(stopped).toBe(false); // the check in flight is still within its 3 s
    await vi.advanceTimersByTimeAsync(1_000); // the deadline (3 s) and its grace
    await stopping;
    expect(seen).toEqual(['down:Timeout']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probes).toBe(1);
  });

  it("holds each member as its check target, the first member's being the entry's target (no other object per real)", async () => {
    // ten virtuals, the first two sharing a real: changing one virtual is an incremental update
    const virtuals = Array.from({ length: 10 }, (_, i) => `virtual=10.0.0.${i + 1}:80\n    real=127.0.0.${i === 1 ? 2 : i + 2}:80 gate\n`);
    const text = `checkinterval=5\n${virtuals.join('')}`;
    const h = harness(() => true);
    const check = (): void => {
      for (const e of h.runner.all()) {
        expect(e.members[0]).toBe(e.target);
        for (const m of e.members) expect(m).toMatchObject({ host: m.real.ip, port: m.real.port });
      }
    };
    h.runner.update(await config(text));
    expect([...h.runner.all()].map((e) => e.members.length)).toEqual([2, 1, 1, 1, 1, 1, 1, 1, 1]);
    check();
    const before = [...h.runner.all()][0];
    h.runner.update(await config(text.replace('real=127.0.0.11:80', 'real=127.0.0.12:80')));
    // incremental: the kept entry is the same object, its members rebuilt from its targets
    expect([...h.runner.all()][0]).toBe(before);
    expect([...h.runner.all()].map((e) => e.members[0]!.real.ip)).toContain('127.0.0.12');
    check();
    await h.runner.stop();
  });

  it('keeps state across update() for unchanged reals and drops removed ones', async () => {
    const text = 'checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    real=127.0.0.3:80 gate\n';
    const h = harness(() => true);
    h.runner.update(await config(text));
    h.runner.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const before = [...h.runner.all()].find((e) => e.members[0]!.real.ip === '127.0.0.2')!;
    expect(before.state.status).toBe('up');
    h.runner.update(await config('checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    real=127.0.0.4:80 gate\n'));
    const ips = [...h.runner.all()].map((e) => [e.members[0]!.real.ip, e.state.status]);
    expect(ips).toEqual([
      ['127.0.0.2', 'up'],
      ['127.0.0.4', 'unknown'],
    ]);
    expect([...h.runner.all()][0]).toBe(before);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.calls.filter((c) => c.real === '127.0.0.3:80')).toHaveLength(1);
    await h.runner.stop();
  });

  it('a real dropped while its check is in flight is never checked again (rebuild and incremental update)', async () => {
    const text =
      'checkinterval=2\nchecktimeout=5\n' + [2, 3, 4, 5, 6].map((n) => `virtual=10.0.0.${n}:80\n    real=127.0.0.${n}:80 gate\n`).join('');
    const calls: string[] = [];
    const slow = (real: string): Promise<{ ok: boolean; message: string; durationMs: number }> => {
      calls.push(real);
      return new Promise((resolve) => setTimeout(() => resolve({ ok: true, message: 'OK', durationMs: 1_500 }), 1_500));
    };
    const runner = new CheckRunner({
      checkers: scriptedCheckers(
        (_v, r) => slow(r.ip),
        () => 5,
      ),
      onTransition: () => undefined,
      random: () => 0.5,
    });
    const cfg = await config(text);
    runner.update(cfg);
    runner.start();
    await vi.advanceTimersByTimeAsync(1_000); // every check started at 500 ms, answers at 2 s
    expect(calls).toHaveLength(5);
    // Incremental: the same virtual objects, one gone (few enough for the in-place path).
    runner.update({ ...cfg, virtuals: cfg.virtuals.filter((v) => v.reals[0]!.ip !== '127.0.0.6') });
    // Rebuild: every virtual a new object, one real fewer.
    const without = (t: string, n: number): string => t.replace(`virtual=10.0.0.${n}:80\n    real=127.0.0.${n}:80 gate\n`, '');
    runner.update(await config(without(without(text, 6), 5)));
    await vi.advanceTimersByTimeAsync(10_000);
    const per = (ip: string): number => calls.filter((c) => c === ip).length;
    expect([per('127.0.0.5'), per('127.0.0.6')]).toEqual([1, 1]);
    expect(per('127.0.0.2')).toBeGreaterThan(3);
    expect([...runner.all()].map((e) => e.members[0]!.real.ip)).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    const stopping = runner.stop(); // waits for the checks in flight (1.5 s each)
    await vi.advanceTimersByTimeAsync(2_000);
    await stopping;
  });

  it('after update(), a kept entry probes with the new config: its real and virtual as they now read', async () => {
    const seen: { weight: number; scheduler: string }[] = [];
    const runner = new CheckRunner({
      checkers: scriptedCheckers((v, r) => {
        seen.push({ weight: r.weight, scheduler: v.scheduler });
        return Promise.resolve({ ok: true, message: 'OK', durationMs: 1 });
      }),
      onTransition: () => undefined,
      random: () => 0.5,
    });
    runner.update(await config('checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate 1\n    scheduler=wrr\n'));
    runner.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const entry = [...runner.all()][0];
    // weight and scheduler are not part of what the check is: the same entry goes on
    runner.update(await config('checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate 7\n    scheduler=rr\n'));
    expect([...runner.all()][0]).toBe(entry);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(seen[0]).toEqual({ weight: 1, scheduler: 'wrr' });
    expect(seen.at(-1)).toEqual({ weight: 7, scheduler: 'rr' });
    await runner.stop();
  });

  it('never probes checktype=off (down once, as the original leaves it), brings checktype=on up without probing', async () => {
    const cfg = await config(
      'virtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    checktype=off\nvirtual=10.0.0.2:80\n    real=127.0.0.3:80 gate\n    checktype=on\n',
    );
    const h = harness(() => true);
    h.runner.update(cfg);
    h.runner.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.calls).toEqual([]);
    expect(h.transitions.map((t) => [t.id, t.t.kind])).toEqual([
      ['127.0.0.2:80', 'down'],
      ['127.0.0.3:80', 'up'],
    ]);
    await h.runner.stop();
  });

  it('forces a real in maintenance down without probing it', async () => {
    const cfg = await config('checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n');
    const calls: string[] = [];
    let maint = false;
    const seen: string[] = [];
    const runner = new CheckRunner({
      checkers: scriptedCheckers(
        async () => {
          calls.push('probe');
          return { ok: true, message: 'OK', durationMs: 0 };
        },
        () => 5,
      ),
      inMaintenance: async () => maint,
      onTransition: (e, t, r) => seen.push(`${t.kind}:${r?.message ?? '-'}:${e.state.status}`),
      random: () => 0,
    });
    runner.update(cfg);
    runner.start();
    await vi.advanceTimersByTimeAsync(100);
    maint = true;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toEqual(['probe']);
    expect(seen).toEqual(['up:OK:up', 'down:Server in maintenance:down']);
    await runner.stop();
  });

  it('a listener, a maintenance lookup or a probe that throws loses that check, never the next', async () => {
    const cfg = await config('checkinterval=5\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n');
    const probes: number[] = [];
    const seen: string[] = [];
    let n = 0;
    const runner = new CheckRunner({
      checkers: scriptedCheckers(
        () => {
          probes.push(Date.now());
          // the fourth probe throws before it returns a promise
          if (probes.length === 4) throw new Error('probe threw');
          return Promise.resolve({ ok: true, message: 'OK', durationMs: 0 });
        },
        () => 1,
      ),
      inMaintenance: () => {
        n++;
        if (n === 2) throw new Error('lookup threw');
        if (n === 3) return Promise.reject(new Error('lookup rejected'));
        return false;
      },
      onTransition: (_e, t, r) => {
        seen.push(`${t.kind}:${r?.message ?? '-'}`);
        if (seen.length === 1) throw new Error('listener threw');
      },
      random: () => 0,
    });
    runner.update(cfg);
    runner.start();
    await vi.advanceTimersByTimeAsync(30_100);
    // checks at 0, 5 s (the lookup throws: no probe), 10 s (it rejects: no probe), 15, 20,
    // 25 (the probe throws: down with its message) and 30 s; the first listener call threw
    expect(probes).toEqual([0, 15_000, 20_000, 25_000, 30_000]);
    expect(seen).toEqual(['up:OK', 'none:OK', 'none:OK', 'down:probe threw', 'up:OK']);
    await runner.stop();
  });

  it('a checker that reports through start(): an answer before it returns, a later one, none (its deadline), a throw, a second answer', async () => {
    const cfg = await config('checkinterval=5\nchecktimeout=2\nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n');
    const starts: number[] = [];
    const seen: string[] = [];
    const runner = new CheckRunner({
      checkers: () => ({
        name: 'sink',
        timeoutSeconds: () => 2,
        identity: () => 'sink',
        probe: () => Promise.reject(new Error('probe() used although start() is there')),
        start: (_target, _signal, sink) => {
          starts.push(Date.now());
          switch (starts.length) {
            case 1:
              sink.settle({ ok: true, message: 'at once', durationMs: 0 });
              return;
            case 2:
              setTimeout(() => sink.settle({ ok: false, message: 'later', durationMs: 100 }), 100);
              return;
            case 3:
              return; // never answers: its deadline (2 s) and the grace end it
            case 4:
              throw new Error('start threw');
            default:
              sink.settle({ ok: true, message: 'first', durationMs: 0 });
              sink.settle({ ok: false, message: 'second', durationMs: 0 });
          }
        },
      }),
      onTransition: (_e, t, r) => seen.push(`${t.kind}:${r?.message ?? '-'}@${Date.now()}`),
      random: () => 0,
    });
    runner.update(cfg);
    runner.start();
    await vi.advanceTimersByTimeAsync(25_100);
    expect(starts).toEqual([0, 5_000, 10_000, 15_000, 20_000, 25_000]);
    expect(seen).toEqual([
      'up:at once@0',
      'down:later@5100',
      'none:Timeout@12050',
      'none:start threw@15000',
      'up:first@20000',
      'none:first@25000',
    ]);
    await runner.stop();
  });
});
