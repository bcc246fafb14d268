import { describe, expect, it } from 'vitest';
import { CHECKERS, buildRegistry, getChecker, selectChecker } from '../../checks/registry.js';
import { makeVirtual } from './web-fixtures.js';

const WEB = [
  'connect',
  'ping',
  'external',
  'external-perl',
  'on',
  'off',
  'none',
  'http',
  'https',
  'http_proxy',
  'ftp',
  'smtp',
  'submission',
  'pop',
  'pops',
  'imap',
  'imaps',
];

describe('checker registry', () => {
  it('has every web/mail/generic checker under its name', () => {
    for (const name of WEB) expect(getChecker(name)?.name, name).toBe(name);
    expect(getChecker('gopher')).toBeUndefined();
  });

  it('knows the default ports of the services', () => {
    expect(
      Object.fromEntries(
        ['http', 'https', 'http_proxy', 'ftp', 'smtp', 'submission', 'pop', 'pops', 'imap', 'imaps'].map((n) => [
          n,
          CHECKERS.get(n)?.defaultPort,
        ]),
      ),
    ).toEqual({
      http: 80,
      https: 443,
      http_proxy: 3128,
      ftp: 21,
      smtp: 25,
      submission: 587,
      pop: 110,
      pops: 995,
      imap: 143,
      imaps: 993,
    });
  });

  it('refuses two checkers with one name', () => {
    const c = getChecker('on')!;
    expect(() => buildRegistry([c, c])).toThrow('two checkers are named "on"');
  });

  it('uses the timeout the original uses per check', () => {
    const v = makeVirtual({ checktimeout: 3, negotiatetimeout: 17, checkcount: 4 });
    expect(getChecker('connect')!.timeoutSeconds(v)).toBe(3);
    expect(getChecker('external')!.timeoutSeconds(v)).toBe(3);
    expect(getChecker('external-perl')!.timeoutSeconds(v)).toBe(3);
    expect(getChecker('ping')!.timeoutSeconds(v)).toBe(12);
    for (const name of ['http', 'https', 'http_proxy', 'ftp', 'smtp', 'submission', 'pop', 'pops', 'imap', 'imaps']) {
      expect(getChecker(name)!.timeoutSeconds(v), name).toBe(17);
    }
  });

  it('selects by checktype; connect on udp runs the service check', () => {
    expect(selectChecker(makeVirtual({ service: 'https' }))?.name).toBe('https');
    expect(selectChecker(makeVirtual({ checktype: { kind: 'connect' } }))?.name).toBe('connect');
    expect(selectChecker(makeVirtual({ checktype: { kind: 'connect' }, protocol: 'udp', service: 'none' }))?.name).toBe('none');
    expect(selectChecker(makeVirtual({ checktype: { kind: 'connect' }, protocol: 'udp', service: 'dns' }))?.name).toBe('dns-connect');
    expect(selectChecker(makeVirtual({ checktype: { kind: 'negotiate' }, protocol: 'udp', service: 'dns' }))?.name).toBe('dns');
    expect(selectChecker(makeVirtual({ checktype: { kind: 'ping' } }))?.name).toBe('ping');
    expect(selectChecker(makeVirtual({ checktype: { kind: 'external-perl' } }))?.name).toBe('external-perl');
    expect(selectChecker(makeVirtual({ checktype: { kind: 'off' } }))?.name).toBe('off');
    const combined = makeVirtual({ checktype: { kind: 'combined', n: 2 }, service: 'smtp' });
    expect(selectChecker(combined, 'negotiate')?.name).toBe('smtp');
    expect(selectChecker(combined, 'connect')?.name).toBe('connect');
    expect(selectChecker({ ...combined, protocol: 'udp' }, 'connect')?.name).toBe('smtp');
    expect(() => selectChecker(combined)).toThrow('needs the step');
  });

  it('on is up without a monitorfile line; none is up with one; off never brings a real up', async () => {
    const signal = AbortSignal.timeout(1000);
    const t = {
      virtual: makeVirtual(),
      real: { ip: '127.0.0.1', port: 0, forward: 'masq', weight: 1, lowerThreshold: 0, upperThreshold: 0, line: 1 },
      host: '127.0.0.1',
      port: 0,
      request: '/',
      receive: '',
    } as const;
    expect(await getChecker('on')!.probe(t, signal)).toMatchObject({ ok: true, message: '-', skipMonitorfile: true });
    const none = await getChecker('none')!.probe(t, signal);
    expect(none).toMatchObject({ ok: true, message: '-' });
    expect(none.skipMonitorfile).toBeUndefined();
    expect(await getChecker('off')!.probe(t, signal)).toMatchObject({ ok: false, skipMonitorfile: true });
  });
});
