import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalAddress,
  canonicalNetmask,
  canonicalSchedFlags,
  destinationKey,
  normalizeService,
  parseAddressPort,
  sameDestination,
  sameServiceOptions,
  serviceArgs,
  serviceKey,
  serviceLabel,
  storedDestinationPort,
  type IpvsDestination,
  type IpvsService,
} from '../../lib/ipvs/table.js';
import { formatIPv6, parseIPv6 } from '../../lib/config/ip-address.js';

const dest = (o: Partial<IpvsDestination> = {}): IpvsDestination => ({
  address: '10.0.0.2',
  port: 80,
  forward: 'masq',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...o,
});

describe('addresses', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['010.000.000.001', '10.0.0.1'],
    ['2001:DB8:0:0:0:0:0:1', '[2001:db8::1]'],
    ['[2001:db8::1]', '[2001:db8::1]'],
    ['2001:db8:0:0:1:0:0:53', '[2001:db8::1:0:0:53]'], // first of two equal zero runs (glibc)
    ['2001:db8:0:1:1:1:1:1', '[2001:db8:0:1:1:1:1:1]'], // a single zero word is not compressed
    ['::', '[::]'],
    ['::1', '[::1]'],
    ['fe80::', '[fe80::]'],
    ['::ffff:10.0.0.1', '[::ffff:10.0.0.1]'],
    ['::10.0.0.1', '[::10.0.0.1]'],
    ['1:2:3:4:5:6:1.2.3.4', '[1:2:3:4:5:6:102:304]'],
  ])('%s -> %s', (input, want) => {
    expect(canonicalAddress(input)?.address).toBe(want);
  });

  it.each(['10.0.0.256', '10.0.0', 'example.com', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '[10.0.0.1]', ''])('rejects %s', (bad) => {
    expect(canonicalAddress(bad)).toBeUndefined();
  });

  it('gives any dotted quad, leading zeros or not, as its four numbers printed back', () => {
    const part = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 }));
    fc.assert(
      fc.property(fc.array(part, { minLength: 4, maxLength: 4 }), (parts) => {
        const text = parts.map(([n, zeros]) => String(n).padStart(String(n).length + zeros, '0')).join('.');
        const tooLong = parts.some(([n, zeros]) => String(n).length + zeros > 3);
        expect(canonicalAddress(text)).toEqual(tooLong ? undefined : { family: 4, address: parts.map(([n]) => n).join('.') });
      }),
    );
  });

  it.each(['1.2.3.4.5', '1.2.3.', '.1.2.3', '1..2.3', '1.2.3.4 ', '1.2.3.-4', '1.2.3.1000', '256.0.0.1'])(
    'rejects the quad-like %j',
    (bad) => {
      expect(canonicalAddress(bad)).toBeUndefined();
    },
  );

  it('formats like inet_ntop', () => {
    expect(formatIPv6(parseIPv6('0:0:0:0:0:0:0:1')!)).toBe('::1');
    expect(formatIPv6(parseIPv6('1:0:0:0:0:0:0:0')!)).toBe('1::');
    expect(formatIPv6(parseIPv6('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
  });

  it('splits address:port', () => {
    expect(parseAddressPort('10.0.0.1:80')).toEqual({ family: 4, address: '10.0.0.1', port: 80 });
    expect(parseAddressPort('[2001:DB8::1]:0')).toEqual({ family: 6, address: '[2001:db8::1]', port: 0 });
    expect(parseAddressPort('10.0.0.1')).toBeUndefined();
    expect(parseAddressPort('10.0.0.1:65536')).toBeUndefined();
    expect(parseAddressPort('2001:db8::1:80')).toBeUndefined();
    expect(parseAddressPort('[::1]:65535')).toEqual({ family: 6, address: '[::1]', port: 65535 });
    expect(parseAddressPort('10.0.0.1:00080')).toEqual({ family: 4, address: '10.0.0.1', port: 80 });
    for (const bad of [
      ':80',
      '10.0.0.1:',
      '10.0.0.1:123456',
      '10.0.0.1:8a',
      '10.0.0.1:-1',
      '[10.0.0.1]:80',
      '[]:80',
      '[2001:db8::1]',
      '[::1]]:80',
      'a]b:80',
      '10.0.0.1 :80',
    ]) {
      expect(parseAddressPort(bad), bad).toBeUndefined();
    }
  });
});

describe('keys', () => {
  it('uses the config model virtual-id form', () => {
    expect(serviceKey({ protocol: 'tcp', family: 4, address: '10.0.0.1', port: 80 })).toBe('tcp:10.0.0.1:80');
    expect(serviceKey({ protocol: 'udp', family: 6, address: '[::1]', port: 53 })).toBe('udp:[::1]:53');
    expect(serviceKey({ protocol: 'fwm', family: 4, fwmark: 7 })).toBe('fwm:7');
    expect(serviceKey({ protocol: 'fwm', family: 6, fwmark: 8 })).toBe('fwm6:8');
  });
  it('labels virtuals like log lines', () => {
    expect(serviceLabel({ protocol: 'tcp', family: 4, address: '10.0.0.1', port: 80 })).toBe('10.0.0.1:80');
    expect(serviceLabel({ protocol: 'fwm', family: 6, fwmark: 8 })).toBe('8');
    expect(destinationKey({ address: '[2001:db8::2]', port: 80 })).toBe('[2001:db8::2]:80');
  });
  it('renders the service arguments', () => {
    expect(serviceArgs({ protocol: 'tcp', family: 4, address: '10.0.0.1', port: 80 })).toEqual(['-t', '10.0.0.1:80']);
    expect(serviceArgs({ protocol: 'udp', family: 6, address: '[::1]', port: 53 })).toEqual(['-u', '[::1]:53']);
    expect(serviceArgs({ protocol: 'fwm', family: 4, fwmark: 7 })).toEqual(['-f', '7']);
    expect(serviceArgs({ protocol: 'fwm', family: 6, fwmark: 8 })).toEqual(['-f', '8', '-6']);
  });
});

describe('normalisation', () => {
  it('maps gate and ipip ports to the virtual port on address services only (spec §4.2)', () => {
    const tcp = { protocol: 'tcp', family: 4, address: '10.0.0.1', port: 80 } as const;
    const fwm = { protocol: 'fwm', family: 4, fwmark: 7 } as const;
    expect(storedDestinationPort(tcp, 'gate', 0)).toBe(80);
    expect(storedDestinationPort(tcp, 'ipip', 8080)).toBe(80);
    expect(storedDestinationPort(tcp, 'masq', 0)).toBe(0);
    expect(storedDestinationPort(tcp, 'masq', 8080)).toBe(8080);
    expect(storedDestinationPort(fwm, 'gate', 0)).toBe(0);
  });

  it('prints scheduler flags as ipvsadm reads them back', () => {
    expect(canonicalSchedFlags('sh', 'flag-2,flag-1')).toBe('sh-fallback,sh-port');
    expect(canonicalSchedFlags('sh', 'sh-port')).toBe('sh-port');
    expect(canonicalSchedFlags('mh', 'mh-port,mh-fallback')).toBe('mh-fallback,mh-port');
    expect(canonicalSchedFlags('rr', 'flag-3,flag-1')).toBe('flag-1,flag-3');
    expect(canonicalSchedFlags('rr', '')).toBeUndefined();
    expect(canonicalSchedFlags('rr', undefined)).toBeUndefined();
    // ipvsadm would refuse these: kept as written so that its error is reported
    expect(canonicalSchedFlags('rr', 'sh-port')).toBe('sh-port');
    expect(canonicalSchedFlags('rr', 'bogus')).toBe('bogus');
  });

  it('drops default and meaningless netmasks', () => {
    expect(canonicalNetmask(4, 300, '255.255.255.255')).toBeUndefined();
    expect(canonicalNetmask(4, 300, '255.255.255.000')).toBe('255.255.255.0');
    expect(canonicalNetmask(4, undefined, '255.255.255.0')).toBeUndefined();
    expect(canonicalNetmask(6, 300, '128')).toBeUndefined();
    expect(canonicalNetmask(6, 300, '064')).toBe('64');
  });

  it('normalises a whole service', () => {
    const s: IpvsService = {
      protocol: 'tcp',
      family: 4,
      address: '10.0.0.1',
      port: 80,
      scheduler: 'sh',
      netmask: '255.255.0.0',
      ops: false,
      schedFlags: 'flag-2',
      destinations: [dest({ port: 0, forward: 'gate' }), dest({ address: '10.0.0.3', port: 0 })],
    };
    expect(normalizeService(s)).toEqual({
      protocol: 'tcp',
      family: 4,
      address: '10.0.0.1',
      port: 80,
      scheduler: 'sh',
      ops: false,
      schedFlags: 'sh-port',
      destinations: [dest({ port: 80, forward: 'gate' }), dest({ address: '10.0.0.3', port: 0 })],
    });
  });
});

describe('comparison', () => {
  it('compares service options', () => {
    const a = { scheduler: 'wrr', ops: false };
    expect(sameServiceOptions(a, { ...a })).toBe(true);
    expect(sameServiceOptions(a, { ...a, scheduler: 'rr' })).toBe(false);
    expect(sameServiceOptions(a, { ...a, persistent: 300 })).toBe(false);
    expect(sameServiceOptions({ ...a, persistent: 300 }, { ...a, persistent: 300, netmask: '255.255.255.0' })).toBe(false);
    expect(sameServiceOptions(a, { ...a, ops: true })).toBe(false);
    expect(sameServiceOptions(a, { ...a, schedFlags: 'flag-1' })).toBe(false);
    expect(sameServiceOptions(a, { ...a, pe: 'sip' })).toBe(false);
  });
  it('compares destinations, Local satisfying gate', () => {
    expect(sameDestination(dest(), dest())).toBe(true);
    expect(sameDestination(dest(), dest({ weight: 2 }))).toBe(false);
    expect(sameDestination(dest(), dest({ upperThreshold: 2 }))).toBe(false);
    expect(sameDestination(dest(), dest({ lowerThreshold: 2 }))).toBe(false);
    expect(sameDestination(dest(), dest({ forward: 'gate' }))).toBe(false);
    expect(sameDestination(dest({ forward: 'local' }), dest({ forward: 'gate' }))).toBe(true);
    expect(sameDestination(dest({ forward: 'local' }), dest({ forward: 'masq' }))).toBe(false);
  });
});
