// The scenarios: the seed tutorials' clusters and the features the issue lists, each with
// every difference expected between the original and ours and its §10 reason.
// Timing: checkinterval=1, checktimeout=1 everywhere, so a phase takes a few seconds.
import type { Scenario } from './support/scenario.js';

/** Globals every scenario shares: fast checks, log to stderr (-d), no mail unless asked. */
const FAST = `checktimeout=1
checkinterval=1
logfile="/dev/null"
`;

const FLAP = '§10 start/reload flap: the original gives every real that is down full weight, then removes it, before any check';

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'tutorial-nat-quiescent-fallback',
    about: 'seed tutorial 1: LVS-NAT, quiescent=yes, http negotiate, a fallback',
    backends: (n) => [
      { name: 'r1', kind: 'http', host: n.ip(1), port: 80 },
      { name: 'r2', kind: 'http', host: n.ip(2), port: 80 },
      { name: 'fb', kind: 'http', host: n.ip(9), port: 80 },
    ],
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
    expected: (n) => ({
      start: { flap: [`${n.ip(1)}:80`, `${n.ip(2)}:80`, `${n.ip(9)}:80`] },
      reload: { flap: [] },
    }),
  },
  {
    name: 'tutorial-dr-gate',
    about: 'seed tutorial 2: LVS-DR, gate, quiescent=no, wrr',
    backends: (n) => [
      { name: 'r1', kind: 'http', host: n.ip(1), port: 80 },
      { name: 'r2', kind: 'http', host: n.ip(2), port: 80 },
    ],
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
    expected: (n) => ({
      start: { flap: [`${n.ip(1)}:80`, `${n.ip(2)}:80`] },
    }),
  },
];
