// ipvsadm that stops halfway through the listings the daemon parses as they arrive: it
// hangs, fails, or exits 0 with the output cut. The half already parsed must never come
// back as a table; the error is the process's (timeout, its status and message), or a
// parse error when it claimed success.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import { createIpvsadmRunner } from '../../lib/ipvs/ipvsadm-runner.js';
import { readChangedServices, readTable } from '../../lib/ipvs/read-table.js';

/** Both listings of 50 services x 100 destinations (~1 MB: many pipe chunks). */
function listings(): string {
  const head = 'IP Virtual Server version 1.2.1 (size=4096)\n';
  let plain = `${head}Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n`;
  let thr = `${head}Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n`;
  for (let s = 0; s < 50; s++) {
    plain += `TCP  10.214.0.${s}:80 wlc\n`;
    thr += `TCP  10.214.0.${s}:80 wlc\n`;
    for (let r = 0; r < 100; r++) {
      const rip = `10.215.${s}.${r}:8080`.padEnd(28);
      plain += `  -> ${rip} Masq    1      0          0         \n`;
      thr += `  -> ${rip} 0          0          0          0         \n`;
    }
  }
  return plain + thr;
}

describe('ipvsadm stops halfway through its listings', () => {
  let dir: string;
  let whole: string;
  let ipvsadm: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'listing-cut-'));
    whole = join(dir, 'listings.txt');
    const text = listings();
    writeFileSync(whole, text);
    ipvsadm = join(dir, 'ipvsadm');
    // FAULT: hang | fail | cut (exit 0); CUT: bytes printed first
    writeFileSync(
      ipvsadm,
      `#!/bin/sh
cat > /dev/null
if [ "$FAULT" = none ]; then exec cat "${whole}"; fi
head -c "$CUT" "${whole}"
case "$FAULT" in
  hang) exec sleep 30 ;;
  fail) echo "Memory allocation problem" >&2; exit 1 ;;
  *) exit 0 ;;
esac
`,
    );
    chmodSync(ipvsadm, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const runner = (fault: string, timeoutMs = 10_000) =>
    createIpvsadmRunner(ipvsadm, { timeoutMs, env: { FAULT: fault, CUT: String(Math.floor(listings().length * 0.6)) } });
  const outcome = (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e);
  // The drift check's read, with no service it manages: none is parsed, the cut must still be told.
  const anyChange = { managed: new Set<string>(), known: new Map<string, number>(), look: 'all' as const };

  it('reads the whole table when nothing goes wrong (the stand-in prints what it should)', async () => {
    const t = await readTable(runner('none'));
    expect(t.services).toHaveLength(50);
    expect(t.services.every((s) => s.destinations.length === 100)).toBe(true);
  });

  it('hangs after half: a timeout within its deadline, no table', async () => {
    for (const read of [() => readTable(runner('hang', 1000)), () => readChangedServices(runner('hang', 1000), anyChange)]) {
      const t0 = Date.now();
      const e = await outcome(read());
      expect(e).toBeInstanceOf(IpvsadmError);
      expect((e as IpvsadmError).kind).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(8000);
    }
  });

  it('fails after half: its status and message, not a parse error, for every kind of read', async () => {
    for (const read of [() => readTable(runner('fail')), () => readChangedServices(runner('fail'), anyChange)]) {
      const e = await outcome(read());
      expect(e).toBeInstanceOf(IpvsadmError);
      expect((e as IpvsadmError).kind).toBe('failed');
      expect((e as IpvsadmError).message).toBe('Memory allocation problem');
    }
  });

  it('exits 0 with the output cut: a parse error, never the half as a table', async () => {
    for (const read of [() => readTable(runner('cut')), () => readChangedServices(runner('cut'), anyChange)]) {
      const e = await outcome(read());
      expect(e).toBeInstanceOf(IpvsadmError);
      expect((e as IpvsadmError).kind).toBe('parse');
    }
  });
});
