// A status document of `virtuals` × `reals`, with the mix of states a big
// director has on a bad day (some reals down, rising, draining, a virtual
// with none up and its fallback serving), and a history of changes for the
// reals that are not up. Used by bench/status-page.mjs and
// test/status/status-page.test.ts.

/** @returns {{ doc: import('../lib/status/document.js').StatusDocument, changes: import('../lib/status/state-history.js').StateChange[] }} */
export function bigStatus(virtuals, reals, now = Date.now()) {
  const iso = (ms) => new Date(ms).toISOString();
  const startedAt = now - 2 * 3600_000;
  const changes = [];
  const vs = [];
  for (let i = 0; i < virtuals; i++) {
    const id = `tcp:10.${(i >> 8) & 255}.${i & 255}.1:80`;
    const allDown = i % 250 === 7;
    const rs = [];
    for (let j = 0; j < reals; j++) {
      const address = `172.${16 + (i % 16)}.${(i >> 4) & 255}.${10 + j}:8080`;
      const k = (i * reals + j) % 97;
      const state = allDown || k === 3 ? 'down' : k === 5 ? 'unknown' : 'up';
      const rising = k === 11;
      const draining = k === 13;
      const ok = state === 'up' && !draining;
      let lastChange = now - (k + 1) * 37_000;
      if (state === 'down' || rising) {
        for (let n = 0; n < 3; n++) {
          const at = now - 3000_000 + n * 600_000 + k * 1000;
          changes.push({
            virtual: id,
            real: address,
            from: n % 2 ? 'down' : 'up',
            to: n % 2 ? 'up' : 'down',
            at,
            message: n % 2 ? '200 OK' : 'timed out after 5 s',
          });
          lastChange = at;
        }
      }
      rs.push({
        address,
        forward: 'masq',
        weight: 10,
        state: rising ? 'down' : state,
        ipvsWeight: rising || state === 'down' ? 0 : state === 'up' ? 10 : null,
        lastCheck:
          state === 'unknown'
            ? null
            : {
                ok,
                message: ok ? '200 OK' : 'connect to 172.16.0.10:8080 failed: ECONNREFUSED',
                at: iso(now - 1200),
                durationMs: 3 + (k % 40),
              },
        failCount: draining ? 1 : 0,
        successCount: rising ? 1 : 0,
        lastChange: iso(lastChange),
        secondsSinceChange: Math.floor((now - lastChange) / 1000),
        slowstart: null,
      });
    }
    vs.push({
      id,
      name: id.slice(4),
      protocol: 'tcp',
      scheduler: 'wlc',
      service: 'http',
      checktype: 'negotiate',
      checkinterval: 5,
      failurecount: 3,
      successcount: 2,
      slowstart: 0,
      quiescent: true,
      inTable: true,
      fallback: i % 50 === 7 ? { address: '127.0.0.1:80', forward: 'gate', ipvsWeight: allDown ? 1 : null } : null,
      reals: rs,
    });
  }
  const doc = {
    schema: 1,
    config: '/etc/ha.d/ldirectord.cf',
    daemon: {
      state: 'running',
      pid: 4242,
      version: 'Linux Director v1.186-ha',
      startedAt: iso(startedAt),
      uptimeSeconds: Math.floor((now - startedAt) / 1000),
      reloads: { ok: 3, failed: 0, lastAt: iso(now - 600_000) },
      ipvs: { readAt: iso(now - 2000) },
      statusAddress: '127.0.0.1:9101',
    },
    virtuals: vs,
  };
  return { doc, changes };
}
