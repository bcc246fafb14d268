// The runner gives every check whose deadline falls in the same 20 ms one shared
// AbortSignal, which lives until that deadline (or until the last of those checks
// ends). A checker that leaves its abort listener on the signal keeps the finished
// check (its sockets' closures, buffers, results) reachable for that long; the listeners
// must go when the check ends, on the success path and on the failure paths alike.
// Addresses: 127.0.132.0/24 (ports 23000-23099).
import { getEventListeners } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpChecker } from '../../checks/http.js';
import { createImapChecker } from '../../checks/imap.js';
import { createPopChecker } from '../../checks/pop.js';
import { getChecker } from '../../checks/registry.js';
import type { Checker } from '../../checks/types.js';
import { testTarget, testVirtual } from '../support/data-servers.js';
import { makeCertificates, makeTempDir } from '../checks/web-servers.js';
import {
  HEALTHY_LDAP_DN,
  startHealthyServer,
  startHostileServer,
  type HealthyProtocol,
  type TrackedServer,
} from './support/hostile-servers.js';

const HOST = '127.0.132.40';
let certDir: string;
let ca: string;
let cert: Buffer;
let key: Buffer;
const servers: TrackedServer[] = [];
let nextPort = 23000;

beforeAll(() => {
  certDir = makeTempDir('listener-certs');
  const certs = makeCertificates(certDir, [HOST]);
  ca = readFileSync(certs.caCert, 'utf8');
  cert = readFileSync(certs.signedCert);
  key = readFileSync(certs.signedKey);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly checker: () => Checker;
  readonly protocol: HealthyProtocol;
  readonly tls?: boolean;
  readonly request?: string;
  readonly receive?: string;
}

const CASES: readonly Case[] = [
  { name: 'http', checker: () => createHttpChecker('http'), protocol: 'http' },
  { name: 'https', checker: () => createHttpChecker('https', { trust: { ca } }), protocol: 'http', tls: true },
  { name: 'connect', checker: () => getChecker('connect')!, protocol: 'http' },
  { name: 'smtp', checker: () => getChecker('smtp')!, protocol: 'smtp' },
  { name: 'pop', checker: () => createPopChecker('pop'), protocol: 'pop' },
  { name: 'pops', checker: () => createPopChecker('pops', { trust: { ca } }), protocol: 'pop', tls: true },
  { name: 'imap', checker: () => createImapChecker('imap'), protocol: 'imap' },
  { name: 'ftp', checker: () => getChecker('ftp')!, protocol: 'ftp' },
  { name: 'nntp', checker: () => getChecker('nntp')!, protocol: 'nntp' },
  { name: 'simpletcp', checker: () => getChecker('simpletcp')!, protocol: 'simpletcp', request: '/hello', receive: 'OK' },
  { name: 'ldap', checker: () => getChecker('ldap')!, protocol: 'ldap', request: `/${HEALTHY_LDAP_DN}` },
];

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('checks take their listeners off the shared deadline signal when they end', () => {
  for (const c of CASES) {
    it(`${c.name}: after up checks and after checks of a real that closes at once`, async () => {
      const tlsOpt = c.tls ? { tls: { cert, key } } : {};
      const good = await startHealthyServer(c.protocol, { host: HOST, port: nextPort++, ...tlsOpt });
      const bad = await startHostileServer({ host: HOST, port: nextPort++, mode: 'close', ...tlsOpt });
      servers.push(good, bad);
      const checker = c.checker();
      const shared = new AbortController(); // never aborts while these checks run
      const v = testVirtual({ service: c.name as never, checktimeout: 5, negotiatetimeout: 5 });
      const own = { ...(c.request ? { request: c.request } : {}), ...(c.receive ? { receive: c.receive } : {}) };
      for (let i = 0; i < 5; i++) {
        const up = await checker.probe(testTarget(v, HOST, good.port, own), shared.signal);
        expect(up.ok, `${up.message} ${up.detail ?? ''}`).toBe(true);
        const down = await checker.probe(testTarget(v, HOST, bad.port, own), shared.signal);
        // connect: the kernel accepted, so up; the others see the close.
        if (c.name !== 'connect') expect(down.ok).toBe(false);
      }
      expect(listeners(shared.signal)).toBe(0);
    });
  }
});
