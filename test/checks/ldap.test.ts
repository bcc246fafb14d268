// service=ldap / ldaps against Debian's slapd on 127.0.21.1 (ldap on 38901, ldaps with
// a self-signed certificate on 38902), plus misbehaving peers on 127.0.21.2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { ldapCheckerPlain as ldap, ldapsChecker as ldaps, LDAP_MESSAGES as M } from '../../checks/ldap.js';
import {
  closedPort,
  LATE_MS,
  removeDir,
  run,
  silentPeer,
  tempDir,
  testTarget,
  testVirtual,
  type TcpServer,
  describeMisbehavingPeers,
} from '../support/data-servers.js';
import {
  LDAP_ADMIN,
  LDAP_ADMIN_PW,
  LDAP_SUFFIX,
  LDAP_USER,
  LDAP_USER_PW,
  slapdBinary,
  startSlapd,
  type Running,
} from '../support/data-daemons.js';

const HOST = '127.0.21.1';
const PEERS = '127.0.21.2';
const slapd = slapdBinary();
let server: (Running & { ldapsPort: number }) | undefined;
let silent: TcpServer;
let tlsSilentPort = 0;
let tlsServer: tls.Server | undefined;
let certDir: string | undefined;

beforeAll(async () => {
  silent = await silentPeer(PEERS);
  // A TLS server that completes the handshake and then never answers.
  certDir = tempDir('ldaps-peer');
  const f = (n: string): string => join(certDir as string, n);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=peer', '-keyout', f('k.pem'), '-out', f('c.pem')],
    { stdio: 'ignore' },
  );
  tlsServer = tls.createServer({ key: readFileSync(f('k.pem')), cert: readFileSync(f('c.pem')) }, (s) => {
    s.on('error', () => undefined);
    s.resume(); // read (and drop) what the client sends, so its close is seen
  });
  await new Promise<void>((resolve) => tlsServer?.listen(0, PEERS, resolve));
  tlsSilentPort = (tlsServer.address() as AddressInfo).port;
  if (slapd) server = await startSlapd(slapd, HOST, 38901);
});

afterAll(async () => {
  await server?.stop();
  await silent?.close();
  await new Promise<void>((resolve) => (tlsServer ? tlsServer.close(() => resolve()) : resolve()));
  removeDir(certDir);
});

const base = (over: Parameters<typeof testVirtual>[0] = {}) =>
  testVirtual({ service: 'ldap', request: `/${LDAP_SUFFIX}`, receive: '', checktimeout: 2, negotiatetimeout: 1, ...over });

describe('ldap/ldaps: timeouts and ports', () => {
  it('have the original default ports and run under checktimeout', () => {
    expect(ldap.defaultPort).toBe(389);
    expect(ldaps.defaultPort).toBe(636);
    expect(ldap.timeoutSeconds(testVirtual({ checktimeout: 3, negotiatetimeout: 9 }))).toBe(3);
    expect(ldaps.timeoutSeconds(testVirtual({ checktimeout: 4, negotiatetimeout: 9 }))).toBe(4);
  });

  it('ldap: connection refused is "Connection failed"', async () => {
    const r = await run(ldap, testTarget(base(), PEERS, await closedPort(PEERS)));
    expect(r).toMatchObject({ ok: false, message: M.connectionFailed });
  });

  it('ldap: a server that accepts and never answers the bind is "No answer received" at checktimeout', async () => {
    const r = await run(ldap, testTarget(base({ checktimeout: 0.6 }), PEERS, silent.port));
    expect(r).toMatchObject({ ok: false, message: M.noAnswer, detail: 'anonymous bind: timed out' });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(r.limitMs - 20);
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });

  it('ldaps: a peer that never does the TLS handshake is "Connection failed" at negotiatetimeout', async () => {
    const r = await run(ldaps, testTarget(base({ service: 'ldaps', checktimeout: 3, negotiatetimeout: 0.5 }), PEERS, silent.port));
    expect(r).toMatchObject({ ok: false, message: M.connectionFailed });
    expect(r.elapsedMs).toBeGreaterThanOrEqual(480);
    expect(r.elapsedMs).toBeLessThan(500 + LATE_MS);
  });

  it('ldaps: TLS up but no LDAP answer is "No answer received" at checktimeout', async () => {
    const r = await run(ldaps, testTarget(base({ service: 'ldaps', checktimeout: 0.6 }), PEERS, tlsSilentPort));
    expect(r).toMatchObject({ ok: false, message: M.noAnswer });
    expect(r.elapsedMs).toBeLessThan(r.limitMs + LATE_MS);
  });
});

describe.skipIf(!slapd)('ldap/ldaps against slapd', () => {
  const ldapTarget = (over: Parameters<typeof testVirtual>[0] = {}, own = {}) => testTarget(base(over), HOST, server?.port ?? 0, own);
  const ldapsTarget = (over: Parameters<typeof testVirtual>[0] = {}, own = {}) =>
    testTarget(base({ service: 'ldaps', ...over }), HOST, server?.ldapsPort ?? 0, own);

  it('ldap: anonymous bind and base search of the suffix is up ("Success")', async () => {
    const r = await run(ldap, ldapTarget());
    expect(r).toMatchObject({ ok: true, message: M.success, detail: `dn: ${LDAP_SUFFIX}` });
  });

  it('ldap: the default request "/" searches the root DSE (DN ""), which is one entry: up', async () => {
    const r = await run(ldap, ldapTarget({ request: '/' }));
    expect(r).toMatchObject({ ok: true, message: M.success, detail: 'dn: ' });
  });

  it('ldap: bind as login/passwd, receive matched against the DN', async () => {
    const r = await run(ldap, ldapTarget({ login: LDAP_ADMIN, passwd: LDAP_ADMIN_PW, request: `/${LDAP_USER}`, receive: '^uid=checker,' }));
    expect(r).toMatchObject({ ok: true, message: M.success });
  });

  it('ldap: a user bind (not the rootdn) works too', async () => {
    const r = await run(ldap, ldapTarget({ login: LDAP_USER, passwd: LDAP_USER_PW, receive: 'dc=test$' }));
    expect(r).toMatchObject({ ok: true, message: M.success });
  });

  it('ldap: DN not matching receive is "Response mismatch"', async () => {
    const r = await run(ldap, ldapTarget({ receive: '^ou=' }));
    expect(r).toMatchObject({ ok: false, message: M.mismatch, detail: `dn: ${LDAP_SUFFIX}` });
  });

  it('ldap: per-real request/receive override the virtual ones', async () => {
    const r = await run(ldap, ldapTarget({ receive: 'nomatch' }, { request: `/ou=people,${LDAP_SUFFIX}`, receive: '^ou=people' }));
    expect(r).toMatchObject({ ok: true, message: M.success });
  });

  it('ldap: wrong password is "Bind failed"', async () => {
    const r = await run(ldap, ldapTarget({ login: LDAP_ADMIN, passwd: 'wrong' }));
    expect(r).toMatchObject({ ok: false, message: M.bindFailed });
    expect(r.detail).toMatch(/bind as cn=admin.*Invalid credentials|49/i);
  });

  it('ldap: login without passwd binds anonymously (the original needs both)', async () => {
    const r = await run(ldap, ldapTarget({ login: LDAP_ADMIN, passwd: '' }));
    expect(r).toMatchObject({ ok: true, message: M.success });
  });

  it('ldap: a base that does not exist is "No answer received"', async () => {
    const r = await run(ldap, ldapTarget({ request: `/ou=nobody,${LDAP_SUFFIX}` }));
    expect(r).toMatchObject({ ok: false, message: M.noAnswer });
    expect(r.detail).toMatch(/No Such Object|noSuchObject|32/i);
  });

  it('ldaps: TLS with a self-signed certificate (not verified, as the original) is up', async () => {
    const r = await run(ldaps, ldapsTarget({ login: LDAP_ADMIN, passwd: LDAP_ADMIN_PW, receive: 'example' }));
    expect(r).toMatchObject({ ok: true, message: M.success });
  });

  it('ldaps: wrong password is "Bind failed"', async () => {
    const r = await run(ldaps, ldapsTarget({ login: LDAP_USER, passwd: 'nope' }));
    expect(r).toMatchObject({ ok: false, message: M.bindFailed });
  });

  it('ldaps: receive mismatch is "Response mismatch"', async () => {
    const r = await run(ldaps, ldapsTarget({ receive: 'dc=other' }));
    expect(r).toMatchObject({ ok: false, message: M.mismatch });
  });

  it('ldaps against the plain ldap port is "Connection failed"', async () => {
    const r = await run(ldaps, testTarget(base({ service: 'ldaps' }), HOST, server?.port ?? 0));
    expect(r).toMatchObject({ ok: false, message: M.connectionFailed });
    expect(r.elapsedMs).toBeLessThan(r.limitMs);
  });
});

describeMisbehavingPeers('ldap', ldap, base({ checktimeout: 0.5 }), '127.0.21.9', [M.noAnswer, M.bindFailed]);
describeMisbehavingPeers('ldaps', ldaps, base({ service: 'ldaps', checktimeout: 0.5, negotiatetimeout: 0.4 }), '127.0.21.10', [
  M.connectionFailed,
]);
