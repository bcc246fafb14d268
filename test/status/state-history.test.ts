// The status page's history: a window of one hour, bounded per real and in
// all, fed by the daemon's real transitions (history-feed.ts).
import { describe, expect, it } from 'vitest';
import { StateHistory, type HistoryLimits, type StateChange } from '../../lib/status/state-history.js';
import { feedHistory } from '../../lib/status/history-feed.js';
import { DaemonEvents, type CheckedEvent } from '../../lib/daemon/transition-events.js';
import type { RealEntry } from '../../lib/daemon/check-runner.js';
import { realServer, virtualService } from '../support/config-builders.js';

const HOUR = 3_600_000;
const LIMITS: HistoryLimits = { windowMs: HOUR, perRealMax: 6, perRealMin: 2, total: 20, reals: 8, messageChars: 10 };

function change(real: string, at: number, to: 'up' | 'down', message = ''): StateChange {
  return { virtual: 'tcp:192.0.2.1:80', real, from: to === 'up' ? 'down' : 'up', to, at, message };
}

describe('StateHistory', () => {
  it('keeps the changes of the last hour, oldest first; no-op changes are not changes', () => {
    let now = 10 * HOUR;
    const h = new StateHistory(LIMITS, () => now);
    h.record(change('10.0.0.1:80', now - 2 * HOUR, 'down'));
    h.record(change('10.0.0.1:80', now - 30 * 60_000, 'up', 'a long check message'));
    h.record({ ...change('10.0.0.1:80', now, 'up'), from: 'up' });
    const got = h.of('tcp:192.0.2.1:80', '10.0.0.1:80');
    expect(got.transitions.map((t) => [t.to, t.message])).toEqual([['up', 'a long ch…']]);
    expect(got.truncated).toBe(false);
    now += HOUR;
    expect(h.of('tcp:192.0.2.1:80', '10.0.0.1:80').transitions).toEqual([]);
  });

  it('bounds the changes per real (marking the cut) and the share shrinks as more reals change', () => {
    const now = 10 * HOUR;
    const h = new StateHistory(LIMITS, () => now);
    for (let i = 0; i < 10; i++) h.record(change('10.0.0.1:80', now - 1000 * (10 - i), i % 2 ? 'up' : 'down'));
    const one = h.of('tcp:192.0.2.1:80', '10.0.0.1:80');
    expect(one.transitions).toHaveLength(6);
    expect(one.truncated).toBe(true);
    expect(one.transitions.at(-1)!.at).toBe(now - 1000);
    // 8 reals: 20 in all gives each 2
    for (let r = 2; r <= 8; r++) for (let i = 0; i < 5; i++) h.record(change(`10.0.0.${r}:80`, now - 100 * (5 - i), i % 2 ? 'up' : 'down'));
    expect(h.of('tcp:192.0.2.1:80', '10.0.0.8:80').transitions).toHaveLength(2);
    expect(h.size).toBe(8);
    // a ninth real drops the one changed longest ago
    h.record(change('10.0.0.9:80', now, 'down'));
    expect(h.size).toBe(8);
    expect(h.of('tcp:192.0.2.1:80', '10.0.0.1:80').transitions).toEqual([]);
  });

  it('drops reals whose changes all left the window', () => {
    let now = 10 * HOUR;
    const h = new StateHistory(LIMITS, () => now);
    h.record(change('10.0.0.1:80', now, 'down'));
    now += HOUR + 120_000;
    h.record(change('10.0.0.2:80', now, 'down'));
    expect(h.size).toBe(1);
  });
});

describe('feedHistory', () => {
  it('records a change of each member when a check changes the state, dated by the check, once', () => {
    const h = new StateHistory(LIMITS, () => 5000);
    const events = new DaemonEvents();
    feedHistory(h, events);
    const v1 = virtualService({ id: 'tcp:192.0.2.1:80', ip: '192.0.2.1' });
    const v2 = virtualService({ id: 'tcp:192.0.2.2:80', ip: '192.0.2.2' });
    const real = realServer({ ip: '10.0.0.1', port: 80 });
    const entry = {
      members: [
        { virtual: v1, real },
        { virtual: v2, real },
      ],
      state: { status: 'up' },
    } as unknown as RealEntry;
    const checked = (from: 'unknown' | 'up' | 'down', at: number, ok: boolean, message: string) =>
      events.emit({
        type: 'checked',
        entry,
        from,
        at,
        phase: 'running',
        transition: { kind: 'none' },
        result: { ok, message, durationMs: 1 },
      } as unknown as CheckedEvent);
    checked('unknown', 1000, true, '200 OK');
    checked('up', 2000, true, '200 OK');
    (entry.state as { status: string }).status = 'down';
    checked('up', 3000, false, '503');
    for (const v of [v1, v2]) {
      expect(h.of(v.id, '10.0.0.1:80').transitions).toEqual([
        { at: 1000, from: 'unknown', to: 'up', message: '200 OK' },
        { at: 3000, from: 'up', to: 'down', message: '503' },
      ]);
    }
  });
});
