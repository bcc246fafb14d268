// The --start-daemon arguments of a backup sync daemon with every optional parameter set:
// what startDaemonArgs must build (test/ipvs/sync-daemons.test.ts) and what the real
// ipvsadm must take in the IPVS guest (test/e2e/guest/ipvsadm-steps.mjs), one list for both
// so that the unit test asserts the arguments the real ipvsadm was seen to accept.

/**
 * @param {string} mcastInterface
 * @returns {string[]}
 */
export function fullBackupStartArgs(mcastInterface) {
  return [
    '--start-daemon',
    'backup',
    '--mcast-interface',
    mcastInterface,
    '--syncid',
    '2',
    '--sync-maxlen',
    '1400',
    '--mcast-group',
    '239.1.2.3',
    '--mcast-port',
    '8849',
    '--mcast-ttl',
    '3',
  ];
}
