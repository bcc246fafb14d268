// Byte-for-byte log lines of the original (spec §6; /usr/sbin/ldirectord _restore_service,
// _remove_service, purge_*, _service_up/_service_down, ld_emailalert_resend).
import { describe, expect, it } from 'vitest';
import * as m from '../../lib/ipvs/messages.js';

describe('IPVS log lines', () => {
  it.each([
    [m.addedVirtualServer('10.0.0.1:80'), 'Added virtual server: 10.0.0.1:80'],
    [m.addedVirtualServer('7'), 'Added virtual server: 7'],
    [m.changedVirtualServer('[2001:db8::1]:80'), 'Changed virtual server: [2001:db8::1]:80'],
    [m.addedServer('real', '10.0.0.2:80', '10.0.0.1:80', 1), 'Added real server: 10.0.0.2:80 (10.0.0.1:80) (Weight set to 1)'],
    [m.addedServer('fallback', '127.0.0.1:80', '10.0.0.1:80', 1), 'Added fallback server: 127.0.0.1:80 (10.0.0.1:80) (Weight set to 1)'],
    [m.restoredServer('real', '10.0.0.2:0', '10.0.0.1:80', 5), 'Restored real server: 10.0.0.2:0 (10.0.0.1:80) (Weight set to 5)'],
    [m.restoredServer('fallback', '127.0.0.1:80', '7', 1), 'Restored fallback server: 127.0.0.1:80 (7) (Weight set to 1)'],
    [m.quiescentServer('127.0.0.2:8080', '10.0.0.1:80'), 'Quiescent real server: 127.0.0.2:8080 (10.0.0.1:80) (Weight set to 0)'],
    [
      m.quiescentServer('10.0.0.2:80', '10.0.0.1:80', '10.0.0.2:0'),
      'Quiescent real server: 10.0.0.2:80 mapped from 10.0.0.2:0 (10.0.0.1:80) (Weight set to 0)',
    ],
    [m.readdQuiescentServer('10.0.0.2:80', '10.0.0.1:80'), 'Readd Quiescent real server: 10.0.0.2:80 (10.0.0.1:80) (Weight set to 0)'],
    [
      m.readdQuiescentServer('10.0.0.2:80', '10.0.0.1:80', '10.0.0.2:0'),
      'Readd Quiescent real server: 10.0.0.2:80 mapped from 10.0.0.2:0 (10.0.0.1:80) (Weight set to 0)',
    ],
    [m.deletedServer('real', '10.0.0.2:80', '10.0.0.1:80'), 'Deleted real server: 10.0.0.2:80 (10.0.0.1:80)'],
    [
      m.deletedServer('real', '10.0.0.2:80', '10.0.0.1:80', '10.0.0.2:0'),
      'Deleted real server: 10.0.0.2:80 mapped from 10.0.0.2:0 (10.0.0.1:80)',
    ],
    [m.deletedServer('fallback', '127.0.0.1:80', '10.0.0.1:80'), 'Deleted fallback server: 127.0.0.1:80 (10.0.0.1:80)'],
    [m.purgedRealServer('start', '10.0.0.9:80', '10.0.0.1:80'), 'Purged real server (start): 10.0.0.9:80 (10.0.0.1:80)'],
    [m.purgedRealServer('stop', '10.0.0.2:80', '7'), 'Purged real server (stop): 10.0.0.2:80 (7)'],
    [m.purgedVirtualServer('stop', '10.0.0.1:80'), 'Purged virtual server (stop): 10.0.0.1:80'],
    [m.purgedVirtualServer('start', '8'), 'Purged virtual server (start): 8'],
    [m.softFailure('10.0.0.2', 80, 'tcp:10.0.0.1:80', 1, 3), 'Soft failure real server: 10.0.0.2:80 (tcp:10.0.0.1:80) failure 1/3'],
    [m.resettingSoftFailure('10.0.0.2', 80, 'fwm6:8'), 'Resetting soft failure count: 10.0.0.2:80 (fwm6:8)'],
    [m.inaccessibleServer('10.0.0.2:80', '10.0.0.1:80'), 'Inaccessible real server: 10.0.0.2:80 (10.0.0.1:80)'],
    [
      m.commandFailed('/sbin/ipvsadm -A -t 10.0.0.1:80 -s nosuch', 'Scheduler or persistence engine not found'),
      'system(/sbin/ipvsadm -A -t 10.0.0.1:80 -s nosuch) failed: Scheduler or persistence engine not found',
    ],
  ])('%s', (got, want) => {
    expect(got).toBe(want);
  });
});
