import { describe, expect, it } from 'vitest';
import { stripBrackets } from '../../checks/io/address.js';
import { defaultPortFor, SERVICE_DEFAULT_PORTS } from '../../checks/registry.js';
import { buildTarget, checkPortFor } from '../../checks/target.js';
import { makeReal, makeVirtual } from './web-fixtures.js';

describe('check target (spec §3.2)', () => {
  it('check port: checkport, else the real port, else the service default', () => {
    expect(checkPortFor(makeVirtual({ checkport: 8081, service: 'http' }), makeReal({ port: 8080 }))).toBe(8081);
    expect(checkPortFor(makeVirtual({ service: 'http' }), makeReal({ port: 8080 }))).toBe(8080);
    expect(checkPortFor(makeVirtual({ service: 'https' }), makeReal({ port: 0 }))).toBe(443);
    expect(checkPortFor(makeVirtual({ service: 'imaps' }), makeReal({ port: 0 }))).toBe(993);
    expect(checkPortFor(makeVirtual({ service: 'none' }), makeReal({ port: 0 }))).toBe(0);
    expect(checkPortFor(makeVirtual({ service: 'simpletcp' }), makeReal({ port: 0 }))).toBe(0);
  });

  it('default ports are the §2.6 table read right to left', () => {
    expect(SERVICE_DEFAULT_PORTS).toEqual({
      ftp: 21,
      smtp: 25,
      dns: 53,
      http: 80,
      pop: 110,
      nntp: 119,
      imap: 143,
      ldap: 389,
      https: 443,
      submission: 587,
      ldaps: 636,
      imaps: 993,
      pops: 995,
      oracle: 1521,
      radius: 1812,
      http_proxy: 3128,
      mysql: 3306,
      sip: 5060,
      pgsql: 5432,
      ssh: 22, // the extension service=ssh: not in the original's table
    });
    expect(defaultPortFor('none')).toBeUndefined();
    expect(checkPortFor(makeVirtual({ service: 'ssh' }), makeReal({ port: 0 }))).toBe(22);
  });

  it('per-real request/receive override the virtual pair only together', () => {
    const v = makeVirtual({ request: '/v.html', receive: 'V' });
    expect(buildTarget(v, makeReal({ request: '/r.html', receive: 'R' }))).toMatchObject({ request: '/r.html', receive: 'R' });
    expect(buildTarget(v, makeReal({}))).toMatchObject({ request: '/v.html', receive: 'V' });
  });

  it('host is the address without IPv6 brackets', () => {
    expect(stripBrackets('[2001:db8::1]')).toBe('2001:db8::1');
    expect(buildTarget(makeVirtual({ family: 6 }), makeReal({ ip: '[::1]', port: 80 }))).toMatchObject({ host: '::1', port: 80 });
    expect(buildTarget(makeVirtual(), makeReal({ ip: '127.0.0.2', port: 8080 }))).toMatchObject({ host: '127.0.0.2', port: 8080 });
  });
});
