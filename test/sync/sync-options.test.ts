import { describe, expect, it } from 'vitest';
import { syncInvocation } from '../../lib/cli/main.js';
import { parseSyncArgs, SYNC_DEFAULTS } from '../../lib/sync/sync-options.js';

describe('sync on the command line', () => {
  it('is the word after the config, or the first word', () => {
    expect(syncInvocation(['ld.cf', 'sync', 'peer'])).toEqual({ given: 'ld.cf', rest: ['peer'] });
    expect(syncInvocation(['sync', '--reload', 'peer'])).toEqual({ rest: ['--reload', 'peer'] });
    expect(syncInvocation(['sync'])).toEqual({ rest: [] });
    expect(syncInvocation(['sync', 'sync', 'peer'])).toEqual({ given: 'sync', rest: ['peer'] });
  });

  it('leaves the original commands alone, also for a config named "sync"', () => {
    expect(syncInvocation(['sync', 'start'])).toBeUndefined();
    expect(syncInvocation(['sync', 'status'])).toBeUndefined();
    expect(syncInvocation(['ld.cf', 'reload'])).toBeUndefined();
    expect(syncInvocation(['status'])).toBeUndefined();
    expect(syncInvocation([])).toBeUndefined();
  });
});

describe('parseSyncArgs', () => {
  it('has defaults', () => {
    expect(parseSyncArgs(['peer'])).toEqual({
      identities: [],
      knownHosts: [],
      port: 22,
      reload: false,
      remoteLdirectord: SYNC_DEFAULTS.remoteLdirectord,
      timeoutSeconds: 60,
      peers: ['peer'],
    });
  });

  it('reads every option in its forms; options end at the first peer or --', () => {
    expect(
      parseSyncArgs([
        '-i',
        'k1',
        '-ik2',
        '--identity=k3',
        '--identity',
        'k4',
        '--known-hosts=kh',
        '-p2222',
        '--reload',
        '--remote-ldirectord=/usr/sbin/ldirectord',
        '--timeout',
        '5',
        'a',
        '--reload',
        'b',
      ]),
    ).toEqual({
      identities: ['k1', 'k2', 'k3', 'k4'],
      knownHosts: ['kh'],
      port: 2222,
      reload: true,
      remoteLdirectord: '/usr/sbin/ldirectord',
      timeoutSeconds: 5,
      peers: ['a', '--reload', 'b'],
    });
    expect(parseSyncArgs(['--', '-weird-host'])).toMatchObject({ peers: ['-weird-host'] });
  });

  it('refuses unknown options, missing values, bad numbers and no peer', () => {
    expect(parseSyncArgs(['--force', 'a'])).toEqual({ error: 'unknown option --force' });
    expect(parseSyncArgs(['-x', 'a'])).toEqual({ error: 'unknown option -x' });
    expect(parseSyncArgs(['-i'])).toEqual({ error: 'option -i needs a value' });
    expect(parseSyncArgs(['-p', '65536', 'a'])).toEqual({ error: 'invalid port "65536"' });
    expect(parseSyncArgs(['--timeout=0', 'a'])).toHaveProperty('error');
    expect(parseSyncArgs(['--remote-ldirectord=', 'a'])).toHaveProperty('error');
    expect(parseSyncArgs(['--reload'])).toEqual({ error: 'no peer given' });
  });
});
