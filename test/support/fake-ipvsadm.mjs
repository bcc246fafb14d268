// fake-ipvsadm: a stand-in for ipvsadm 1.31 (Debian bookworm) and the kernel's IPVS table,
// for fast tests on machines without IPVS. The table lives in the JSON file named by
// FAKE_IPVSADM_STATE (created on first write; missing = empty table).
//
// It reproduces, byte for byte, what the real ipvsadm prints for the subset ldirectord-ts
// uses (test/e2e/ipvs.test.ts compares the two in the VM): -A -E -D -a -e -d -C -Z -R,
// -S [-n], -L [-n] [--thresholds] [service], their option checks and error messages,
// the kernel's refusals (exists / no such / unknown scheduler / thresholds), exit codes
// (2 for usage errors, 255 for kernel errors), and -R's way of going on after a kernel
// error but stopping at the first line it cannot parse.
//
// Deviations: names are never resolved (-L and -S without -n print numbers too); only
// numeric ports; only dotted-quad and bracketed IPv6 hosts; --stats, --rate, -c,
// --timeout and --set are not supported ("fake-ipvsadm: ...", exit 3). The sync daemons
// (--start-daemon, --stop-daemon, -L --daemon) are fake-ipvsadm-daemons.mjs. Services sort like libipvs does (fwmark, family, protocol, address, port).
//
// Use it as the program test/support/fake-ipvsadm (one process per run, like ipvsadm), or
// in-process through runFakeIpvsadm() (test/support/fake-ipvsadm-helper.ts wraps both).
//
// Environment:
//   FAKE_IPVSADM_STATE   the table file (without it: as if the kernel had no IPVS)
//   FAKE_IPVSADM_NO_IPVS=1  fail like ipvsadm on a kernel without ip_vs
//   FAKE_IPVSADM_LOG     append one JSON line per run: {"args":[...],"stdin":"..."}
//   FAKE_IPVSADM_LOCAL   comma-separated addresses that the kernel marks Local on add
//                        (old kernels did this for local addresses; no option sets it)
//   FAKE_IPVSADM_INTERFACES  comma-separated interfaces a sync daemon may use (unset: any)
//   FAKE_IPVSADM_PROC    the table as /proc/net/ip_vs shows it, written after each run that
//                        changed it (fake-ipvs-proc.mjs)
import { daemonCommand, listDaemons } from './fake-ipvsadm-daemons.mjs';
import { writeIpvsProc } from './fake-ipvs-proc.mjs';
import { appendFileSync, closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';

const PROG = 'ipvsadm';
const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh']);
const PERSISTENCE_ENGINES = new Set(['sip']);
const DEFAULT_PERSISTENT_TIMEOUT = 360;
const MAX_TIMEOUT = 86400 * 31;
const INT_MAX = 2147483647;
const SCHED1 = 1,
  SCHED2 = 2,
  SCHED3 = 4;
const PROTO_NUM = { tcp: 6, udp: 17, sctp: 132 };

// ------------------------------------------------------------------ process exit ----

class Exit extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}
// One run at a time (runs are synchronous): its outputs, environment and stdin.
let out = '';
let errOut = '';
let env = {};
let readStdin = () => '';
const err = (s) => {
  errOut += s;
};
function fail(msg) {
  err(`${msg}\n`);
  throw new Exit(2);
}
function tryhelp(code) {
  err(`Try \`${PROG} -h' or '${PROG} --help' for more information.\n`);
  throw new Exit(code & 255);
}
function unsupported(what) {
  err(`fake-ipvsadm: ${what} is not supported\n`);
  throw new Exit(3);
}

// --------------------------------------------------------------------- state ----

let statePath;
let table = { services: [] };
let dirty = false;
function loadState() {
  table = { services: [] };
  dirty = false;
  try {
    table = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
}
function saveState() {
  if (!dirty) return;
  const tmp = `${statePath}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(table, null, 1));
  renameSync(tmp, statePath);
}

// The kernel runs one IPVS command at a time; two daemons (or a daemon and a test)
// sharing one state file would otherwise lose each other's changes between load and save.
const LOCK_STALE_MS = 5000;
const LOCK_GIVE_UP_MS = 30000;
function lockState() {
  const lock = `${statePath}.lock`;
  const giveUp = Date.now() + LOCK_GIVE_UP_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      return () => {
        try {
          unlinkSync(lock);
        } catch {
          /* already taken as stale */
        }
      };
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    // A run killed while holding the lock leaves it behind; runs take milliseconds.
    try {
      if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) unlinkSync(lock);
    } catch {
      /* released meanwhile */
    }
    if (Date.now() > giveUp) throw new Error(`fake-ipvsadm: ${lock} held for ${LOCK_GIVE_UP_MS} ms`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
}

// ----------------------------------------------------------------- addresses ----

function parseV4(s) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  return p.every((n) => n <= 255) ? p : undefined;
}
function parseV6(s) {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return undefined;
  let head = s,
    tail = [];
  if (s.includes('.')) {
    const i = s.lastIndexOf(':');
    const v4 = i >= 0 ? parseV4(s.slice(i + 1)) : undefined;
    if (!v4) return undefined;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    head = s.slice(0, i + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const words = (x) => {
    if (x === '') return [];
    const r = [];
    for (const g of x.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      r.push(parseInt(g, 16));
    }
    return r;
  };
  const l = words(halves[0]);
  if (!l) return undefined;
  if (halves.length === 1) {
    const w = [...l, ...tail];
    return w.length === 8 ? w : undefined;
  }
  const r = words(halves[1]);
  if (!r) return undefined;
  const n = l.length + r.length + tail.length;
  if (n > 7) return undefined;
  return [...l, ...new Array(8 - n).fill(0), ...r, ...tail];
}
function fmtV6(w) {
  let bb = -1,
    bl = 0,
    cb = -1,
    cl = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (cb < 0) {
        cb = i;
        cl = 1;
      } else cl++;
      if (cl > bl) {
        bb = cb;
        bl = cl;
      }
    } else cb = -1;
  }
  if (bl < 2) bb = -1;
  let o = '';
  for (let i = 0; i < 8; i++) {
    if (bb >= 0 && i >= bb && i < bb + bl) {
      if (i === bb) o += ':';
      continue;
    }
    if (i > 0) o += ':';
    if (i === 6 && bb === 0 && (bl === 6 || (bl === 5 && w[5] === 0xffff))) {
      o += `${w[6] >> 8}.${w[6] & 255}.${w[7] >> 8}.${w[7] & 255}`;
      break;
    }
    o += w[i].toString(16);
  }
  if (bb >= 0 && bb + bl === 8) o += ':';
  return o;
}
/** {af, text, words(u32[])} */
function addrV4(p) {
  return { af: 4, text: p.join('.'), key: [((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0] };
}
function addrV6(w) {
  return { af: 6, text: fmtV6(w), key: [0, 2, 4, 6].map((i) => ((w[i] << 16) | w[i + 1]) >>> 0) };
}
function addrOf(af, text) {
  return af === 4 ? addrV4(parseV4(text)) : addrV6(parseV6(text));
}

/** parse_service(): {addr, port?} with .hasPort, or undefined (SERVICE_NONE). */
function parseServiceArg(buf) {
  if (buf === undefined || /^\d*$/.test(buf)) return undefined;
  let host = buf,
    portText;
  if (buf.startsWith('[')) {
    const i = buf.indexOf(']');
    if (i < 0 || buf[i + 1] !== ':') return undefined;
    host = buf.slice(1, i);
    portText = buf.slice(i + 2);
    const w = parseV6(host);
    if (!w) return undefined;
    return withPort(addrV6(w), portText);
  }
  const w6 = parseV6(host);
  if (w6) return { addr: addrV6(w6), hasPort: false };
  const c = buf.lastIndexOf(':');
  if (c >= 0) {
    host = buf.slice(0, c);
    portText = buf.slice(c + 1);
  }
  const v4 = parseV4(host);
  if (!v4) return undefined;
  return withPort(addrV4(v4), portText);
}
function withPort(addr, portText) {
  if (portText === undefined) return { addr, hasPort: false };
  const n = toNumber(portText, 0, 65535);
  if (n < 0) return undefined;
  return { addr, port: n, hasPort: true };
}
/** string_to_number(): strtol() that must consume the whole string, within [min, max]; else -1. */
function toNumber(s, min, max) {
  if (s === undefined || !/^\s*[-+]?\d+$/.test(s)) return -1;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : -1;
}

// ------------------------------------------------------------------- options ----

const OPTNAMES = [
  'numeric',
  'connection',
  'service-address',
  'scheduler',
  'persistent',
  'netmask',
  'real-server',
  'forwarding-method',
  'weight',
  'u-threshold',
  'l-threshold',
  'mcast-interface',
  'timeout',
  'daemon',
  'stats',
  'rate',
  'thresholds',
  'persistent-conn',
  'nosort',
  'syncid',
  'exact',
  'ops',
  'pe',
  'sched-flags',
  'mcast-group',
  'mcast-port',
  'mcast-ttl',
  'sync-maxlen',
  'tun-info',
  'tun-type',
  'tun-port',
  'tun-nocsum',
  'tun-csum',
  'tun-remcsum',
];
const OPT = Object.fromEntries(OPTNAMES.map((n, i) => [n, i]));
const CMDNAMES = {
  A: 'add-service',
  E: 'edit-service',
  D: 'delete-service',
  C: 'flush',
  L: 'list',
  a: 'add-server',
  d: 'delete-server',
  e: 'edit-server',
  R: 'restore',
  S: 'save',
  Z: 'zero',
};
// Per command: options it requires, options it allows, and options of which at most one may be given.
const RULES = {
  A: { req: ['service-address'], ok: ['scheduler', 'persistent', 'netmask', 'ops', 'pe', 'sched-flags'] },
  E: { req: ['service-address'], ok: ['scheduler', 'persistent', 'netmask', 'ops', 'pe', 'sched-flags'] },
  D: { req: ['service-address'], ok: [] },
  C: { req: [], ok: [] },
  L: {
    req: [],
    ok: ['numeric', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'tun-info'],
    one: ['connection', 'service-address', 'timeout', 'daemon'],
  },
  a: {
    req: ['service-address', 'real-server'],
    ok: ['forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'],
  },
  e: {
    req: ['service-address', 'real-server'],
    ok: ['forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'],
  },
  d: { req: ['service-address', 'real-server'], ok: [] },
  R: { req: [], ok: [] },
  S: { req: [], ok: ['numeric'] },
  Z: { req: [], ok: ['service-address'] },
};
function genericOptCheck(cmd, options) {
  const r = RULES[cmd];
  let first;
  for (let j = 0; j < OPTNAMES.length; j++) {
    const name = OPTNAMES[j];
    if (!options.has(j)) {
      if (r.req.includes(name)) fail(`You need to supply the '${name}' option for the '${CMDNAMES[cmd]}' command`);
    } else if (r.one?.includes(name)) {
      if (first === undefined) first = name;
      else fail(`The option '${name}' conflicts with the '${first}' option in the '${CMDNAMES[cmd]}' command`);
    } else if (!r.req.includes(name) && !r.ok.includes(name)) {
      fail(`Illegal '${name}' option with the '${CMDNAMES[cmd]}' command`);
    }
  }
}

const SHORT = {
  A: 'A',
  E: 'E',
  D: 'D',
  C: 'C',
  L: 'L',
  l: 'L',
  Z: 'Z',
  a: 'a',
  e: 'e',
  d: 'd',
  R: 'R',
  S: 'S',
  h: 'h',
  v: 'v',
  t: 't',
  u: 'u',
  f: 'f',
  s: 's',
  p: 'p',
  M: 'M',
  r: 'r',
  m: 'm',
  i: 'i',
  g: 'g',
  w: 'w',
  x: 'x',
  y: 'y',
  n: 'n',
  c: 'c',
  X: 'X',
  6: '6',
  o: 'o',
  b: 'b',
};
const LONG = {
  'add-service': 'A',
  'edit-service': 'E',
  'delete-service': 'D',
  clear: 'C',
  list: 'L',
  zero: 'Z',
  'add-server': 'a',
  'edit-server': 'e',
  'delete-server': 'd',
  restore: 'R',
  save: 'S',
  help: 'h',
  version: 'v',
  'tcp-service': 't',
  'udp-service': 'u',
  'sctp-service': 'sctp',
  'fwmark-service': 'f',
  scheduler: 's',
  persistent: 'p',
  netmask: 'M',
  'real-server': 'r',
  masquerading: 'm',
  ipip: 'i',
  gatewaying: 'g',
  weight: 'w',
  'u-threshold': 'x',
  'l-threshold': 'y',
  numeric: 'n',
  connection: 'c',
  thresholds: 'thresholds',
  nosort: 'nosort',
  sort: 'sort',
  exact: 'X',
  ipv6: '6',
  ops: 'o',
  pe: 'pe',
  'sched-flags': 'b',
  'tun-type': 'tun-type',
  'tun-port': 'tun-port',
  'tun-nocsum': 'tun-nocsum',
  'tun-csum': 'tun-csum',
  'tun-remcsum': 'tun-remcsum',
  stats: 'stats',
  rate: 'rate',
  'persistent-conn': 'persistent-conn',
  timeout: 'timeout',
  daemon: 'daemon',
  'tun-info': 'tun-info',
  set: 'set',
  'start-daemon': 'start-daemon',
  'stop-daemon': 'stop-daemon',
  'mcast-interface': 'mcast',
  syncid: 'syncid',
  'sync-maxlen': 'sync-maxlen',
  'mcast-group': 'mcast-group',
  'mcast-port': 'mcast-port',
  'mcast-ttl': 'mcast-ttl',
};
const WITH_ARG = new Set([
  't',
  'u',
  'sctp',
  'f',
  's',
  'M',
  'r',
  'w',
  'x',
  'y',
  'pe',
  'b',
  'tun-type',
  'tun-port',
  'start-daemon',
  'stop-daemon',
  'mcast',
  'syncid',
  'sync-maxlen',
  'mcast-group',
  'mcast-port',
  'mcast-ttl',
]);
const OPTIONAL_ARG = new Set(['p']);

/** popt-like tokenizer: [{opt, arg, text}] or {bad: text} at the first unknown option; positional args kept. */
function tokenize(argv) {
  const items = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const opt = LONG[name];
      if (!opt) {
        items.push({ bad: a });
        return items;
      }
      let arg;
      if (WITH_ARG.has(opt)) {
        if (eq >= 0) arg = a.slice(eq + 1);
        else if (i + 1 < argv.length) arg = argv[++i];
        else {
          items.push({ bad: a, missing: true });
          return items;
        }
      } else if (OPTIONAL_ARG.has(opt)) {
        if (eq >= 0) arg = a.slice(eq + 1);
        else if (i + 1 < argv.length && !argv[i + 1].startsWith('-')) arg = argv[++i];
      }
      items.push({ opt, arg, text: a });
    } else if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const opt = SHORT[a[k]];
        if (!opt) {
          items.push({ bad: `-${a[k]}` });
          return items;
        }
        let arg;
        const rest = a.slice(k + 1);
        if (WITH_ARG.has(opt)) {
          if (rest !== '') arg = rest;
          else if (i + 1 < argv.length) arg = argv[++i];
          else {
            items.push({ bad: `-${a[k]}`, missing: true });
            return items;
          }
          items.push({ opt, arg, text: `-${a[k]}` });
          break;
        }
        if (OPTIONAL_ARG.has(opt)) {
          if (rest !== '') arg = rest;
          else if (i + 1 < argv.length && !argv[i + 1].startsWith('-')) arg = argv[++i];
          items.push({ opt, arg, text: `-${a[k]}` });
          break;
        }
        items.push({ opt, arg, text: `-${a[k]}` });
      }
    } else {
      items.push({ positional: a });
    }
  }
  return items;
}

function newEntry() {
  return {
    cmd: undefined,
    svc: {
      af: 4,
      protocol: undefined,
      addr: undefined,
      port: 0,
      fwmark: 0,
      sched: '',
      flags: 0,
      timeout: 0,
      persistent: false,
      netmask4: '255.255.255.255',
      netmask6: 128,
      pe: '',
      ops: false,
    },
    dest: { addr: undefined, port: 0, fwd: 'route', weight: 1, u: 0, l: 0, tunType: 'ipip' },
    options: new Set(),
    format: { numeric: false, rule: false, thresholds: false },
  };
}

function setOption(ce, name) {
  const j = OPT[name];
  if (ce.options.has(j)) fail(`multiple '${name}' options specified`);
  ce.options.add(j);
}
function setCommand(ce, c) {
  if (ce.cmd !== undefined) fail('multiple commands specified');
  ce.cmd = c;
}

function parseOptions(argv, ce) {
  const items = tokenize(argv);
  const first = items[0];
  if (!first || first.bad || first.positional !== undefined) tryhelp(-1);
  switch (first.opt) {
    case 'A':
    case 'E':
    case 'D':
    case 'a':
    case 'e':
    case 'd':
    case 'C':
    case 'L':
    case 'Z':
    case 'R':
    case 'S':
      setCommand(ce, first.opt);
      break;
    case 'h':
      return unsupported('-h');
    case 'v':
      return unsupported('-v');
    case 'set':
    case 'start-daemon':
    case 'stop-daemon':
      return unsupported(first.text);
    default:
      return tryhelp(-1);
  }
  const positional = [];
  let schedFlags = '';
  for (const it of items.slice(1)) {
    if (it.positional !== undefined) {
      positional.push(it.positional);
      continue;
    }
    if (it.bad) {
      err(`${it.bad}: ${it.missing ? 'missing argument' : 'unknown option'}\n`);
      return -1;
    }
    const arg = it.arg;
    switch (it.opt) {
      case 'A':
      case 'E':
      case 'D':
      case 'a':
      case 'e':
      case 'd':
      case 'C':
      case 'L':
      case 'Z':
      case 'R':
      case 'S':
      case 'h':
      case 'v':
        fail(`invalid option \`${it.text}'`);
        break;
      case 't':
      case 'u':
      case 'sctp': {
        setOption(ce, 'service-address');
        ce.svc.protocol = it.opt === 't' ? 'tcp' : it.opt === 'u' ? 'udp' : 'sctp';
        const p = parseServiceArg(arg);
        if (!p) fail('illegal virtual server address[:port] specified');
        ce.svc.af = p.addr.af;
        ce.svc.addr = p.addr;
        if (p.hasPort) ce.svc.port = p.port;
        if (p.addr.af === 6) ce.svc.netmask6 = 128;
        break;
      }
      case 'f': {
        setOption(ce, 'service-address');
        ce.svc.af = 4;
        ce.svc.protocol = 'tcp';
        const n = /^\d+$/.test(arg) ? Number(arg) : NaN;
        if (!(n > 0 && n <= 4294967295)) fail(`invalid fwmark value \`${arg}' specified`);
        ce.svc.fwmark = n;
        break;
      }
      case 's':
        setOption(ce, 'scheduler');
        ce.svc.sched = arg.slice(0, 15);
        break;
      case 'p': {
        setOption(ce, 'persistent');
        ce.svc.persistent = true;
        if (arg === undefined) ce.svc.timeout = DEFAULT_PERSISTENT_TIMEOUT;
        else {
          const n = toNumber(arg, 1, MAX_TIMEOUT);
          if (n < 0) fail(`invalid timeout value \`${arg}' specified`);
          ce.svc.timeout = n;
        }
        break;
      }
      case 'M':
        setOption(ce, 'netmask');
        if (ce.svc.af !== 6) {
          const q =
            parseV4(arg) ??
            (/^\d+$/.test(arg) && Number(arg) <= 4294967295
              ? [(Number(arg) >>> 24) & 255, (Number(arg) >>> 16) & 255, (Number(arg) >>> 8) & 255, Number(arg) & 255]
              : undefined);
          if (!q) fail('illegal virtual server persistent mask specified');
          ce.svc.netmask4 = q.join('.');
        } else {
          const n = parseInt(arg, 10);
          if (!(n >= 1 && n <= 128)) fail('illegal ipv6 netmask specified');
          ce.svc.netmask6 = n;
        }
        break;
      case 'r': {
        setOption(ce, 'real-server');
        const p = parseServiceArg(arg);
        if (!p) fail('illegal real server address[:port] specified');
        ce.dest.addr = p.addr;
        ce.dest.port = p.hasPort ? p.port : ce.svc.port;
        break;
      }
      case 'i':
        setOption(ce, 'forwarding-method');
        ce.dest.fwd = 'tunnel';
        break;
      case 'g':
        setOption(ce, 'forwarding-method');
        ce.dest.fwd = 'route';
        break;
      case 'm':
        setOption(ce, 'forwarding-method');
        ce.dest.fwd = 'masq';
        break;
      case 'w':
        setOption(ce, 'weight');
        if ((ce.dest.weight = toNumber(arg, 0, INT_MAX)) < 0) fail('illegal weight specified');
        break;
      case 'x':
        setOption(ce, 'u-threshold');
        if ((ce.dest.u = toNumber(arg, 0, INT_MAX)) < 0) fail('illegal u_threshold specified');
        break;
      case 'y':
        setOption(ce, 'l-threshold');
        if ((ce.dest.l = toNumber(arg, 0, INT_MAX)) < 0) fail('illegal l_threshold specified');
        break;
      case 'n':
        setOption(ce, 'numeric');
        ce.format.numeric = true;
        break;
      case 'c':
        setOption(ce, 'connection');
        break;
      case 'timeout':
        setOption(ce, 'timeout');
        break;
      case 'daemon':
        setOption(ce, 'daemon');
        break;
      case 'stats':
        setOption(ce, 'stats');
        break;
      case 'rate':
        setOption(ce, 'rate');
        break;
      case 'persistent-conn':
        setOption(ce, 'persistent-conn');
        break;
      case 'tun-info':
        setOption(ce, 'tun-info');
        break;
      case 'thresholds':
        setOption(ce, 'thresholds');
        ce.format.thresholds = true;
        break;
      case 'nosort':
        setOption(ce, 'nosort');
        break;
      case 'sort':
        break;
      case 'X':
        setOption(ce, 'exact');
        break;
      case '6':
        if (ce.svc.fwmark) {
          ce.svc.af = 6;
          ce.svc.netmask6 = 128;
        } else fail('-6 used before -f\n');
        break;
      case 'o':
        setOption(ce, 'ops');
        ce.svc.ops = true;
        break;
      case 'pe':
        setOption(ce, 'pe');
        ce.svc.pe = arg.slice(0, 32);
        break;
      case 'b':
        setOption(ce, 'sched-flags');
        schedFlags = arg;
        break;
      case 'tun-type':
        setOption(ce, 'tun-type');
        if (!['ipip', 'gue', 'gre'].includes(arg)) fail('illegal tunnel type specified');
        if (arg !== 'ipip') unsupported('--tun-type ' + arg);
        ce.dest.tunType = arg;
        break;
      case 'tun-port':
      case 'tun-nocsum':
      case 'tun-csum':
      case 'tun-remcsum':
        unsupported(it.text);
        break;
      default:
        unsupported(it.text);
    }
  }
  if (positional.length > 0) fail(`unexpected argument ${positional[0]}`);
  if (schedFlags !== '') ce.svc.flags = parseSchedFlags(ce.svc.sched || 'wlc', schedFlags);
  return 0;
}

function parseSchedFlags(sched, arg) {
  let flags = 0;
  for (const flag of arg.split(',').filter((f) => f !== '')) {
    const need = (s) => {
      if (sched !== s) fail(`incompatible scheduler flag \`${flag}'`);
    };
    if (flag === 'flag-1') flags |= SCHED1;
    else if (flag === 'flag-2') flags |= SCHED2;
    else if (flag === 'flag-3') flags |= SCHED3;
    else if (flag === 'sh-fallback') {
      flags |= SCHED1;
      need('sh');
    } else if (flag === 'sh-port') {
      flags |= SCHED2;
      need('sh');
    } else if (flag === 'mh-fallback') {
      flags |= SCHED1;
      need('mh');
    } else if (flag === 'mh-port') {
      flags |= SCHED2;
      need('mh');
    } else fail(`invalid scheduler flag \`${flag}'`);
  }
  return flags;
}

// ------------------------------------------------------------------- kernel ----

class KernelError extends Error {}
const kfail = (m) => {
  throw new KernelError(m);
};

function svcMatches(s, q) {
  if (q.fwmark) return s.fwmark === q.fwmark && s.af === q.af;
  return !s.fwmark && s.af === q.af && s.protocol === q.protocol && s.addr === q.addr.text && s.port === q.port;
}
const findService = (q) => table.services.find((s) => svcMatches(s, q));
const findDest = (s, d) => s.dests.find((x) => x.af === d.addr.af && x.addr === d.addr.text && x.port === d.port);

function serviceRecord(ce) {
  const v = ce.svc;
  return {
    af: v.af,
    protocol: v.fwmark ? 'tcp' : v.protocol,
    addr: v.fwmark ? undefined : v.addr.text,
    port: v.fwmark ? 0 : v.port,
    fwmark: v.fwmark,
    sched: v.sched,
    flags: v.flags,
    persistent: v.persistent,
    timeout: v.persistent ? v.timeout : 0,
    netmask: v.af === 6 ? v.netmask6 : v.netmask4,
    pe: v.pe,
    ops: v.ops,
  };
}

function checkDestValues(d) {
  if (d.l > d.u) kfail('Numerical result out of range');
}
function checkDestAddress(d) {
  const a = d.addr;
  if (a.af === 4) {
    const first = a.key[0] >>> 24;
    if (a.key[0] === 0 || a.key[0] === 0xffffffff || (first >= 224 && first <= 239)) {
      kfail('Invalid operation.  Possibly wrong module version, address not unicast, ...');
    }
  } else {
    const w0 = a.key[0] >>> 16;
    const unspecified = a.key.every((k) => k === 0);
    if (unspecified || (w0 & 0xff00) === 0xff00 || (w0 & 0xffc0) === 0xfe80) {
      kfail('Invalid operation.  Possibly wrong module version, address not unicast, ...');
    }
  }
}

function execute(ce) {
  const cmd = ce.cmd;
  const q = ce.svc;
  switch (cmd) {
    case 'C':
      table.services = [];
      dirty = true;
      return;
    case 'Z':
      if (ce.options.has(OPT['service-address']) && !findService(q)) kfail('No such service');
      return;
    case 'A': {
      if (findService(q)) kfail('Service already exists');
      if (!SCHEDULERS.has(q.sched)) kfail('Scheduler or persistence engine not found');
      if (q.pe && !PERSISTENCE_ENGINES.has(q.pe)) kfail('Scheduler or persistence engine not found');
      table.services.push({ ...serviceRecord(ce), dests: [] });
      dirty = true;
      return;
    }
    case 'E': {
      const s = findService(q);
      if (!s) kfail('No such service');
      if (!SCHEDULERS.has(q.sched)) kfail('Scheduler or persistence engine not found');
      if (q.pe && !PERSISTENCE_ENGINES.has(q.pe)) kfail('Scheduler or persistence engine not found');
      Object.assign(s, serviceRecord(ce), { dests: s.dests });
      dirty = true;
      return;
    }
    case 'D': {
      const i = table.services.findIndex((s) => svcMatches(s, q));
      if (i < 0) kfail('No such service');
      table.services.splice(i, 1);
      dirty = true;
      return;
    }
    case 'a':
    case 'e': {
      const s = findService(q);
      if (!s) kfail('Service not defined');
      const d = ce.dest;
      checkDestValues(d);
      const have = findDest(s, d);
      if (cmd === 'a') {
        if (have) kfail('Destination already exists');
        checkDestAddress(d);
        const local = (env.FAKE_IPVSADM_LOCAL ?? '').split(',').includes(d.addr.af === 6 ? `[${d.addr.text}]` : d.addr.text);
        s.dests.push({ af: d.addr.af, addr: d.addr.text, port: d.port, fwd: local ? 'local' : d.fwd, weight: d.weight, u: d.u, l: d.l });
      } else {
        if (!have) kfail('No such destination');
        Object.assign(have, { fwd: have.fwd === 'local' && d.fwd === 'route' ? 'local' : d.fwd, weight: d.weight, u: d.u, l: d.l });
      }
      dirty = true;
      return;
    }
    case 'd': {
      const s = findService(q);
      if (!s) kfail('Service not defined');
      const i = s.dests.findIndex((x) => x.af === ce.dest.addr.af && x.addr === ce.dest.addr.text && x.port === ce.dest.port);
      if (i < 0) kfail('No such destination');
      s.dests.splice(i, 1);
      dirty = true;
      return;
    }
    default:
      throw new Error(`unexpected command ${cmd}`);
  }
}

// ------------------------------------------------------------------ listing ----

const pad = (s, n) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const i32 = (x) => x | 0;
function cmpKeys(a, b) {
  for (let i = 0; i < a.length; i++) {
    const r = i32(a[i] - b[i]);
    if (r !== 0) return r;
  }
  return 0;
}
function cmpServices(s1, s2) {
  let r = i32(s1.fwmark - s2.fwmark);
  if (r) return r;
  r = (s1.af === 6 ? 10 : 2) - (s2.af === 6 ? 10 : 2);
  if (r) return r;
  r = PROTO_NUM[s1.protocol] - PROTO_NUM[s2.protocol];
  if (r) return r;
  if (!s1.fwmark) {
    r = cmpKeys(addrOf(s1.af, s1.addr).key, addrOf(s2.af, s2.addr).key);
    if (r) return r;
  }
  return s1.port - s2.port;
}
function cmpDests(d1, d2) {
  const r = cmpKeys(addrOf(d1.af, d1.addr).key, addrOf(d2.af, d2.addr).key);
  return r || d1.port - d2.port;
}
const addrPort = (af, addr, port) => (af === 6 ? `[${addr}]:${port}` : `${addr}:${port}`);
const FWD_NAME = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route' };
const FWD_SWITCH = { masq: '-m', local: '-g', tunnel: '-i', route: '-g' };

function schedFlagText(s) {
  const names =
    s.sched === 'sh'
      ? [
          [SCHED1, 'sh-fallback'],
          [SCHED2, 'sh-port'],
        ]
      : s.sched === 'mh'
        ? [
            [SCHED1, 'mh-fallback'],
            [SCHED2, 'mh-port'],
          ]
        : [
            [SCHED1, 'flag-1'],
            [SCHED2, 'flag-2'],
            [SCHED3, 'flag-3'],
          ];
  return names
    .filter(([b]) => s.flags & b)
    .map(([, n]) => n)
    .join(',');
}

function printTitle(format) {
  if (format.thresholds) {
    out += `${pad('Prot LocalAddress:Port', 33)} ${pad('Uthreshold', 10)} ${pad('Lthreshold', 10)} ${pad('ActiveConn', 10)} ${pad('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  } else if (!format.rule) {
    out += 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
  }
}

function printService(s, format) {
  let name;
  if (s.fwmark) {
    name = format.rule ? `-f ${s.fwmark}${s.af === 6 ? ' -6' : ''}` : `FWM  ${s.fwmark}${s.af === 6 ? ' IPv6' : ''}`;
  } else {
    const v = addrPort(s.af, s.addr, s.port);
    if (format.rule) name = `${{ tcp: '-t', udp: '-u', sctp: '--sctp-service' }[s.protocol]} ${v}`;
    else {
      name = `${pad(s.protocol.toUpperCase(), 4)} ${v}`;
      if (s.af !== 6) name = name.slice(0, 33);
    }
  }
  const flagged = s.flags & (SCHED1 | SCHED2 | SCHED3);
  if (format.rule) {
    out += `-A ${name} -s ${s.sched}`;
    if (s.persistent) {
      out += ` -p ${s.timeout}`;
      if (s.af === 4 && s.netmask !== '255.255.255.255') out += ` -M ${s.netmask}`;
      if (s.af === 6 && s.netmask !== 128) out += ` -M ${s.netmask}`;
    }
    if (s.pe) out += ` --pe ${s.pe}`;
    if (s.ops) out += ' -o';
    if (flagged) out += ` -b ${schedFlagText(s)}`;
  } else {
    out += `${name} ${s.sched}`;
    if (flagged) out += ` (${schedFlagText(s)})`;
    if (s.persistent) {
      out += ` persistent ${s.timeout}`;
      if (s.af === 4 && s.netmask !== '255.255.255.255') out += ` mask ${s.netmask}`;
      if (s.af === 6 && s.netmask !== 128) out += ` mask ${s.netmask}`;
      if (s.pe) out += ` pe ${s.pe}`;
    }
    if (s.ops) out += ' ops';
  }
  out += '\n';
  for (const d of [...s.dests].sort(cmpDests)) {
    let dname = addrPort(d.af, d.addr, d.port);
    if (!format.rule && d.af !== 6) dname = dname.slice(0, 28);
    if (format.rule) {
      out += `-a ${name} -r ${dname} ${FWD_SWITCH[d.fwd]} -w ${d.weight}${d.fwd === 'tunnel' ? ' --tun-type ipip' : ''}\n`;
    } else if (format.thresholds) {
      out += `  -> ${pad(dname, 28)} ${pad(String(d.u), 10)} ${pad(String(d.l), 10)} ${pad('0', 10)} ${pad('0', 10)}\n`;
    } else {
      out += `  -> ${pad(dname, 28)} ${pad(FWD_NAME[d.fwd], 7)} ${pad(String(d.weight), 6)} ${pad('0', 10)} ${pad('0', 10)}\n`;
    }
  }
}

function listAll(format) {
  if (!format.rule) out += 'IP Virtual Server version 1.2.1 (size=4096)\n';
  printTitle(format);
  for (const s of [...table.services].sort(cmpServices)) printService(s, format);
}

// ---------------------------------------------------------------- commands ----

function processOptions(argv, readingStdin) {
  const head = tokenize(argv)[0];
  if (head && (head.opt === 'start-daemon' || head.opt === 'stop-daemon') && !readingStdin) return daemonOptions(argv);
  const ce = newEntry();
  if (parseOptions(argv, ce) !== 0) return -1;
  genericOptCheck(ce.cmd, ce.options);
  if (ce.cmd === 'A' || ce.cmd === 'E') {
    if (!ce.svc.fwmark && !ce.svc.port && !ce.svc.persistent) fail('Zero port specified for non-persistent service');
    if (ce.svc.ops && !ce.svc.fwmark && ce.svc.protocol !== 'udp') fail('One-Packet Scheduling is only for UDP virtual services');
    if (ce.svc.sched === '') ce.svc.sched = 'wlc';
  }
  if (ce.cmd === 'a' || ce.cmd === 'e') {
    if (!ce.svc.fwmark && (ce.dest.fwd === 'tunnel' || ce.dest.fwd === 'route')) ce.dest.port = ce.svc.port;
    if (ce.dest.addr.af !== ce.svc.af && ce.dest.fwd !== 'tunnel') fail('Different address family is allowed only for tunneling servers');
  }
  switch (ce.cmd) {
    case 'L': {
      if (ce.options.has(OPT.daemon) && !ce.options.has(OPT.connection) && !ce.options.has(OPT.timeout)) {
        out += listDaemons(table.daemons ?? []);
        return 0;
      }
      if (ce.options.has(OPT.connection) || ce.options.has(OPT.timeout) || ce.options.has(OPT.daemon)) unsupported('this listing');
      if (
        ce.options.has(OPT.stats) ||
        ce.options.has(OPT.rate) ||
        ce.options.has(OPT['persistent-conn']) ||
        ce.options.has(OPT['tun-info'])
      ) {
        unsupported('this listing');
      }
      if (ce.options.has(OPT['service-address'])) {
        const s = findService(ce.svc);
        if (!s) {
          err('No such service\n');
          throw new Exit(1);
        }
        printTitle(ce.format);
        printService(s, ce.format);
      } else listAll(ce.format);
      return 0;
    }
    case 'S':
      listAll({ ...ce.format, rule: true });
      return 0;
    case 'R':
      return restore(readingStdin);
    default:
      try {
        execute(ce);
        return 0;
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        err(`${e.message}\n`);
        return -1;
      }
  }
}

function daemonOptions(argv) {
  const interfaces = env.FAKE_IPVSADM_INTERFACES !== undefined ? new Set(env.FAKE_IPVSADM_INTERFACES.split(',')) : undefined;
  try {
    const daemons = daemonCommand(tokenize(argv), table.daemons ?? [], { fail, kfail, interfaces });
    // No key without daemons: the state file of a table alone stays as it was.
    if (daemons.length > 0) table.daemons = daemons;
    else delete table.daemons;
    dirty = true;
    return 0;
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    err(`${e.message}\n`);
    return -1;
  }
}

function restore(readingStdin) {
  if (readingStdin) tryhelp(-1);
  const input = readStdin();
  log.stdin = input;
  let result = 0;
  for (const line of input.split('\n')) {
    const tokens = line.split(/[ \t\r]+/).filter((t) => t !== '' && t !== PROG);
    if (tokens.length === 0) continue;
    result = processOptions(tokens, true);
  }
  return result;
}

// --------------------------------------------------------------------- main ----

let log = {};

/**
 * One ipvsadm run: `args` without the program name; `stdin` is read only by -R (a string,
 * or a function that reads it). Returns what ipvsadm would print and its exit status.
 */
export function runFakeIpvsadm({ args, env: environment = process.env, stdin = '' }) {
  out = '';
  errOut = '';
  env = environment;
  readStdin = typeof stdin === 'function' ? stdin : () => stdin;
  statePath = env.FAKE_IPVSADM_STATE;
  log = { args: [...args] };
  let code;
  let unlock = () => {};
  try {
    if (env.FAKE_IPVSADM_NO_IPVS === '1' || !statePath) {
      err("Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n");
      throw new Exit(2);
    }
    unlock = lockState();
    loadState();
    code = args.length === 0 ? (listAll({ numeric: false, rule: false, thresholds: false }), 0) : processOptions([...args], false) & 255;
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    code = e.code;
  } finally {
    if (env.FAKE_IPVSADM_LOG) appendFileSync(env.FAKE_IPVSADM_LOG, JSON.stringify(log) + '\n');
    try {
      const changed = dirty;
      if (statePath) saveState();
      if (statePath && env.FAKE_IPVSADM_PROC && env.FAKE_IPVSADM_NO_IPVS !== '1') writeIpvsProc(env.FAKE_IPVSADM_PROC, table, changed);
    } finally {
      unlock();
    }
  }
  return { stdout: out, stderr: errOut, exitCode: code };
}
