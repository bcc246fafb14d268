// The director's IPVS semantics (spec §4.3-§4.7 with the §10 fixes), driven by a
// scripted probe against the fake ipvsadm in-process (the same code paths run on
// the real kernel table in test/e2e/daemon.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { assembleDirector } from '../../lib/daemon/assemble-director.js';
import { scriptedCheckers } from './helpers/scripted-checker.js';
import { fakeIpvsadm } from '../support/fake-ipvsadm-helper.js';
import { parse } from '../config/parse-helpers.js';
import { closeHarnesses, harness, running, waitFor } from './helpers/director-harness.js';

afterEach(closeHarnesses);

const NAT = `checkinterval=1
quiescent=yes
fallback=127.0.0.9:80 masq
fallbackcommand=/usr/local/bin/fb
virtual=192.0.2.1:80
    real=127.0.0.2:80 masq 3
    real=127.0.0.3:80 masq 1
    monitorfile="/tmp/mon.log"
`;

describe('Director', () => {
  it('adds nothing before a check, then exactly the reals that passed', async () => {
    const h = await harness(NAT);
    h.up.set('127.0.0.2:80', true);
    await h.director.start();
    expect(h.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr']);
    expect(h.logs).toEqual(['Added virtual server: 192.0.2.1:80']);
    await h.director.run();
    expect(h.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 3']);
    expect(h.logs.slice(1)).toEqual(['Added real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 3)']);
    // No start-up flap (§10): the down real was never given weight, no fallback came and went.
    expect(h.logs.join('\n')).not.toMatch(/fallback|127\.0\.0\.3/);
    expect(h.fallbackRuns).toEqual([]);
    expect(h.monitor).toEqual(['/tmp/mon.log up OK 127.0.0.2', '/tmp/mon.log down down 127.0.0.3']);
  });

  it('start-up: afterFirstChecks comes once every first check has reported, before the convergence that adds the reals', async () => {
    const h = await harness(NAT);
    for (const real of ['127.0.0.2:80', '127.0.0.3:80']) h.up.set(real, true);
    const seen: string[] = [];
    h.events.on('checked', (e) => {
      if (e.result) seen.push(`checked ${e.entry.members[0]!.real.ip}:${e.entry.members[0]!.real.port}`);
    });
    h.events.on('converged', () => seen.push(`converged, table: ${h.table().filter((l) => l.includes('-r 127.0.0.')).length} reals`));
    await h.director.start();
    seen.length = 0;
    await h.director.run({ afterFirstChecks: () => seen.push('afterFirstChecks') });
    expect(seen.slice(0, 3).sort()).toEqual(['afterFirstChecks', 'checked 127.0.0.2:80', 'checked 127.0.0.3:80'].sort());
    expect(seen[2]).toBe('afterFirstChecks');
    expect(seen[3]).toBe('converged, table: 2 reals');
  });

  it('quiesces a real that goes down (quiescent=yes), restores it, and mails both', async () => {
    const h = await running(NAT, ['127.0.0.2:80', '127.0.0.3:80']);
    h.up.set('127.0.0.3:80', false);
    await waitFor(() => h.logs.includes('Quiescent real server: 127.0.0.3:80 (192.0.2.1:80) (Weight set to 0)'));
    expect(h.table()).toContain('-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 0');
    h.up.set('127.0.0.3:80', true);
    await waitFor(() => h.logs.includes('Restored real server: 127.0.0.3:80 (192.0.2.1:80) (Weight set to 1)'));
    expect(h.table()).toContain('-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 1');
    expect(h.alerts.filter((a) => a.real === '127.0.0.3:80').map((a) => [a.subject.split(':')[0], a.remind])).toEqual([
      ['Added real server', false],
      ['Quiescent real server', true],
      ['Restored real server', false],
    ]);
  });

  it('brings the fallback in exactly while no real is up, and runs fallbackcommand on each change', async () => {
    const h = await running(NAT, ['127.0.0.2:80']);
    h.up.set('127.0.0.2:80', false);
    await waitFor(() => h.logs.some((l) => l.startsWith('Added fallback')));
    expect(h.table()).toEqual([
      '-A -t 192.0.2.1:80 -s wrr',
      '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 0',
      '-a -t 192.0.2.1:80 -r 127.0.0.9:80 -m -w 1',
    ]);
    expect(h.logs).toContain('Quiescent real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 0)');
    expect(h.fallbackRuns).toEqual(['/usr/local/bin/fb start 192.0.2.1:80 tcp']);
    const quiesce = h.alerts.find((a) => a.subject.startsWith('Quiescent'))!;
    expect(quiesce).toEqual({
      subject: 'Quiescent real server: 127.0.0.2:80 (192.0.2.1:80) (Weight set to 0)',
      real: '127.0.0.2:80',
      remind: true,
    });

    h.up.set('127.0.0.3:80', true);
    await waitFor(() => h.logs.some((l) => l.startsWith('Deleted fallback')));
    expect(h.table()).toEqual([
      '-A -t 192.0.2.1:80 -s wrr',
      '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 0',
      '-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 1',
    ]);
    expect(h.fallbackRuns).toEqual(['/usr/local/bin/fb start 192.0.2.1:80 tcp', '/usr/local/bin/fb stop 192.0.2.1:80 tcp']);
    expect(h.alerts.find((a) => a.subject.startsWith('Deleted fallback'))!.remind).toBe(false);
  });

  it('deletes a down real with quiescent=no, and purges unknown reals of its virtuals only', async () => {
    const text = NAT.replace('quiescent=yes', 'quiescent=no');
    const h = await harness(text, [
      ['-A', '-t', '192.0.2.1:80', '-s', 'wrr'],
      ['-a', '-t', '192.0.2.1:80', '-r', '127.0.0.77:80', '-m', '-w', '1'],
      ['-A', '-t', '192.0.2.99:80', '-s', 'rr'],
      ['-a', '-t', '192.0.2.99:80', '-r', '127.0.0.78:80', '-m', '-w', '1'],
    ]);
    h.up.set('127.0.0.2:80', true).set('127.0.0.3:80', true);
    await h.director.start();
    expect(h.logs).toContain('Purged real server (start): 127.0.0.77:80 (192.0.2.1:80)');
    await h.director.run();
    h.up.set('127.0.0.3:80', false);
    await waitFor(() => h.logs.some((l) => l.startsWith('Deleted real server: 127.0.0.3:80')));
    expect(h.table()).toEqual([
      '-A -t 192.0.2.1:80 -s wrr',
      '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 3',
      '-A -t 192.0.2.99:80 -s rr',
      '-a -t 192.0.2.99:80 -r 127.0.0.78:80 -m -w 1',
    ]);
  });

  it('keeps a real that was already in the table until its first result', async () => {
    const h = await harness(NAT, [
      ['-A', '-t', '192.0.2.1:80', '-s', 'wrr'],
      ['-a', '-t', '192.0.2.1:80', '-r', '127.0.0.3:80', '-m', '-w', '7'],
    ]);
    await h.director.start();
    expect(h.table()).toContain('-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 7');
    h.up.set('127.0.0.3:80', true);
    await h.director.run();
    expect(h.table()).toContain('-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 1');
    expect(h.logs).toContain('Restored real server: 127.0.0.3:80 (192.0.2.1:80) (Weight set to 1)');
  });

  it('repairs drift (ipvsadm -C behind its back) on the next convergence', async () => {
    const h = await running(NAT, ['127.0.0.2:80', '127.0.0.3:80']);
    const before = h.table();
    h.fake.sh('-C');
    expect(h.table()).toEqual([]);
    await h.director.requestConverge();
    expect(h.table()).toEqual(before);
  });

  it('drift check: a table read back unchanged costs one listing; a changed one is repaired', async () => {
    const h = await running(NAT, ['127.0.0.2:80', '127.0.0.3:80']);
    const before = h.table();
    // checkinterval=1: the first tick finds the table right and remembers its listing;
    // the ticks after it only list the table
    await new Promise((r) => setTimeout(r, 2500));
    const n = h.fake.calls().length;
    await new Promise((r) => setTimeout(r, 2000));
    const quiet = h.fake.calls().slice(n);
    expect(quiet.length).toBeGreaterThan(0);
    for (const c of quiet) expect([c.args.join(' '), c.stdin]).toEqual(['-R', '-L -n\n-L -n --thresholds\n']);
    h.fake.sh('-C');
    await new Promise((r) => setTimeout(r, 1500));
    expect(h.table()).toEqual(before);
  });

  it('reload: drops a removed virtual, changes a weight, keeps live reals throughout', async () => {
    const h = await running(NAT + 'virtual=192.0.2.2:80\n    real=127.0.0.4:80 masq\n', ['127.0.0.2:80', '127.0.0.3:80', '127.0.0.4:80']);
    const next = await parse(NAT.replace('masq 3', 'masq 5') + 'virtual=192.0.2.3:80\n    real=127.0.0.4:80 masq\n');
    await h.director.reload(next.config!);
    await waitFor(() => h.table().includes('-a -t 192.0.2.3:80 -r 127.0.0.4:80 -m -w 1'));
    expect(h.table()).toEqual([
      '-A -t 192.0.2.1:80 -s wrr',
      '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 5',
      '-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 1',
      '-A -t 192.0.2.3:80 -s wrr',
      '-a -t 192.0.2.3:80 -r 127.0.0.4:80 -m -w 1',
    ]);
    expect(h.logs).toContain('Purged virtual server (start): 192.0.2.2:80');
    // The weight change of a live real is an edit, never a delete and re-add.
    expect(h.logs.filter((l) => l.includes('127.0.0.2:80') && /Deleted|Quiescent/.test(l))).toEqual([]);
  });

  it('reload: reads and changes only the virtuals the edit concerns; the drift check still sees the rest', async () => {
    const two = NAT + 'virtual=192.0.2.2:80\n    real=127.0.0.4:80 masq\n';
    const h = await running(two, ['127.0.0.2:80', '127.0.0.3:80', '127.0.0.4:80']);
    // Someone takes a real out of the virtual the edit below does not concern.
    h.fake.sh('-d', '-t', '192.0.2.2:80', '-r', '127.0.0.4:80');
    const n0 = h.fake.calls().length;
    await h.director.reload((await parse(two.replace('masq 3', 'masq 5'))).config!);
    const sent = h.fake
      .calls()
      .slice(n0)
      .flatMap((c) => (c.stdin ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('-L')));
    expect(sent).toEqual(['-e -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 5 -x 0 -y 0']);
    expect(h.table()).not.toContain('-a -t 192.0.2.2:80 -r 127.0.0.4:80 -m -w 1');
    // The drift check (every checkinterval, 1 s here) looks at the whole table.
    await waitFor(() => h.table().includes('-a -t 192.0.2.2:80 -r 127.0.0.4:80 -m -w 1'), 5000);
  });

  it('drift check: only a service whose lines changed, or whose desired state did, is parsed and compared', async () => {
    const two = NAT + 'virtual=192.0.2.2:80\n    real=127.0.0.4:80 masq\n';
    const h = await running(two, ['127.0.0.2:80', '127.0.0.3:80', '127.0.0.4:80']);
    const scopes: (string[] | 'all')[] = [];
    h.events.on('converged', ({ scope }) => scopes.push(scope ? [...scope].sort() : 'all'));
    // The start-up's convergence settled every service: ticks (checkinterval=1) compare none.
    await new Promise((r) => setTimeout(r, 2500));
    expect(scopes).toEqual([]);
    // Someone edits one service: that one is read, compared and put back, alone.
    h.fake.sh('-e', '-t', '192.0.2.2:80', '-r', '127.0.0.4:80', '-m', '-w', '9');
    await waitFor(() => h.table().includes('-a -t 192.0.2.2:80 -r 127.0.0.4:80 -m -w 1'), 5000);
    expect(scopes).toEqual([['tcp:192.0.2.2:80']]);
    // A reload that edits the other: its own convergence, then nothing more.
    await h.director.reload((await parse(two.replace('masq 3', 'masq 5'))).config!);
    await new Promise((r) => setTimeout(r, 2500));
    expect(scopes).toEqual([['tcp:192.0.2.2:80'], ['tcp:192.0.2.1:80']]);
    expect(h.table()).toContain('-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 5');
  });

  it('reload: an edit that changes no virtual (a comment) runs no ipvsadm at all', async () => {
    const h = await running(NAT, ['127.0.0.2:80']);
    const n0 = h.fake.calls().length;
    await h.director.reload((await parse(`# edited\n${NAT}`)).config!);
    expect(h.fake.calls().slice(n0)).toEqual([]);
    expect(h.table()).toEqual(['-A -t 192.0.2.1:80 -s wrr', '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 3']);
  });

  it('stop: cleanstop=yes purges its virtuals, cleanstop=no leaves the table as it is', async () => {
    const h = await running(NAT + 'virtual=192.0.2.2:80\n    real=127.0.0.4:80 masq\n    cleanstop=no\n', ['127.0.0.2:80', '127.0.0.4:80']);
    await h.director.stop();
    expect(h.table()).toEqual(['-A -t 192.0.2.2:80 -s wrr', '-a -t 192.0.2.2:80 -r 127.0.0.4:80 -m -w 1']);
    expect(h.logs.slice(-2)).toEqual([
      'Purged real server (stop): 127.0.0.2:80 (192.0.2.1:80)',
      'Purged virtual server (stop): 192.0.2.1:80',
    ]);
  });

  it('fails the start when IPVS cannot be used', async () => {
    const r = await parse(NAT);
    const fake = fakeIpvsadm();
    try {
      const { director: d } = assembleDirector(r.config!, {
        log: { log: () => undefined, debug: () => undefined },
        ipvsadm: fake.inProcess({ FAKE_IPVSADM_NO_IPVS: '1' }),
        alerts: { alert: () => undefined, sendReminders: () => 0 },
        monitor: { write: () => undefined },
        checkers: scriptedCheckers(async () => ({ ok: true, message: 'OK', durationMs: 0 })),
      });
      await expect(d.start()).rejects.toThrow(/IPVS is not available/);
    } finally {
      fake.cleanup();
    }
  });
});
