// `ipvsadm -L --daemon` as the real ipvsadm 1.31 on Linux 6.1 prints it (recorded in the IPVS
// guest: fixtures/ipvsadm-daemon/), and the --start-daemon / --stop-daemon argument arrays.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IpvsadmError } from '../../lib/ipvs/errors.js';
import {
  describeDaemon,
  parseDaemonListing,
  runsAsWanted,
  startDaemonArgs,
  stopDaemonArgs,
  wantedDaemons,
  type SyncDaemon,
} from '../../lib/ipvs/sync-daemons.js';
import { fullBackupStartArgs } from '../support/sync-daemon-args.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => readFileSync(path.join(here, '../../fixtures/ipvsadm-daemon', name), 'utf8');

const MASTER: SyncDaemon = { role: 'master', interface: 'sync0', syncid: 1, maxlen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 };
const BACKUP: SyncDaemon = { role: 'backup', interface: 'sync0', syncid: 2, maxlen: 1400, group: '239.1.2.3', port: 8849, ttl: 3 };

describe('parseDaemonListing: the real outputs', () => {
  it('nothing running: empty output, no daemon', () => {
    expect(fixture('none.txt')).toBe('');
    expect(parseDaemonListing(fixture('none.txt'))).toEqual([]);
  });

  it('master, backup, both: every parameter the kernel reports', () => {
    expect(parseDaemonListing(fixture('master.txt'))).toEqual([MASTER]);
    expect(parseDaemonListing(fixture('backup.txt'))).toEqual([BACKUP]);
    expect(parseDaemonListing(fixture('both.txt'))).toEqual([MASTER, BACKUP]);
  });

  it('an IPv6 group, and the defaults on lo (a backup maxlen from the 64k MTU)', () => {
    expect(parseDaemonListing(fixture('master-ipv6-group.txt'))).toEqual([
      { role: 'master', interface: 'sync0', syncid: 0, maxlen: 1452, group: 'ff02::1:81', port: 8848, ttl: 1 },
    ]);
    expect(parseDaemonListing(fixture('both-lo.txt')).map((d) => [d.role, d.interface, d.maxlen])).toEqual([
      ['master', 'lo', 1472],
      ['backup', 'lo', 65507],
    ]);
  });

  it("kernels before 4.3 print only mcast and syncid (ipvsadm's format then)", () => {
    expect(parseDaemonListing('master sync daemon (mcast=eth0, syncid=1)\nbackup sync daemon (mcast=eth1, syncid=255)\n')).toEqual([
      { role: 'master', interface: 'eth0', syncid: 1 },
      { role: 'backup', interface: 'eth1', syncid: 255 },
    ]);
  });

  it('anything else is a parse error naming the line', () => {
    for (const [text, line] of [
      ['master sync daemon (mcast=eth0, syncid=1)\nsomething else\n', 2],
      ['master sync daemon (mcast=eth0)\n', 1],
      ['master sync daemon (mcast=eth0, syncid=x)\n', 1],
      ['client sync daemon (mcast=eth0, syncid=1)\n', 1],
      ['master sync daemon (mcast=eth0 syncid=1)\n', 1],
    ] as const) {
      let error: unknown;
      try {
        parseDaemonListing(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(IpvsadmError);
      expect((error as IpvsadmError).kind).toBe('parse');
      expect((error as IpvsadmError).details.line).toBe(line);
    }
  });
});

describe('argument arrays and comparisons', () => {
  it('start: role, interface and syncid always; the optional parameters only when configured', () => {
    expect(startDaemonArgs({ role: 'master', interface: 'eth1', syncid: 0 })).toEqual([
      '--start-daemon',
      'master',
      '--mcast-interface',
      'eth1',
      '--syncid',
      '0',
    ]);
    expect(startDaemonArgs(BACKUP)).toEqual(fullBackupStartArgs('sync0'));
    expect(stopDaemonArgs('master')).toEqual(['--stop-daemon', 'master']);
  });

  it('wantedDaemons: both = master then backup, with the same parameters', () => {
    expect(wantedDaemons(undefined)).toEqual([]);
    expect(wantedDaemons({ mode: 'both', roles: ['master', 'backup'], interface: 'eth1', syncid: 3, port: 9000 })).toEqual([
      { role: 'master', interface: 'eth1', syncid: 3, port: 9000 },
      { role: 'backup', interface: 'eth1', syncid: 3, port: 9000 },
    ]);
  });

  it('runsAsWanted: what the config leaves unset is the kernel’s choice; a lower maxlen is the MTU’s', () => {
    const want: SyncDaemon = { role: 'master', interface: 'sync0', syncid: 1 };
    expect(runsAsWanted(want, MASTER)).toBe(true);
    expect(runsAsWanted({ ...want, syncid: 2 }, MASTER)).toBe(false);
    expect(runsAsWanted({ ...want, interface: 'eth0' }, MASTER)).toBe(false);
    expect(runsAsWanted({ ...want, role: 'backup' }, MASTER)).toBe(false);
    expect(runsAsWanted({ ...want, maxlen: 9000 }, MASTER)).toBe(true);
    expect(runsAsWanted({ ...want, maxlen: 1400 }, MASTER)).toBe(false);
    expect(runsAsWanted({ ...want, group: '224.0.0.81', port: 8848, ttl: 1 }, MASTER)).toBe(true);
    expect(runsAsWanted({ ...want, group: '239.0.0.1' }, MASTER)).toBe(false);
    expect(runsAsWanted({ ...want, port: 8849 }, MASTER)).toBe(false);
    expect(runsAsWanted({ ...want, ttl: 2 }, MASTER)).toBe(false);
    // IPv6 groups compare as addresses, not as text
    const v6 = parseDaemonListing(fixture('master-ipv6-group.txt'))[0]!;
    expect(runsAsWanted({ role: 'master', interface: 'sync0', syncid: 0, group: 'FF02:0::1:81' }, v6)).toBe(true);
    // an old kernel reports neither: nothing to compare, no restart loop
    expect(runsAsWanted({ ...want, group: '239.0.0.1', ttl: 5 }, { role: 'master', interface: 'sync0', syncid: 1 })).toBe(true);
  });

  it('describeDaemon: as ipvsadm prints it', () => {
    expect(describeDaemon(MASTER)).toBe('master (mcast=sync0, syncid=1, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)');
    expect(describeDaemon({ role: 'backup', interface: 'eth0', syncid: 0 })).toBe('backup (mcast=eth0, syncid=0)');
  });
});
