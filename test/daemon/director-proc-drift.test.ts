// The drift check reads /proc/net/ip_vs first (here the fake ipvsadm's rendering of its
// table) and lists the table with ipvsadm only when the managed services show a change
// there, when /proc cannot be read, or when a full read is due anyway.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeHarnesses, running, waitFor, type Harness } from './helpers/director-harness.js';
import { NAT, RIGHT } from './helpers/proc-drift-config.js';

afterEach(closeHarnesses);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const listings = (h: Harness, from: number): number =>
  h.fake
    .calls()
    .slice(from)
    .filter((c) => (c.stdin ?? '').includes('-L -n')).length;

/** Started, through its first checks, and past the first drift check (a full read, which takes /proc's form as right). */
async function settled(o: { proc?: boolean | string; fullReadEveryMs?: number } = { proc: true }): Promise<Harness> {
  const h = await running(NAT, ['127.0.0.2:80', '127.0.0.3:80'], o);
  expect(h.table()).toEqual(RIGHT);
  await sleep(2500);
  return h;
}

describe('drift check with /proc/net/ip_vs', () => {
  it('runs no ipvsadm while /proc shows the managed services unchanged', async () => {
    const h = await settled();
    const n = h.fake.calls().length;
    await sleep(2500);
    expect(h.fake.calls().slice(n)).toEqual([]);
  });

  it('a weight changed by hand shows in /proc: read in full and repaired', async () => {
    const h = await settled();
    const n = h.fake.calls().length;
    h.fake.sh('-e', '-t', '192.0.2.1:80', '-r', '127.0.0.2:80', '-m', '-w', '9');
    await waitFor(() => h.table().includes(RIGHT[1]!), 5000);
    expect(listings(h, n)).toBeGreaterThan(0);
    expect(h.table()).toEqual(RIGHT);
  });

  it('a real deleted by hand shows in /proc: read in full and put back', async () => {
    const h = await settled();
    h.fake.sh('-d', '-t', '192.0.2.1:80', '-r', '127.0.0.3:80');
    await waitFor(() => h.table().includes(RIGHT[2]!), 5000);
    expect(h.table()).toEqual(RIGHT);
  });

  it('a service it does not manage, changed by hand, costs no read and is left alone', async () => {
    const h = await settled();
    const n = h.fake.calls().length;
    h.fake.sh('-A', '-t', '192.0.2.50:80', '-s', 'rr');
    h.fake.sh('-a', '-t', '192.0.2.50:80', '-r', '127.0.0.5:80', '-m', '-w', '4');
    const ours = h.fake.calls().length;
    await sleep(2500);
    expect(h.fake.calls().length).toBe(ours);
    expect(ours - n).toBe(2);
    expect(h.table()).toContain('-a -t 192.0.2.50:80 -r 127.0.0.5:80 -m -w 4');
  });

  it('an unreadable or unparsable /proc: every drift check reads in full, and repairs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-drift-'));
    try {
      for (const proc of [path.join(dir, 'missing'), path.join(dir, 'garbage')]) {
        writeFileSync(path.join(dir, 'garbage'), 'IP Virtual Server version 1.2.1 (size=4096)\nnot a title\n');
        const h = await settled({ proc });
        const n = h.fake.calls().length;
        await sleep(2200);
        expect(listings(h, n)).toBeGreaterThanOrEqual(1);
        h.fake.sh('-d', '-t', '192.0.2.1:80', '-r', '127.0.0.3:80');
        await waitFor(() => h.table().includes(RIGHT[2]!), 5000);
        await closeHarnesses();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still reads in full now and then: a threshold, which /proc does not show, is repaired', async () => {
    const h = await settled({ proc: true, fullReadEveryMs: 3000 });
    h.fake.sh('-e', '-t', '192.0.2.1:80', '-r', '127.0.0.2:80', '-m', '-w', '3', '-x', '50');
    expect(h.fake.sh('-L', '-n', '--thresholds')).toMatch(/127\.0\.0\.2:80 +50 /);
    await waitFor(() => /127\.0\.0\.2:80 +0 /.test(h.fake.sh('-L', '-n', '--thresholds')), 8000);
  });
});
