// The event stream the Director's followers hang off: the feed of each real's state
// changes (onRealTransition), and the order in which a transition's lines and the table
// change it asks for come.
import { afterEach, describe, expect, it } from 'vitest';
import { onRealTransition, type RealTransition } from '../../lib/daemon/transition-events.js';
import { closeHarnesses, harness, waitFor } from './helpers/director-harness.js';

afterEach(closeHarnesses);

const TWO = `checkinterval=1
quiescent=no
virtual=192.0.2.1:80
    real=127.0.0.2:80 masq 3
    real=127.0.0.3:80 masq 1
virtual=192.0.2.2:80
    real=127.0.0.2:80 masq 2
`;

describe('onRealTransition', () => {
  it('reports each first decision and each change, per virtual of a shared real, and nothing while a state holds', async () => {
    const h = await harness(TWO);
    const seen: RealTransition[] = [];
    const unsubscribe = onRealTransition(h.events, (t) => seen.push(t));
    h.up.set('127.0.0.2:80', true);
    const t0 = Date.now();
    await h.director.start();
    await h.director.run();
    const brief = (t: RealTransition): string => `${t.virtual} ${t.real.ip}:${t.real.port} ${t.from}->${t.to} ${t.message}`;
    expect(seen.map(brief).sort()).toEqual([
      'tcp:192.0.2.1:80 127.0.0.2:80 unknown->up OK',
      'tcp:192.0.2.1:80 127.0.0.3:80 unknown->down down',
      'tcp:192.0.2.2:80 127.0.0.2:80 unknown->up OK',
    ]);
    for (const t of seen) {
      expect(t.at).toBeGreaterThanOrEqual(t0);
      expect(t.at).toBeLessThanOrEqual(Date.now());
      expect(t.realId).toContain(`:${t.real.ip}:${t.real.port}:`);
    }
    seen.length = 0;
    h.up.set('127.0.0.2:80', false);
    await waitFor(() => h.logs.includes('Deleted real server: 127.0.0.2:80 (192.0.2.2:80)'));
    expect(seen.map(brief).sort()).toEqual(['tcp:192.0.2.1:80 127.0.0.2:80 up->down down', 'tcp:192.0.2.2:80 127.0.0.2:80 up->down down']);
    // The down state holds through further checks: no more transitions.
    const n = h.fake.calls().length;
    await waitFor(() => h.fake.calls().length > n + 1, 5_000).catch(() => undefined);
    expect(seen).toHaveLength(2);
    unsubscribe();
  });

  it('the change lines of a transition come only after the table read-back confirms them', async () => {
    const h = await harness(TWO);
    const order: string[] = [];
    const deleted = (): number => h.logs.filter((l) => l.startsWith('Deleted real server')).length;
    onRealTransition(h.events, (t) => order.push(`transition ${t.virtual} ${t.to}, ${deleted()} deleted lines`));
    // A periodic convergence that finds nothing to change can fall anywhere in the sequence.
    h.events.on('converged', ({ result }) => {
      if (result.applied.length > 0) order.push(`converged ${result.applied.length}, ${deleted()} deleted lines`);
    });
    h.up.set('127.0.0.2:80', true);
    await h.director.start();
    await h.director.run();
    order.length = 0;
    const logged = h.logs.length;
    h.up.set('127.0.0.2:80', false);
    await waitFor(() => h.logs.includes('Deleted real server: 127.0.0.2:80 (192.0.2.2:80)'));
    expect(order.slice(0, 2)).toEqual([
      'transition tcp:192.0.2.1:80 down, 0 deleted lines',
      'transition tcp:192.0.2.2:80 down, 0 deleted lines',
    ]);
    // Logged by the notifications, which follow the convergence before anyone else.
    expect(order).toContain('converged 2, 2 deleted lines');
    expect(h.logs.slice(logged).sort()).toEqual([
      'Deleted real server: 127.0.0.2:80 (192.0.2.1:80)',
      'Deleted real server: 127.0.0.2:80 (192.0.2.2:80)',
    ]);
  });
});
