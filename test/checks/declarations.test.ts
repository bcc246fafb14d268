// Each checker is declared once (types.ts, defineChecker): its name, default port,
// timeout, typed options and identity. These tests hold the declarations to what the
// rest of the daemon relies on.
import { describe, expect, it } from 'vitest';
import { SERVICE_OF_PORT } from '../../lib/config/build-model.js';
import { SERVICES, type Service } from '../../lib/config/model.js';
import { CHECKERS, SERVICE_DEFAULT_PORTS, getChecker, serviceChecker } from '../../checks/registry.js';
import { makeTarget } from './web-fixtures.js';

/** Services the original does not know: never implied by a virtual's port. */
const EXTENSIONS: readonly Service[] = ['ssh'];

describe('checker declarations', () => {
  it('every service has its checker', () => {
    for (const service of SERVICES) expect(serviceChecker(service)?.name, service).toBe(service);
  });

  it("the config's port -> service table (spec §2.6) is the checkers' default ports read backwards", () => {
    const fromCheckers = Object.entries(SERVICE_DEFAULT_PORTS)
      .filter(([service]) => !EXTENSIONS.includes(service as Service))
      .map(([service, port]) => [port, service]);
    expect(new Map(fromCheckers as Array<[number, Service]>)).toEqual(SERVICE_OF_PORT);
    for (const service of EXTENSIONS) expect([...SERVICE_OF_PORT.values()]).not.toContain(service);
  });

  it('the timeout the registry reports is the one the checker was declared with', () => {
    const v = makeTarget({ checktimeout: 3, negotiatetimeout: 17, checkcount: 2 }, {}).virtual;
    const seconds = Object.fromEntries([...CHECKERS.values()].map((c) => [c.name, c.timeoutSeconds(v)]));
    expect(seconds).toMatchObject({ ldap: 3, ldaps: 3, radius: 3, connect: 3, ping: 6, mysql: 17, oracle: 17, smtp: 17, dns: 17 });
  });

  it('identity: the same endpoint and options are the same probe; any option the probe reads separates', () => {
    const mysql = getChecker('mysql')!;
    const base = { service: 'mysql' as const, login: 'u', passwd: 'p', database: 'd', request: '/SELECT 1' };
    const a = makeTarget(base, { ip: '127.0.0.5', port: 3306 });
    const same = makeTarget({ ...base, checkinterval: 99, ip: '10.9.9.9' }, { ip: '127.0.0.5', port: 3306, weight: 7 });
    expect(mysql.identity(same)).toBe(mysql.identity(a));
    for (const over of [{ login: 'v' }, { passwd: 'q' }, { database: 'e' }, { request: '/SELECT 2' }, { negotiatetimeout: 9 }]) {
      expect(mysql.identity(makeTarget({ ...base, ...over }, { ip: '127.0.0.5', port: 3306 })), JSON.stringify(over)).not.toBe(
        mysql.identity(a),
      );
    }
    expect(mysql.identity(makeTarget(base, { ip: '127.0.0.6', port: 3306 }))).not.toBe(mysql.identity(a));
    expect(getChecker('pgsql')!.identity(a)).not.toBe(mysql.identity(a));
    const http = getChecker('http')!;
    const h = makeTarget({ service: 'http' }, { ip: '127.0.0.5', port: 80 });
    expect(http.identity(makeTarget({ service: 'http', httpmethod: 'HEAD' }, { ip: '127.0.0.5', port: 80 }))).not.toBe(http.identity(h));
    expect(http.identity(makeTarget({ service: 'http', virtualhost: 'www' }, { ip: '127.0.0.5', port: 80 }))).not.toBe(http.identity(h));
  });
});
