// A reload of a 10,000-real config with one weight changed, on this machine (no IPVS
// kernel here): the daemon's Director against the test suite's fake ipvsadm called in
// this process, so that "our code" is timed apart from ipvsadm (the fake's own time is
// subtracted). The same scenario with the real ipvsadm runs in the IPVS guest
// (bench/ipvs-converge.mjs); this is the host-speed figure of our share.
//   node bench/reload-host.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFakeIpvsadm } from '../test/support/fake-ipvsadm.mjs';
import { Director } from '../dist/lib/daemon/director.js';
import { parseConfig } from '../dist/lib/config/parse.js';

const dir = mkdtempSync(join(tmpdir(), 'ldirectord-reload-'));
const env = { FAKE_IPVSADM_STATE: join(dir, 'state.json') };
let runs = [];
const runner = {
  path: 'fake-ipvsadm',
  async run(args, input) {
    const t0 = performance.now();
    const r = runFakeIpvsadm({ args, env, stdin: input ?? '' });
    runs.push({ lines: (input ?? '').split('\n').filter((l) => l && !l.startsWith('-L')).length, ms: performance.now() - t0 });
    return r;
  },
};
const text = (changed) => {
  const out = ['checkinterval=3600', 'cleanstop=no', 'quiescent=yes', ''];
  for (let v = 0; v < 1000; v++) {
    out.push(`virtual=192.0.${2 + (v >> 8)}.${v & 255}:80`, '    checktype=on', '    scheduler=wlc');
    for (let r = 0; r < 10; r++) {
      const n = v * 10 + r;
      out.push(`    real=10.9.${n >> 8}.${n & 255}:8080 masq ${changed && n === 4321 ? 7 : 1}`);
    }
  }
  return `${out.join('\n')}\n`;
};
const cfg = async (changed) => (await parseConfig(text(changed), { file: 'reload.cf', openForAppend: () => null })).config;
const logged = [];
const director = new Director(await cfg(false), {
  log: { log: (m) => logged.push(m), debug: () => undefined },
  ipvsadm: runner,
  alerts: { alert: () => undefined, sendReminders: () => 0 },
  monitor: { write: () => undefined },
  probe: async () => ({ ok: true, message: 'on', durationMs: 0 }),
  timeoutSeconds: () => 1,
});
await director.start();
await director.run();
const configs = [await cfg(true), await cfg(false)];
const samples = [];
for (let k = 0; k < 9; k++) {
  runs = [];
  logged.length = 0;
  const t0 = performance.now();
  await director.reload(configs[k % 2]);
  const total = performance.now() - t0;
  const fake = runs.reduce((a, r) => a + r.ms, 0);
  samples.push({ totalMs: total, fakeMs: fake, ownMs: total - fake, runs: runs.length, commands: runs.reduce((a, r) => a + r.lines, 0), logged: [...logged] });
}
await director.stop();
rmSync(dir, { recursive: true, force: true });
const own = samples.map((s) => s.ownMs).sort((a, b) => a - b);
console.log(JSON.stringify({
  ownMs: { median: own[4], min: own[0], max: own[8] },
  ipvsadmRuns: samples[4].runs, commandsSent: samples.map((s) => s.commands), logged: samples[0].logged,
  load: (await import('node:os')).loadavg()[0],
}, null, 1));
