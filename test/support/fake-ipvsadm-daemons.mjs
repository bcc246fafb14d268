// The sync-daemon part of fake-ipvsadm: --start-daemon, --stop-daemon and -L --daemon, with
// the messages and exit codes of ipvsadm 1.31 on Linux 6.1 (recorded in the IPVS guest:
// fixtures/ipvsadm-daemon/). The daemons live in the state file next to the table
// (`daemons`: master first), under the same lock.
//
// Deviations: interfaces are not looked up unless FAKE_IPVSADM_INTERFACES (comma-separated)
// names those that exist; maxlen defaults to 1472 (1452 with an IPv6 group), as on an
// interface with a 1500-byte MTU.

const ROLES = ['master', 'backup'];

function parseV4Group(s) {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return undefined;
  return Number(m[1]) >= 224 && Number(m[1]) <= 239 ? s : null;
}

/**
 * One --start-daemon / --stop-daemon command. `items`: the fake's tokens (the first is the
 * command); `daemons`: the current list; `io`: { fail(msg) (usage error, exit 2),
 * kfail(msg) (kernel error, exit 255), interfaces (Set or undefined) }.
 * Returns the new list.
 */
export function daemonCommand(items, daemons, io) {
  const [first, ...rest] = items;
  const role = first.arg;
  if (first.opt === 'stop-daemon') {
    if (!ROLES.includes(role)) io.fail('illegal start_daemon specified');
    if (rest.length > 0) io.fail(`Illegal '${rest[0].text ?? rest[0].positional}' option with the 'stop-daemon' command`);
    if (!daemons.some((d) => d.role === role)) io.kfail('No daemon is running');
    return daemons.filter((d) => d.role !== role);
  }
  if (!ROLES.includes(role)) io.fail('illegal start-daemon parameter specified');
  const d = { role, interface: '', syncid: 0 };
  let maxlen, group, port, ttl;
  const num = (v, min, max, what) => {
    const n = /^\d+$/.test(v ?? '') ? Number(v) : NaN;
    if (!(n >= min && n <= max)) io.fail(`illegal ${what} specified`);
    return n;
  };
  for (const it of rest) {
    if (it.bad) io.fail(`${it.bad}: ${it.missing ? 'missing argument' : 'unknown option'}`);
    switch (it.opt) {
      case 'mcast':
        d.interface = it.arg;
        break;
      case 'syncid':
        d.syncid = num(it.arg, 0, 255, 'syncid');
        break;
      case 'sync-maxlen':
        maxlen = num(it.arg, 1, 65507, 'sync-maxlen');
        break;
      case 'mcast-port':
        port = num(it.arg, 1, 65535, 'mcast-port');
        break;
      case 'mcast-ttl':
        ttl = num(it.arg, 1, 255, 'mcast-ttl');
        break;
      case 'mcast-group': {
        const v4 = parseV4Group(it.arg);
        if (v4 === null) io.fail(`invalid IPv4 mcast-group \`${it.arg}'`);
        if (v4 === undefined && !/^ff[0-9a-f]{2}:[0-9a-f:]*$/i.test(it.arg)) io.fail(`invalid IPv6 mcast-group \`${it.arg}'`);
        group = it.arg.toLowerCase();
        break;
      }
      default:
        io.fail(`Illegal '${it.text ?? it.positional}' option with the 'start-daemon' command`);
    }
  }
  if (d.interface === '' || (io.interfaces && !io.interfaces.has(d.interface))) io.kfail('No such device');
  if (daemons.some((x) => x.role === role)) io.kfail('Daemon has already run');
  const v6 = group?.includes(':');
  const started = { ...d, maxlen: maxlen ?? (v6 ? 1452 : 1472), group: group ?? '224.0.0.81', port: port ?? 8848, ttl: ttl ?? 1 };
  return [...daemons, started].sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role));
}

/** `ipvsadm -L --daemon`'s output. */
export function listDaemons(daemons) {
  return daemons
    .map(
      (d) =>
        `${d.role} sync daemon (mcast=${d.interface}, syncid=${d.syncid}, maxlen=${d.maxlen}, group=${d.group}, port=${d.port}, ttl=${d.ttl})\n`,
    )
    .join('');
}
