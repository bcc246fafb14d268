// Debian's daemons for the data-service checks, each run in the foreground by the test
// that needs it, with a config generated into a temp dir, on a high port of its own
// 127.0.2x.y address: slapd (ldap, ldaps), dnsmasq (dns), mariadbd (mysql), postgres
// (pgsql), freeradius (radius). Installed by .ci/install.d/31-check-servers-data.sh.
import { execFileSync } from 'node:child_process';
import { chownSync, readdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import pg from 'pg';
import { join } from 'node:path';
import { findBinary, removeDir, startDaemon, tcpOpen, tempDir, waitUntil, type Daemon } from './data-servers.js';

export interface Running {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly daemon: Daemon;
  stop(): Promise<void>;
}

function running(host: string, port: number, dir: string, daemon: Daemon, extraPorts: number[] = []): Running & { ports: number[] } {
  return {
    host,
    port,
    ports: [port, ...extraPorts],
    dir,
    daemon,
    async stop() {
      await daemon.stop();
      removeDir(dir);
    },
  };
}

// ---- slapd -------------------------------------------------------------------------

export const LDAP_SUFFIX = 'dc=example,dc=test';
export const LDAP_ADMIN = `cn=admin,${LDAP_SUFFIX}`;
export const LDAP_ADMIN_PW = 'adminpw';
export const LDAP_USER = `uid=checker,ou=people,${LDAP_SUFFIX}`;
export const LDAP_USER_PW = 'checkerpw';

export function slapdBinary(): string | undefined {
  return findBinary('/usr/sbin/slapd');
}

/** slapd with an mdb database (suffix dc=example,dc=test), ldap:// on `port`, ldaps:// on `port + 1`. */
export async function startSlapd(slapd: string, host: string, port: number): Promise<Running & { ldapsPort: number }> {
  const dir = tempDir('slapd');
  const f = (n: string): string => join(dir, n);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${host}`, '-keyout', f('key.pem'), '-out', f('cert.pem')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  execFileSync('mkdir', ['-p', f('db')]);
  writeFileSync(
    f('slapd.conf'),
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      `pidfile ${f('slapd.pid')}`,
      `TLSCertificateFile ${f('cert.pem')}`,
      `TLSCertificateKeyFile ${f('key.pem')}`,
      'database mdb',
      'maxsize 10485760',
      `suffix "${LDAP_SUFFIX}"`,
      `rootdn "${LDAP_ADMIN}"`,
      `rootpw ${LDAP_ADMIN_PW}`,
      `directory ${f('db')}`,
      'access to attrs=userPassword by anonymous auth by * none',
      'access to * by * read',
      '',
    ].join('\n'),
  );
  writeFileSync(
    f('data.ldif'),
    [
      `dn: ${LDAP_SUFFIX}`,
      'objectClass: dcObject',
      'objectClass: organization',
      'o: Example',
      'dc: example',
      '',
      `dn: ou=people,${LDAP_SUFFIX}`,
      'objectClass: organizationalUnit',
      'ou: people',
      '',
      `dn: ${LDAP_USER}`,
      'objectClass: inetOrgPerson',
      'uid: checker',
      'cn: Checker',
      'sn: Checker',
      `userPassword: ${LDAP_USER_PW}`,
      '',
    ].join('\n'),
  );
  execFileSync('/usr/sbin/slapadd', ['-f', f('slapd.conf'), '-l', f('data.ldif')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ldapsPort = port + 1;
  const daemon = startDaemon(slapd, ['-f', f('slapd.conf'), '-h', `ldap://${host}:${port}/ ldaps://${host}:${ldapsPort}/`, '-d', '0']);
  await waitUntil(async () => (await tcpOpen(host, port)) && (await tcpOpen(host, ldapsPort)), daemon, 'slapd');
  return { ...running(host, port, dir, daemon), ldapsPort };
}

// ---- dnsmasq -----------------------------------------------------------------------

export function dnsmasqBinary(): string | undefined {
  return findBinary('/usr/sbin/dnsmasq');
}

/**
 * dnsmasq answering only from its own records (UDP and TCP on `port`): `records` are
 * --host-record values ("name,ipv4,ipv6"), which also give the PTR records.
 */
export async function startDnsmasq(dnsmasq: string, host: string, port: number, records: string[]): Promise<Running> {
  const dir = tempDir('dnsmasq');
  const args = [
    '-k',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    `--listen-address=${host}`,
    `--port=${port}`,
    '--except-interface=nonexistent',
    '--log-facility=-',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--local=/test/',
    ...records.map((r) => `--host-record=${r}`),
  ];
  if (userInfo().uid === 0) args.push('--user=root', '--group=root');
  const daemon = startDaemon(dnsmasq, args);
  await waitUntil(() => tcpOpen(host, port), daemon, 'dnsmasq');
  return running(host, port, dir, daemon);
}

// ---- mariadb -----------------------------------------------------------------------

export const MYSQL_USER = 'checker';
export const MYSQL_PW = 'checkerpw';

export function mariadbBinaries(): { server: string; install: string } | undefined {
  const server = findBinary('/usr/sbin/mariadbd', '/usr/sbin/mysqld');
  const install = findBinary('/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db');
  return server && install ? { server, install } : undefined;
}

/**
 * mariadbd on host:port with database `ldtest`: table `director` (one enabled row),
 * table `empty`, and a user checker/checkerpw allowed to SELECT from it.
 */
export async function startMariadb(bin: { server: string; install: string }, host: string, port: number): Promise<Running> {
  const dir = tempDir('mariadb');
  const f = (n: string): string => join(dir, n);
  const asRoot = userInfo().uid === 0;
  execFileSync(
    bin.install,
    [
      '--no-defaults',
      `--datadir=${f('data')}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--innodb-log-file-size=4M',
      ...(asRoot ? ['--user=root'] : []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  writeFileSync(
    f('init.sql'),
    [
      'CREATE DATABASE ldtest;',
      'CREATE TABLE ldtest.director (id INT, enabled INT);',
      'INSERT INTO ldtest.director VALUES (1, 1), (2, 0);',
      'CREATE TABLE ldtest.empty (id INT);',
      `CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${MYSQL_PW}';`,
      `GRANT SELECT ON ldtest.* TO '${MYSQL_USER}'@'%';`,
      '',
    ].join('\n'),
  );
  const daemon = startDaemon(bin.server, [
    '--no-defaults',
    `--datadir=${f('data')}`,
    `--socket=${f('mysqld.sock')}`,
    `--port=${port}`,
    `--bind-address=${host}`,
    `--pid-file=${f('mysqld.pid')}`,
    `--init-file=${f('init.sql')}`,
    '--skip-log-bin',
    '--innodb-buffer-pool-size=16M',
    // A throw-away datadir: no buffer-pool dump, no clean InnoDB shutdown.
    '--innodb-log-file-size=4M',
    '--innodb-fast-shutdown=2',
    '--innodb-buffer-pool-load-at-startup=0',
    '--innodb-buffer-pool-dump-at-shutdown=0',
    '--skip-name-resolve',
    `--log-error=${f('error.log')}`,
    ...(asRoot ? ['--user=root'] : []),
  ]);
  await waitUntil(() => tcpOpen(host, port), daemon, 'mariadbd', 30_000);
  return running(host, port, dir, daemon);
}

// ---- postgresql --------------------------------------------------------------------

export const PG_USER = 'checker';
export const PG_PW = 'checkerpw';

export function postgresBinaries(): { postgres: string; initdb: string } | undefined {
  let versions: string[];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    versions = [];
  }
  const dirs = versions.map((v) => `/usr/lib/postgresql/${v}/bin`);
  const postgres = findBinary(...dirs.map((d) => `${d}/postgres`), '/usr/lib/postgresql/15/bin/postgres');
  const initdb = findBinary(...dirs.map((d) => `${d}/initdb`), '/usr/lib/postgresql/15/bin/initdb');
  return postgres && initdb ? { postgres, initdb } : undefined;
}

/**
 * postgres on host:port (as the `postgres` user when run as root) with database
 * `ldtest`: table `director` (one enabled row), table `empty`, and role
 * checker/checkerpw (scram-sha-256).
 */
export async function startPostgres(bin: { postgres: string; initdb: string }, host: string, port: number): Promise<Running> {
  const dir = tempDir('postgres');
  const f = (n: string): string => join(dir, n);
  let ids: { uid: number; gid: number } | undefined;
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    ids = { uid, gid };
    chownSync(dir, uid, gid);
  }
  writeFileSync(f('pwfile'), 'superpw\n');
  if (ids) chownSync(f('pwfile'), ids.uid, ids.gid);
  execFileSync(
    bin.initdb,
    ['-D', f('data'), '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${f('pwfile')}`, '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...ids, cwd: dir },
  );
  const daemon = startDaemon(
    bin.postgres,
    [
      '-D',
      f('data'),
      '-k',
      dir,
      '-h',
      host,
      '-p',
      String(port),
      '-c',
      'fsync=off',
      '-c',
      'shared_buffers=16MB',
      '-c',
      'max_connections=20',
    ],
    { ...ids, cwd: dir },
  );
  await waitUntil(
    async () => daemon.output().includes('ready to accept connections') && (await tcpOpen(host, port)),
    daemon,
    'postgres',
    30_000,
  );
  const sql = async (database: string, statements: string[]): Promise<void> => {
    const client = new pg.Client({ host, port, user: 'postgres', password: 'superpw', database });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await sql('postgres', [`CREATE ROLE ${PG_USER} LOGIN PASSWORD '${PG_PW}'`, `CREATE DATABASE ldtest OWNER ${PG_USER}`]);
  await sql('ldtest', [
    'CREATE TABLE director (id INT, enabled INT)',
    'INSERT INTO director VALUES (1, 1), (2, 0)',
    'CREATE TABLE empty (id INT)',
    `ALTER TABLE director OWNER TO ${PG_USER}`,
    `ALTER TABLE empty OWNER TO ${PG_USER}`,
  ]);
  return running(host, port, dir, daemon);
}

// ---- freeradius --------------------------------------------------------------------

export const RADIUS_SECRET = 's3cret';
export const RADIUS_USER = 'alice';
export const RADIUS_PW = 'wonderland';

export function freeradiusBinary(): string | undefined {
  return findBinary('/usr/sbin/freeradius', '/usr/sbin/radiusd');
}

/**
 * freeradius with a minimal config: auth on host:port, clients 127.0.0.0/8 with
 * RADIUS_SECRET and require_message_authenticator = yes, one user alice/wonderland,
 * no reject delay.
 */
export async function startFreeradius(freeradius: string, host: string, port: number): Promise<Running> {
  const dir = tempDir('freeradius');
  const f = (n: string): string => join(dir, n);
  writeFileSync(
    f('radiusd.conf'),
    `
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
datarootdir = /usr/share
dictdir = /usr/share/freeradius
libdir = /usr/lib/freeradius
raddbdir = ${dir}
confdir = ${dir}
logdir = ${dir}
run_dir = ${dir}
db_dir = ${dir}
radacctdir = ${dir}
name = freeradius
pidfile = ${f('radiusd.pid')}
max_request_time = 5
cleanup_delay = 1
max_requests = 256
hostname_lookups = no
log {
  destination = stderr
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
client loopback {
  ipaddr = 127.0.0.0/8
  secret = ${RADIUS_SECRET}
  require_message_authenticator = yes
}
modules {
  pap {
  }
  files {
    filename = ${f('users')}
  }
}
server default {
  listen {
    type = auth
    ipaddr = ${host}
    port = ${port}
  }
  authorize {
    files
    pap
  }
  authenticate {
    pap
  }
}
`,
  );
  writeFileSync(f('users'), `${RADIUS_USER} Cleartext-Password := "${RADIUS_PW}"\n`);
  const daemon = startDaemon(freeradius, ['-f', '-l', 'stdout', '-d', dir]);
  await waitUntil(async () => daemon.output().includes('Ready to process requests'), daemon, 'freeradius');
  return running(host, port, dir, daemon);
}
