// The scenarios: the seed tutorials' clusters and the features admins use with them, each with every
// difference expected between the original and ours and its §10 reason. The order fixes each
// scenario's address block (run-scenario.ts netFor): append, do not insert.
// Timing: checkinterval=1 everywhere, so a phase takes a few seconds; checktimeout=2 so that a
// check starved of CPU on a loaded machine does not fail on one side only.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DNS_ANSWER } from './support/backends.js';
import { FALLBACK_LOG } from './support/run-scenario.js';
import type { Net, Scenario } from './support/scenario.js';

/** Globals every scenario shares: fast checks; -d sends the log to stderr anyway. */
const FAST = `checktimeout=2
checkinterval=1
logfile="/dev/null"
`;

export const REASON = {
  udpConnect: '§10 UDP connect uses the service check: the original pings, and a ping to the host answers whatever the service does',
  reloadState:
    '§10 reload keeps state: ours keeps the fallbackcommand state too; the original rebuilds its virtuals and runs the command again (man DIFFERENCES, added)',
  sharedPurge:
    'man DIFFERENCES (added): at stop a real shared by several virtuals is logged and mailed as purged from each; the original marks it down in the first and skips the rest',
} as const;

const http2 = (n: Net, port = 80) => [
  { name: 'r1', kind: 'http' as const, host: n.ip(1), port },
  { name: 'r2', kind: 'http' as const, host: n.ip(2), port },
];

const FLAP = '§10 start/reload flap';

/** The original's start: every real (and the fallback) goes in, out and in again. */
const all = (...a: string[]) => a;

/**
 * Seed tutorial 3's udp DNS virtual with checktype=connect: the original pings, ours asks
 * each real a DNS query, so a dead DNS server goes out only in ours (§10 U). `checkLines`
 * are the request/receive lines, if any.
 */
function udpDnsConnect(name: string, about: string, vip: string, checkLines: string): Scenario {
  return {
    name,
    about,
    backends: (n) => [
      { name: 'r1', kind: 'dns', host: n.ip(1), port: 53 },
      { name: 'r2', kind: 'dns', host: n.ip(2), port: 53 },
    ],
    downs: ['r1'],
    downChanges: 'ours',
    // The dns check of ours waits out its timeout for an answer from a closed port.
    timing: { passSeconds: 3 },
    config: (c) => `${FAST}quiescent=no
virtual=${vip}:53
	real=${c.ip(1)}:53 gate
	real=${c.ip(2)}:53 gate
	protocol=udp
	scheduler=rr
	checktype=connect
${checkLines}`,
    expected: (n) => ({
      start: { flap: all(`${n.ip(1)}:53`, `${n.ip(2)}:53`) },
      down: {
        table: { onlyOriginal: [`-a -u ${vip}:53 -r ${n.ip(1)}:53 -g -w 1`], reason: REASON.udpConnect },
        messages: { onlyOurs: [new RegExp(`^Deleted real server: ${n.ip(1)}:53 `)], reason: REASON.udpConnect },
      },
      up: { messages: { onlyOurs: [new RegExp(`^Added real server: ${n.ip(1)}:53 `)], reason: REASON.udpConnect } },
    }),
  };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'tutorial-nat-quiescent-fallback',
    about: 'seed tutorial 1: LVS-NAT, quiescent=yes, http negotiate, a fallback; both reals go down',
    backends: (n) => [...http2(n), { name: 'fb', kind: 'http', host: n.ip(9), port: 80 }],
    downs: ['r1', 'r2'],
    config: (c) => `${FAST}quiescent=yes
virtual=192.0.2.1:80
	fallback=${c.ip(9)}:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	service=http
	request="ping.html"
	receive="OK"
	scheduler=wlc
	protocol=tcp
	checktype=negotiate
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`, `${n.ip(9)}:80`) } }),
  },
  {
    name: 'tutorial-dr-gate',
    about: 'seed tutorial 2: LVS-DR, gate, quiescent=no, wrr; one real goes down',
    backends: (n) => http2(n),
    downs: ['r1'],
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.2:80
	real=${c.ip(1)}:80 gate
	real=${c.ip(2)}:80 gate
	service=http
	request="test.html"
	receive="OK"
	scheduler=wrr
	protocol=tcp
	checktype=negotiate
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) } }),
  },
  {
    name: 'tutorial-fwmark-persistent',
    about: 'seed tutorial 3: a persistent fwmark service (gate, reals without port, checkport=80, netmask)',
    backends: (n) => http2(n),
    downs: ['r2'],
    config: (c) => `${FAST}quiescent=no
virtual=1
	real=${c.ip(1)} gate
	real=${c.ip(2)} gate 2
	protocol=fwm
	persistent=600
	netmask=255.255.255.0
	scheduler=wlc
	service=http
	checkport=80
	request="health.html"
	receive="OK"
	checktype=negotiate
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:0`, `${n.ip(2)}:0`) } }),
  },
  udpDnsConnect(
    'tutorial-udp-dns-connect',
    'seed tutorial 3: udp DNS virtual with checktype=connect, with request/receive (our dns check proper)',
    '192.0.2.4',
    `\trequest="www.example.com"\n\treceive="${DNS_ANSWER.replace(/\./g, '\\.')}"\n`,
  ),
  // Without a receive ours is up on any DNS reply: the reals come up as with the original.
  udpDnsConnect(
    'tutorial-udp-dns-connect-verbatim',
    'seed tutorial 3 as written: udp DNS with checktype=connect and no request/receive',
    '192.0.2.5',
    '',
  ),
  {
    name: 'real-range',
    about: 'a real range ip1->ip4, masq, quiescent=no; the third address goes down',
    backends: (n) => [1, 2, 3, 4].map((j) => ({ name: `r${j}`, kind: 'http' as const, host: n.ip(j), port: 8080 })),
    downs: ['r3'],
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.6:80
	real=${c.ip(1)}->${c.ip(4)}:8080 masq 2
	service=http
	request="/"
	receive="OK"
`,
    expected: (n) => ({ start: { flap: [1, 2, 3, 4].map((j) => `${n.ip(j)}:8080`) } }),
  },
  {
    name: 'ipv6-virtual6',
    about: 'virtual6 with real6 on [::1], http, a fallback6 in the block',
    backends: (n) => [
      { name: 'r1', kind: 'http', host: '::1', port: n.port6(1) },
      { name: 'r2', kind: 'http', host: '::1', port: n.port6(2) },
    ],
    downs: ['r2'],
    config: (c) => `${FAST}quiescent=no
virtual6=[2001:db8::60]:80
	real6=[::1]:${c.port6(1)} masq
	real6=[::1]:${c.port6(2)} masq 3
	fallback6=[::1]:${c.port6(9)} masq
	service=http
	request="/"
	receive="OK"
	scheduler=rr
`,
    expected: (n) => ({ start: { flap: all(`[::1]:${n.port6(1)}`, `[::1]:${n.port6(2)}`, `[::1]:${n.port6(9)}`) } }),
  },
  {
    name: 'shared-real',
    about: 'two virtuals sharing one real (same check): it goes down and comes back in both at once',
    backends: (n) => [...http2(n), { name: 'r3', kind: 'http', host: n.ip(3), port: 80 }],
    downs: ['r1'],
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.7:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	service=http
	receive="OK"
virtual=192.0.2.8:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(3)}:80 masq
	service=http
	receive="OK"
`,
    expected: (n) => ({
      start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`, `${n.ip(3)}:80`) },
      stop: {
        messages: {
          onlyOurs: [
            new RegExp(`^(Subject: )?Purged real server \\(stop\\): ${n.ip(1).replace(/\./g, '\\.')}:80 \\(192\\.0\\.2\\.8:80\\)`),
          ],
          reason: REASON.sharedPurge,
        },
      },
    }),
  },
  {
    name: 'failurecount-3',
    about: 'failurecount=3: a real goes only after three failed checks; quiescent=yes',
    backends: (n) => http2(n),
    downs: ['r1'],
    timing: { failurecount: 3 },
    config: (c) => `${FAST}quiescent=yes
failurecount=3
virtual=192.0.2.9:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) } }),
  },
  {
    name: 'maintenancedir',
    about: 'maintenancedir: a file named ip:port takes a live real out, removing it brings it back',
    backends: (n) => http2(n),
    prepare: (n) => mkdirSync(join(n.shared, 'maint')),
    goDown: async (n) => writeFileSync(join(n.shared, 'maint', `${n.ip(1)}:80`), ''),
    comeBack: async (n) => rmSync(join(n.shared, 'maint', `${n.ip(1)}:80`)),
    config: (c) => `${FAST}quiescent=no
maintenancedir=${join(c.shared, 'maint')}
virtual=192.0.2.10:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) } }),
  },
  {
    name: 'readdquiescent',
    about: 'quiescent=yes + readdquiescent=yes, one real down from the start; the other goes down',
    backends: (n) => [
      { name: 'r1', kind: 'http', host: n.ip(1), port: 80 },
      { name: 'r2', kind: 'http', host: n.ip(2), port: 80, startDown: true },
    ],
    downs: ['r1'],
    config: (c) => `${FAST}quiescent=yes
readdquiescent=yes
virtual=192.0.2.11:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	service=http
	receive="OK"
`,
    // readdquiescent=yes: no weight before a check, but the original puts the live real in at
    // weight 0 first (Readd Quiescent), then restores it after its first check.
    expected: (n) => ({ start: { flap: [`${n.ip(1)}:80`] } }),
  },
  {
    name: 'emailalert-smtp',
    about: 'emailalert over smtp= to a real SMTP receiver (mails compared), servicename and comment, a fallback; both reals go down',
    backends: (n) => http2(n),
    downs: ['r1', 'r2'],
    mail: true,
    config: (c) => `${FAST}quiescent=no
emailalert="lvs-admin@example.com"
smtp=${c.smtp}
virtual=192.0.2.12:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	fallback=${c.ip(9)}:80 masq
	servicename=Web
	comment=front page
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`, `${n.ip(9)}:80`) } }),
  },
  {
    name: 'cleanstop-no',
    about: 'cleanstop=no: the table stays as it is after stop',
    backends: (n) => http2(n),
    downs: ['r2'],
    config: (c) => `${FAST}quiescent=yes
cleanstop=no
virtual=192.0.2.13:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) } }),
  },
  {
    name: 'connect-tcp',
    about: 'checktype=connect on tcp, quiescent=yes, weights',
    backends: (n) => [
      { name: 'r1', kind: 'tcp', host: n.ip(1), port: 3306 },
      { name: 'r2', kind: 'tcp', host: n.ip(2), port: 3306 },
    ],
    downs: ['r2'],
    config: (c) => `${FAST}quiescent=yes
virtual=192.0.2.14:3306
	real=${c.ip(1)}:3306 masq 10
	real=${c.ip(2)}:3306 masq 20
	checktype=connect
	scheduler=wlc
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:3306`, `${n.ip(2)}:3306`) } }),
  },
  {
    name: 'global-fallback-two-virtuals',
    about: 'a global fallback without port used by two virtuals; all reals go down',
    backends: (n) => [...http2(n), { name: 'r3', kind: 'http', host: n.ip(3), port: 8080 }],
    downs: ['r1', 'r2', 'r3'],
    config: (c) => `${FAST}quiescent=no
fallback=${c.ip(9)} masq
virtual=192.0.2.15:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	service=http
	receive="OK"
virtual=192.0.2.15:8080
	real=${c.ip(3)}:8080 masq
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`, `${n.ip(3)}:8080`, `${n.ip(9)}:80`, `${n.ip(9)}:8080`) } }),
  },
  {
    name: 'weights-thresholds',
    about: 'weights and l:/u: connection thresholds, quiescent=yes',
    backends: (n) => http2(n),
    downs: ['r1'],
    config: (c) => `${FAST}quiescent=yes
virtual=192.0.2.16:80
	real=${c.ip(1)}:80 masq 3 l:10 u:100
	real=${c.ip(2)}:80 masq 5 u:50
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) } }),
  },
  {
    name: 'reload-changes-reals',
    about: 'reload with a new weight, a real removed, a real added and a new scheduler',
    backends: (n) => [...http2(n), { name: 'r3', kind: 'http', host: n.ip(3), port: 80 }],
    downs: ['r2'],
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.17:80
	real=${c.ip(1)}:80 masq 1
	real=${c.ip(2)}:80 masq 1
	service=http
	receive="OK"
	scheduler=wrr
`,
    reloadConfig: (c) => `${FAST}quiescent=no
virtual=192.0.2.17:80
	real=${c.ip(1)}:80 masq 4
	real=${c.ip(3)}:80 masq 2
	service=http
	receive="OK"
	scheduler=wlc
`,
    // The real the reload adds flaps in the original like any real at start.
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) }, reload: { flap: [`${n.ip(3)}:80`] } }),
  },
  {
    name: 'reload-adds-removes-virtual',
    about: 'reload that removes one virtual and adds another',
    backends: (n) => [...http2(n), { name: 'r3', kind: 'http', host: n.ip(3), port: 80 }],
    downs: ['r1'],
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.18:80
	real=${c.ip(1)}:80 masq
	service=http
	receive="OK"
virtual=192.0.2.19:80
	real=${c.ip(2)}:80 masq
	service=http
	receive="OK"
`,
    reloadConfig: (c) => `${FAST}quiescent=no
virtual=192.0.2.18:80
	real=${c.ip(1)}:80 masq
	service=http
	receive="OK"
virtual=192.0.2.20:80
	real=${c.ip(3)}:80 masq
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) }, reload: { flap: [`${n.ip(3)}:80`] } }),
  },
  {
    name: 'external-check',
    about: 'checktype=external: a script that looks for a file named after the real',
    backends: () => [],
    prepare: (n) => {
      const script = join(n.shared, 'check.sh');
      writeFileSync(script, '#!/bin/sh\n# arguments: virtual ip, virtual port, real ip, real port\n[ -e "$(dirname "$0")/up-$3" ]\n');
      chmodSync(script, 0o755);
      for (const j of [1, 2]) writeFileSync(join(n.shared, `up-${n.ip(j)}`), '');
    },
    goDown: async (n) => rmSync(join(n.shared, `up-${n.ip(1)}`)),
    comeBack: async (n) => writeFileSync(join(n.shared, `up-${n.ip(1)}`), ''),
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.21:25
	real=${c.ip(1)}:25 masq
	real=${c.ip(2)}:25 masq
	checktype=external
	checktimeout=5
	checkcommand=${join(c.shared, 'check.sh')}
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:25`, `${n.ip(2)}:25`) } }),
  },
  {
    name: 'checktype-off',
    about: 'checktype=off with a fallback: no real is ever checked',
    backends: (n) => http2(n),
    downs: ['r1'],
    downChanges: 'none',
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.22:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	fallback=${c.ip(9)}:80 masq
	checktype=off
	service=http
`,
    // The original's reconciliation runs at reload too: the reals and the fallback flap again.
    expected: (n) => {
      const flap = all(`${n.ip(1)}:80`, `${n.ip(2)}:80`, `${n.ip(9)}:80`);
      return { start: { flap }, reload: { flap } };
    },
  },
  {
    name: 'combined-checktype',
    about: 'checktype=2: a negotiate, then two connects, then a negotiate again',
    backends: (n) => http2(n),
    downs: ['r2'],
    timing: { passSeconds: 2, failurecount: 2 },
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.23:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	checktype=2
	service=http
	receive="OK"
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`) } }),
  },
  {
    name: 'persistent-ops-options',
    about: 'service options: sh scheduler, persistence with netmask on tcp; a udp virtual with ops=yes (service none)',
    backends: (n) => http2(n),
    downs: ['r1'],
    config: (c) => `${FAST}quiescent=no
virtual=192.0.2.24:443
	real=${c.ip(1)}:443 gate
	real=${c.ip(2)}:443 gate
	service=http
	checkport=80
	receive="OK"
	scheduler=sh
	persistent=300
	netmask=255.255.255.0
virtual=192.0.2.24:5060
	real=${c.ip(3)}:5060 masq
	protocol=udp
	ops=yes
	service=none
	scheduler=rr
`,
    expected: (n) => ({ start: { flap: all(`${n.ip(1)}:443`, `${n.ip(2)}:443`, `${n.ip(3)}:5060`) } }),
  },
  {
    name: 'fallbackcommand',
    about: 'a fallback and a fallbackcommand (runs recorded and compared); both reals go down',
    backends: (n) => http2(n),
    downs: ['r1', 'r2'],
    fallbackRuns: true,
    config: (c) => `${FAST}quiescent=no
fallbackcommand=${join(c.shared, 'fallback-recorder.sh')} ${join(c.dir, FALLBACK_LOG)}
virtual=192.0.2.25:80
	real=${c.ip(1)}:80 masq
	real=${c.ip(2)}:80 masq
	fallback=${c.ip(9)}:80 masq
	service=http
	receive="OK"
`,
    expected: (n) => ({
      start: {
        flap: all(`${n.ip(1)}:80`, `${n.ip(2)}:80`, `${n.ip(9)}:80`),
        // The original's flap runs the command with every toggle of the fallback.
        fallbackRuns: {
          onlyOriginal: [...Array<string>(3).fill('start 192.0.2.25:80 tcp'), ...Array<string>(3).fill('stop 192.0.2.25:80 tcp')],
          reason: FLAP,
        },
      },
      reload: { fallbackRuns: { onlyOriginal: ['stop 192.0.2.25:80 tcp'], reason: REASON.reloadState } },
    }),
  },
];
