// A busy event loop must not take healthy reals out. 2,000 connect reals (listeners in a
// process of their own on 127.0.152.20-27), the check runner with the real connect
// checker, and now and then a probe is followed by 1.3 s of synchronous work (a big table
// parse, a stalled machine) right after it started: longer than the checktimeout (1 s),
// with checks in flight whose connects the kernel completed at once. Those checks must be
// reported as connected, not timed out: during the first checks of all reals at start-up
// (which start each other from their completions) and on the running schedule. No real
// may go down, and every real is checked again after the last busy stretch.
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectChecker } from '../../checks/registry.js';
import type { Checker } from '../../checks/types.js';
import { CheckRunner } from '../../lib/daemon/check-runner.js';
import { realId } from '../../lib/daemon/real-id.js';
import { parse } from '../config/parse-helpers.js';

const ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.152.${20 + i}`);
const PORTS = Array.from({ length: 250 }, (_, i) => 21000 + i);
const REALS = ADDRESSES.flatMap((ip) => PORTS.map((port) => ({ ip, port })));
const BUSY_MS = 1300;

let listeners: ChildProcess | undefined;
const script = join(tmpdir(), `loaded-loop-listeners-${process.pid}.mjs`);

beforeAll(async () => {
  writeFileSync(
    script,
    `import net from 'node:net';
const reals = ${JSON.stringify(REALS)};
await Promise.all(reals.map(({ ip, port }) => new Promise((resolve, reject) => {
  const s = net.createServer((c) => { c.on('error', () => {}); c.destroy(); });
  s.once('error', reject);
  s.listen({ host: ip, port, backlog: 511 }, resolve);
})));
process.send('ready');
process.on('disconnect', () => process.exit(0));
`,
  );
  listeners = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('listeners not ready within 30 s')), 30_000);
    listeners!.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    listeners!.once('exit', (code) => reject(new Error(`listeners exited (${code})`)));
  });
});

afterAll(async () => {
  rmSync(script, { force: true });
  const child = listeners;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill();
  });
});

function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // the loop is held, as by a long synchronous job
  }
}

describe('a busy event loop', () => {
  it('takes no healthy real out: checks that connected before their deadline are up', { timeout: 90_000 }, async () => {
    const lines = ['checkinterval=2', 'checktimeout=1', 'failurecount=1'];
    for (let v = 0; v < REALS.length / 10; v++) {
      lines.push(`virtual=10.152.${Math.floor(v / 100)}.${v % 100}:80`);
      for (const r of REALS.slice(v * 10, v * 10 + 10)) lines.push(`    real=${r.ip}:${r.port} gate`);
      lines.push('    checktype=connect', '    service=none');
    }
    const parsed = await parse(lines.join('\n') + '\n');
    if (!parsed.config) throw new Error(JSON.stringify(parsed.diagnostics.slice(0, 3)));
    const config = parsed.config;

    let busyNext = false;
    let stretches = 0;
    let probes = 0;
    const connect = selectChecker(config.virtuals[0]!)!;
    // The runner starts a connect check through start(), where the checker has it.
    const start = connect.start;
    if (start === undefined) throw new Error('the connect checker has no start()');
    const loaded: Checker = {
      ...connect,
      start: (target, signal, sink) => {
        start(target, signal, sink);
        // Two stretches among the start-up checks, then those the test asks for.
        probes++;
        if (busyNext || probes === 300 || probes === 1300) {
          busyNext = false;
          stretches++;
          busy(BUSY_MS);
        }
      },
    };
    const downs: string[] = [];
    const lastChecked = new Map<string, number>();
    const runner = new CheckRunner({
      checkers: () => loaded,
      onTransition: (e, t, result) => {
        lastChecked.set(e.id, Date.now());
        if (t.kind === 'down') downs.push(`${realId(e.target.virtual, e.target.real)}: ${result?.message} ${result?.detail ?? ''}`);
      },
    });
    runner.update(config);
    await runner.checkAllNow();
    expect(stretches).toBe(2);
    expect(downs.slice(0, 5)).toEqual([]);
    runner.start();

    // Four busy stretches, 2.5 s apart (each then hits checks in flight).
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 2500 - BUSY_MS));
      busyNext = true;
      const t0 = Date.now();
      while (busyNext && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    }
    const lastStretch = Date.now();
    // Two intervals and a timeout with margin: every real checked again since.
    await new Promise((r) => setTimeout(r, 6000));
    await runner.stop();

    expect(stretches).toBe(6);
    expect(downs.slice(0, 5)).toEqual([]);
    expect(downs).toHaveLength(0);
    const stale = [...runner.all()].filter((e) => (lastChecked.get(e.id) ?? 0) < lastStretch);
    expect(stale.map((e) => realId(e.target.virtual, e.target.real)).slice(0, 5)).toEqual([]);
  });
});
