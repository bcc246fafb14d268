// The IPVS sync-daemon directives (ldirectord-ts extensions): values, defaults, and every
// error with its line.
import { describe, expect, it } from 'vitest';
import { block, errors, parse, warnings } from './parse-helpers.js';

const VIRTUAL = ['virtual=10.0.0.1:80', block(['real=127.0.0.2:80 gate'])];
const cf = (...lines: string[]): string => [...lines, ...VIRTUAL, ''].join('\n');

describe('syncdaemon and its parameters', () => {
  it('are off when not written: nothing to keep', async () => {
    const r = await parse(cf());
    expect(r.diagnostics).toEqual([]);
    expect(r.config!.globals.syncdaemon).toBeUndefined();
  });

  it('syncdaemon=none is the same as not writing it, and says nothing', async () => {
    const r = await parse(cf('syncdaemon=none'));
    expect(r.diagnostics).toEqual([]);
    expect(r.config!.globals.syncdaemon).toBeUndefined();
  });

  it('master, backup and both with an interface; syncid defaults to 0', async () => {
    const read = async (mode: string) => (await parse(cf(`syncdaemon=${mode}`, 'syncinterface=eth1'))).config?.globals.syncdaemon;
    expect(await read('master')).toEqual({ mode: 'master', roles: ['master'], interface: 'eth1', syncid: 0 });
    expect(await read('backup')).toEqual({ mode: 'backup', roles: ['backup'], interface: 'eth1', syncid: 0 });
    expect(await read('both')).toEqual({ mode: 'both', roles: ['master', 'backup'], interface: 'eth1', syncid: 0 });
  });

  it('takes every optional parameter, in any order, the last line of each winning', async () => {
    const r = await parse(
      cf(
        'syncttl=3',
        'syncid=7',
        'syncinterface=bond0.12',
        'syncmaxlen=1400',
        'syncgroup=ff02::1:81',
        'syncport=8849',
        'syncdaemon=both',
        'syncid=9',
      ),
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.config!.globals.syncdaemon).toEqual({
      mode: 'both',
      roles: ['master', 'backup'],
      interface: 'bond0.12',
      syncid: 9,
      maxlen: 1400,
      group: 'ff02::1:81',
      port: 8849,
      ttl: 3,
    });
  });

  it('accepts the bounds: syncid 0 and 255, syncmaxlen 1 and 65507, syncport 1 and 65535, syncttl 1 and 255, 239.255.255.255', async () => {
    for (const lines of [
      ['syncid=0', 'syncmaxlen=1', 'syncport=1', 'syncttl=1', 'syncgroup=224.0.0.0'],
      ['syncid=255', 'syncmaxlen=65507', 'syncport=65535', 'syncttl=255', 'syncgroup=239.255.255.255'],
    ]) {
      const r = await parse(cf('syncdaemon=master', 'syncinterface=eth0', ...lines));
      expect(r.diagnostics, lines.join(' ')).toEqual([]);
    }
  });

  it('syncdaemon other than none without syncinterface is an error at the syncdaemon line', async () => {
    for (const mode of ['master', 'backup', 'both']) {
      const r = await parse(cf('checkinterval=5', `syncdaemon=${mode}`, 'syncid=3'));
      expect(errors(r)).toEqual([
        `2: syncdaemon=${mode} needs syncinterface=: the network interface the sync messages go through (ipvsadm --mcast-interface)`,
      ]);
    }
  });

  it('rejects bad values, each with its line', async () => {
    const r = await parse(
      cf(
        'syncdaemon=yes',
        'syncdaemon=Master',
        'syncinterface=eth0:1',
        'syncinterface=averyveryverylongname',
        'syncinterface=a/b',
        'syncinterface=..',
        'syncid=300',
        'syncid=-1',
        'syncid=1x',
        'syncmaxlen=0',
        'syncmaxlen=65508',
        'syncgroup=10.0.0.1',
        'syncgroup=240.0.0.1',
        'syncgroup=ff:1::1',
        'syncgroup=fe80::1',
        'syncgroup=ff02::1%eth0',
        'syncgroup=mcast.example.org',
        'syncport=0',
        'syncport=65536',
        'syncttl=0',
        'syncttl=256',
      ),
    );
    const group = (v: string) =>
      `invalid syncgroup "${v}": a numeric IPv4 multicast address (224.0.0.0 to 239.255.255.255) or IPv6 multicast address (ff00::/8) is required`;
    const iface = (v: string) =>
      `invalid syncinterface "${v}": a network interface name of 1 to 15 characters without "/", ":" or spaces is required`;
    expect(errors(r)).toEqual([
      '1: invalid syncdaemon: write none, master, backup or both',
      '2: invalid syncdaemon: write none, master, backup or both',
      `3: ${iface('eth0:1')}`,
      `4: ${iface('averyveryverylongname')}`,
      `5: ${iface('a/b')}`,
      `6: ${iface('..')}`,
      '7: invalid syncid: a whole number from 0 to 255 is required',
      '8: invalid syncid: a whole number from 0 to 255 is required',
      '9: invalid syncid: a whole number from 0 to 255 is required',
      '10: invalid syncmaxlen: a whole number of bytes from 1 to 65507 is required',
      '11: invalid syncmaxlen: a whole number of bytes from 1 to 65507 is required',
      `12: ${group('10.0.0.1')}`,
      `13: ${group('240.0.0.1')}`,
      `14: ${group('ff:1::1')}`,
      `15: ${group('fe80::1')}`,
      `16: ${group('ff02::1%eth0')}`,
      `17: ${group('mcast.example.org')}`,
      '18: invalid syncport: a port from 1 to 65535 is required',
      '19: invalid syncport: a port from 1 to 65535 is required',
      '20: invalid syncttl: a whole number from 1 to 255 is required',
      '21: invalid syncttl: a whole number from 1 to 255 is required',
    ]);
  });

  it('parameters without syncdaemon are accepted with a warning each (probably a forgotten syncdaemon=)', async () => {
    const r = await parse(cf('syncinterface=eth0', 'syncid=4', 'syncdaemon=none', 'syncttl=2'));
    expect(errors(r)).toEqual([]);
    expect(r.config!.globals.syncdaemon).toBeUndefined();
    expect(warnings(r)).toEqual([
      '1: syncinterface has no effect without syncdaemon=master, backup or both',
      '2: syncid has no effect without syncdaemon=master, backup or both',
      '4: syncttl has no effect without syncdaemon=master, backup or both',
    ]);
  });

  it('are global only: in a virtual block they are unknown', async () => {
    const r = await parse('virtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    syncdaemon=master\n');
    expect(errors(r)).toEqual([expect.stringMatching(/^3: Unknown command/)]);
  });
});
