// The config and the Director of the reload benches: bench/reload-host.mjs on this machine,
// bench/ipvs-converge.mjs in the IPVS guest (which passes the classes of its own build).
// `virtuals` x `perVirtual` reals, checktype=on (every real up without a probe: only the
// table work is measured); `changed` gives real number `changedReal` weight 7 instead of 1.

export function reloadConfigText({ virtuals = 1000, perVirtual = 10, changedReal = 4321 } = {}, changed = false) {
  const out = ['checkinterval=3600', 'cleanstop=no', 'quiescent=yes', ''];
  for (let v = 0; v < virtuals; v++) {
    out.push(`virtual=192.0.${2 + (v >> 8)}.${v & 255}:80`, '    checktype=on', '    scheduler=wlc');
    for (let r = 0; r < perVirtual; r++) {
      const n = v * perVirtual + r;
      out.push(`    real=10.9.${n >> 8}.${n & 255}:8080 masq ${changed && n === changedReal ? 7 : 1}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * A Director on `runner` whose log lines go to `logged`, with nothing else attached.
 * `assembleDirector`: lib/daemon/assemble-director.js's export, of the build to measure.
 */
export function reloadDirector(assembleDirector, config, runner, logged) {
  return assembleDirector(config, {
    log: { log: (m) => logged.push(m), debug: () => undefined },
    ipvsadm: runner,
    alerts: { alert: () => undefined, sendReminders: () => 0 },
    monitor: { write: () => undefined },
  }).director;
}
