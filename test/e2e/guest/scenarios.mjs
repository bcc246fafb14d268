// Desired tables for the convergence cases of test/e2e/ipvs.test.ts (plain data, shared by
// the guest script and the host-side assertions).
const d = (address, port, forward, weight, upperThreshold = 0, lowerThreshold = 0) => ({
  address,
  port,
  forward,
  weight,
  upperThreshold,
  lowerThreshold,
});

/** Every form a config can produce: tcp/udp/fwmark, IPv4/IPv6, persistence, netmask, ops, thresholds, ports to map. */
export const DESIRED_1 = {
  services: [
    {
      protocol: 'tcp',
      family: 4,
      address: '192.0.2.10',
      port: 80,
      scheduler: 'wrr',
      ops: false,
      destinations: [
        d('198.51.100.2', 0, 'gate', 3), // no port: ipvsadm maps it to :80
        d('198.51.100.3', 8080, 'masq', 2, 100, 10),
        d('198.51.100.4', 8080, 'ipip', 1), // ipip: port mapped too
      ],
    },
    {
      protocol: 'udp',
      family: 4,
      address: '192.0.2.10',
      port: 53,
      scheduler: 'rr',
      ops: true,
      destinations: [d('198.51.100.5', 53, 'masq', 1)],
    },
    {
      protocol: 'tcp',
      family: 4,
      address: '192.0.2.10',
      port: 443,
      scheduler: 'sh',
      persistent: 300,
      netmask: '255.255.255.0',
      ops: false,
      schedFlags: 'sh-port',
      destinations: [d('198.51.100.2', 443, 'masq', 1)],
    },
    {
      protocol: 'fwm',
      family: 4,
      fwmark: 7,
      scheduler: 'lc',
      persistent: 600,
      ops: false,
      destinations: [d('198.51.100.6', 0, 'gate', 5), d('198.51.100.7', 80, 'masq', 5, 50, 0)],
    },
    {
      protocol: 'tcp',
      family: 6,
      address: '[2001:db8::1]',
      port: 80,
      scheduler: 'wlc',
      persistent: 60,
      netmask: '64',
      ops: false,
      destinations: [d('[2001:db8::2]', 0, 'gate', 4), d('[2001:db8::3]', 81, 'masq', 4, 5, 2)],
    },
    { protocol: 'fwm', family: 6, fwmark: 8, scheduler: 'rr', ops: false, destinations: [d('[2001:db8::10]', 80, 'masq', 1)] },
    {
      protocol: 'tcp',
      family: 4,
      address: '192.0.2.20',
      port: 80,
      scheduler: 'rr',
      ops: false,
      destinations: [
        d('127.0.0.1', 80, 'gate', 1), // a local address: modern kernels keep it as Route
      ],
    },
  ],
};

/** DESIRED_1 after a reload: new weights and thresholds, a quiesced real, a new scheduler, a real moved, one virtual dropped. */
export const DESIRED_2 = {
  services: DESIRED_1.services
    .filter((s) => s.fwmark !== 8)
    .map((s) => {
      if (s.address === '192.0.2.10' && s.port === 80) {
        return {
          ...s,
          scheduler: 'wlc',
          destinations: [
            d('198.51.100.2', 0, 'gate', 7),
            d('198.51.100.3', 8080, 'masq', 0),
            d('198.51.100.4', 8080, 'masq', 1),
            d('198.51.100.8', 80, 'masq', 2),
          ],
        };
      }
      if (s.protocol === 'fwm') return { ...s, persistent: undefined, destinations: [s.destinations[1]] };
      if (s.protocol === 'udp') return { ...s, ops: false };
      return s;
    }),
};

/** The services ldirectord-ts manages in these cases (DESIRED_1's). */
export const MANAGED = [
  'tcp:192.0.2.10:80',
  'udp:192.0.2.10:53',
  'tcp:192.0.2.10:443',
  'fwm:7',
  'tcp:[2001:db8::1]:80',
  'fwm6:8',
  'tcp:192.0.2.20:80',
];

/** Services someone else put in the table: never to be touched. Includes the same real as a managed one. */
export const UNMANAGED_SETUP = [
  ['-A', '-t', '192.0.2.99:80', '-s', 'lc'],
  ['-a', '-t', '192.0.2.99:80', '-r', '198.51.100.2:80', '-m', '-w', '9', '-x', '30', '-y', '3'],
  ['-A', '-f', '70', '-s', 'rr'],
  ['-A', '-u', '[2001:db8::99]:53', '-s', 'wrr'],
  ['-a', '-u', '[2001:db8::99]:53', '-r', '[2001:db8::5]:53', '-m', '-w', '0'],
];
