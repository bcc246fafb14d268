import { describe, expect, it } from 'vitest';
import { commandArgs, commandTarget, forwardFlag, restoreLine, type IpvsCommand } from '../../lib/ipvs/commands.js';

const V = { protocol: 'tcp', family: 4, address: '10.0.0.1', port: 80 } as const;
const F6 = { protocol: 'fwm', family: 6, fwmark: 8 } as const;
const D = { address: '10.0.0.2', port: 0, forward: 'gate', weight: 3, upperThreshold: 20, lowerThreshold: 10 } as const;

describe('ipvsadm command rendering', () => {
  it.each<[IpvsCommand, string]>([
    [{ op: 'add-service', service: { ...V, scheduler: 'wrr', ops: false } }, '-A -t 10.0.0.1:80 -s wrr'],
    [
      {
        op: 'add-service',
        service: { ...V, protocol: 'udp', scheduler: 'rr', ops: true, persistent: 300, netmask: '255.255.255.0', schedFlags: 'flag-1' },
      },
      '-A -u 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0 -o -b flag-1',
    ],
    [
      {
        op: 'edit-service',
        service: { ...F6, scheduler: 'sh', ops: false, persistent: 60, netmask: '64', schedFlags: 'sh-port' },
        previous: { scheduler: 'rr', ops: false },
      },
      '-E -f 8 -6 -s sh -p 60 -M 64 -b sh-port',
    ],
    [{ op: 'add-service', service: { ...V, scheduler: 'rr', ops: false, netmask: '255.0.0.0' } }, '-A -t 10.0.0.1:80 -s rr'],
    [{ op: 'delete-service', service: F6 }, '-D -f 8 -6'],
    [{ op: 'add-destination', service: V, destination: D }, '-a -t 10.0.0.1:80 -r 10.0.0.2:0 -g -w 3 -x 20 -y 10'],
    [
      { op: 'edit-destination', service: F6, destination: { ...D, address: '[2001:db8::2]', port: 80, forward: 'masq' }, previous: D },
      '-e -f 8 -6 -r [2001:db8::2]:80 -m -w 3 -x 20 -y 10',
    ],
    [{ op: 'delete-destination', service: V, destination: { ...D, forward: 'ipip' } }, '-d -t 10.0.0.1:80 -r 10.0.0.2:0'],
  ])('%j', (cmd, want) => {
    expect(commandArgs(cmd).join(' ')).toBe(want);
    expect(restoreLine(cmd)).toBe(want);
  });

  it('maps forwarding methods to ipvsadm flags (Local is written as -g, as ipvsadm -S does)', () => {
    expect(['gate', 'masq', 'ipip', 'local'].map((f) => forwardFlag(f as 'gate'))).toEqual(['-g', '-m', '-i', '-g']);
  });

  it('will not put an argument with blanks or # into restore input', () => {
    const bad: IpvsCommand = { op: 'add-service', service: { ...V, scheduler: 'wrr #x', ops: false } };
    expect(restoreLine(bad)).toBeUndefined();
    expect(commandArgs(bad)).toEqual(['-A', '-t', '10.0.0.1:80', '-s', 'wrr #x']);
  });

  it('names the target of a command', () => {
    expect(commandTarget({ op: 'delete-service', service: F6 })).toBe('fwm6:8');
    expect(commandTarget({ op: 'add-destination', service: V, destination: D })).toBe('tcp:10.0.0.1:80 10.0.0.2:0');
  });
});
