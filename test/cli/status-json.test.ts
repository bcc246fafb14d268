// status --json, the control socket and the statusaddress listener, on the
// daemon run for real: `ldirectord <cfg> start` in the test sandbox (fake
// ipvsadm over /usr/sbin/ipvsadm), real HTTP servers as real servers with real
// http checks, and the listener scraped over real HTTP. Also successcount and
// slowstart as the daemon applies them. Addresses: 127.0.80.0/24.
import http from 'node:http';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, sandbox, type Sandbox } from './ns.js';
import type { StatusDocument } from '../../lib/status/document.js';

const LISTEN = '127.0.80.1';
const REAL1 = '127.0.80.2';
const REAL2 = '127.0.80.3';
const PORT = 8080;
const STATUS_PORT = 9101;

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
if (process.env.CI && !canUnshare) it('has unshare (required in CI)', () => expect.fail('unshare -m does not work'));

/** Whether each real server answers its check with 200 OK. */
const healthy = new Map<string, boolean>([
  [REAL1, true],
  [REAL2, true],
]);
const servers: http.Server[] = [];
let sb: Sandbox;
let cfg: string;
let logfile: string;

beforeAll(async () => {
  for (const ip of [REAL1, REAL2]) {
    const s = http.createServer((_q, res) => {
      if (healthy.get(ip)) res.end('OK\n');
      else res.writeHead(503).end('sick\n');
    });
    await new Promise<void>((r, j) => s.once('error', j).listen(PORT, ip, r));
    servers.push(s);
  }
  sb = sandbox();
  cfg = join(sb.dir, 'lvs.cf');
  logfile = join(sb.dir, 'ld.log');
});

afterAll(async () => {
  for (const f of existsSync(sb?.piddir ?? '') ? readdirSync(sb.piddir) : []) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(sb.piddir, f), 'utf8'));
    try {
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (sb) rmSync(sb.dir, { recursive: true, force: true });
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function configText(o: { statusaddress?: string; weight1?: number } = {}): string {
  return `checktimeout=2
checkinterval=1
quiescent=yes
logfile="${logfile}"
${o.statusaddress !== undefined ? `statusaddress=${o.statusaddress}\n` : ''}virtual=192.0.2.80:80
    real=${REAL1}:${PORT} masq ${o.weight1 ?? 4}
    real=${REAL2}:${PORT} masq 1
    service=http
    request="/"
    receive="OK"
    successcount=2
    slowstart=2
`;
}

const run = (...argv: string[]) => sb.run(['node', BIN, ...argv]);
const pidFile = () => join(sb.piddir, 'ldirectord.lvs.cf.pid');
const socketFile = () => join(sb.piddir, 'ldirectord.lvs.cf.sock');
const logLines = () => (existsSync(logfile) ? readFileSync(logfile, 'utf8').split('\n').filter(Boolean) : []);

async function statusJson(): Promise<{ code: number | undefined; doc: StatusDocument; stderr: string }> {
  const r = await run(cfg, 'status', '--json');
  return { code: r.exitCode, doc: JSON.parse(String(r.stdout)) as StatusDocument, stderr: String(r.stderr) };
}

async function get(path: string, port = STATUS_PORT): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://${LISTEN}:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** One sample of the Prometheus text: the value of `name{labels}` (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

function tableWeights(): Record<string, number> {
  if (!existsSync(sb.state)) return {};
  const out = execaSync(new URL('../support/fake-ipvsadm', import.meta.url).pathname, ['-S', '-n'], {
    env: { FAKE_IPVSADM_STATE: sb.state },
  });
  const reals: Record<string, number> = {};
  for (const line of String(out.stdout).split('\n')) {
    const m = /^-a .* -r (\S+) .* -w (\d+)/.exec(line);
    if (m) reals[m[1]!] = Number(m[2]);
  }
  return reals;
}

async function eventually<T>(what: () => T | Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let v = await what();
  while (!ok(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    v = await what();
  }
  return v;
}

const R1 = `${REAL1}:${PORT}`;
const R2 = `${REAL2}:${PORT}`;
const VID = 'tcp:192.0.2.80:80';

describe.skipIf(!canUnshare)('status --json and the status listener, on the running daemon', () => {
  it('stopped: a JSON object saying so on stdout, exit 3 as the original', async () => {
    writeFileSync(cfg, configText({ statusaddress: `${LISTEN}:${STATUS_PORT}` }));
    const r = await run(cfg, 'status', '--json');
    expect(r.exitCode).toBe(3);
    expect(JSON.parse(String(r.stdout))).toEqual({ schema: 1, config: cfg, daemon: { state: 'stopped' } });
    const j = await run('-j', cfg, 'status');
    expect(j.exitCode).toBe(3);
    expect(JSON.parse(String(j.stdout)).daemon.state).toBe('stopped');
    // --json belongs to status only
    expect((await run('-j', cfg, 'start')).exitCode).toBe(255);
    // -t accepts the new directives without a word
    const t = await run('-t', cfg);
    expect([t.exitCode, String(t.stderr)]).toEqual([0, '']);
  });

  it('running: every virtual and real with state, table weight, last check, latency, counts', async () => {
    const r = await run(cfg, 'start');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    // successcount=2 holds for the first start too: the reals come in after two passes
    await eventually(
      () => tableWeights(),
      (t) => t[R1] === 4 && t[R2] === 1,
    );
    const { code, doc, stderr } = await statusJson();
    expect(code).toBe(0);
    const pid = Number(readFileSync(pidFile(), 'utf8'));
    expect(stderr).toBe(`ldirectord for ${cfg} is running with pid: ${pid}`);
    expect(doc).toMatchObject({
      schema: 1,
      daemon: {
        state: 'running',
        pid,
        version: 'Linux Director v1.186-ha',
        reloads: { ok: 0, failed: 0 },
        statusAddress: `${LISTEN}:${STATUS_PORT}`,
      },
    });
    expect(doc.virtuals).toHaveLength(1);
    const v = doc.virtuals![0]!;
    expect(v).toMatchObject({
      id: VID,
      name: '192.0.2.80:80',
      protocol: 'tcp',
      scheduler: 'wrr',
      service: 'http',
      checktype: 'negotiate',
      successcount: 2,
      slowstart: 2,
      failurecount: 1,
      quiescent: true,
      inTable: true,
      fallback: null,
    });
    const [a, b] = v.reals;
    expect(a).toMatchObject({
      address: R1,
      forward: 'masq',
      weight: 4,
      state: 'up',
      ipvsWeight: 4,
      failCount: 0,
      successCount: 0,
      slowstart: null,
    });
    expect(b).toMatchObject({ address: R2, weight: 1, state: 'up', ipvsWeight: 1 });
    expect(a!.lastCheck).toMatchObject({ ok: true, message: '200 OK' });
    expect(a!.lastCheck!.durationMs).toBeGreaterThanOrEqual(0);
    expect(a!.lastCheck!.durationMs).toBeLessThan(2000);
    expect(Date.now() - Date.parse(a!.lastCheck!.at)).toBeLessThan(5000);
    expect(a!.secondsSinceChange).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(a!.lastChange))).toBe(false);
    // the plain status is unchanged: nothing on stdout
    const plain = await run(cfg, 'status');
    expect([plain.exitCode, String(plain.stdout), String(plain.stderr)]).toEqual([
      0,
      '',
      `ldirectord for ${cfg} is running with pid: ${pid}`,
    ]);
  });

  it('the control socket is mode 0600 and answers only "status"', async () => {
    const st = statSync(socketFile());
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    const answer = await new Promise<string>((resolve, reject) => {
      let got = '';
      const c = net.connect(socketFile(), () => c.write('frobnicate\n'));
      c.setEncoding('utf8')
        .on('data', (d) => (got += d))
        .on('end', () => resolve(got))
        .on('error', reject);
    });
    expect(JSON.parse(answer)).toEqual({ error: 'unknown request: frobnicate' });
  });

  it('HTTP /status serves the same document; /metrics the Prometheus text', async () => {
    const s = await get('/status');
    expect(s.status).toBe(200);
    expect(s.type).toMatch(/^application\/json/);
    const doc = JSON.parse(s.body) as StatusDocument;
    const cli = (await statusJson()).doc;
    const strip = (d: StatusDocument) =>
      d.virtuals!.map((v) => ({ ...v, reals: v.reals.map((r) => ({ ...r, lastCheck: null, secondsSinceChange: 0 })) }));
    expect(strip(doc)).toEqual(strip(cli));
    expect((await get('/status.json')).status).toBe(200);
    expect((await get('/nope')).status).toBe(404);

    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(m.body, 'ldirectord_real_up', { virtual: VID, real: R1 })).toBe(1);
    expect(sample(m.body, 'ldirectord_real_weight', { virtual: VID, real: R1 })).toBe(4);
    expect(sample(m.body, 'ldirectord_real_weight', { virtual: VID, real: R2 })).toBe(1);
    expect(sample(m.body, 'ldirectord_checks_total', { virtual: VID, real: R1, result: 'success' })).toBeGreaterThanOrEqual(2);
    const count = sample(m.body, 'ldirectord_check_duration_seconds_count', { virtual: VID, real: R1 })!;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(sample(m.body, 'ldirectord_check_duration_seconds_bucket', { virtual: VID, real: R1, le: '+Inf' })).toBe(count);
    expect(sample(m.body, 'ldirectord_ipvs_convergences_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(m.body, 'ldirectord_ipvs_convergences_total', { result: 'error' })).toBe(0);
    expect(sample(m.body, 'ldirectord_ipvs_commands_total', { result: 'applied' })).toBeGreaterThanOrEqual(3);
    expect(sample(m.body, 'ldirectord_reloads_total', { result: 'ok' })).toBe(0);
    expect(m.body).toMatch(/^# TYPE ldirectord_check_duration_seconds histogram$/m);
    expect(m.body).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('a failing real: down in the JSON and the metrics, failures counted', async () => {
    healthy.set(REAL1, false);
    const doc = await eventually(
      async () => (await statusJson()).doc,
      (d) => d.virtuals![0]!.reals[0]!.state === 'down' && d.virtuals![0]!.reals[0]!.ipvsWeight === 0,
    );
    const a = doc.virtuals![0]!.reals[0]!;
    expect(a).toMatchObject({ state: 'down', ipvsWeight: 0, lastCheck: { ok: false } });
    expect(a.lastCheck!.message).toMatch(/503/);
    expect(a.secondsSinceChange).toBeLessThan(5);
    const m = (await get('/metrics')).body;
    expect(sample(m, 'ldirectord_real_up', { virtual: VID, real: R1 })).toBe(0);
    expect(sample(m, 'ldirectord_real_weight', { virtual: VID, real: R1 })).toBe(0);
    expect(sample(m, 'ldirectord_checks_total', { virtual: VID, real: R1, result: 'failure' })).toBeGreaterThanOrEqual(1);
  });

  it('back: two passes (successcount=2), then the weight ramps 2, 3, 4 over slowstart=2', async () => {
    const mark = logLines().length;
    healthy.set(REAL1, true);
    // while it ramps, the JSON shows the step and the end of the ramp
    // (polled over HTTP: a `status --json` process may take longer than the ramp on a busy machine)
    const during = await eventually(
      async () => (JSON.parse((await get('/status')).body) as StatusDocument).virtuals![0]!.reals[0]!,
      (r) => r.slowstart !== null,
      10_000,
    );
    expect(during.state).toBe('up');
    expect(during.slowstart!.weight).toBeLessThan(4);
    expect(Date.parse(during.slowstart!.endsAt)).toBeGreaterThan(Date.now() - 500);
    await eventually(
      () => tableWeights(),
      (t) => t[R1] === 4,
    );
    // log lines are appended asynchronously: wait for the last step's (this one's: the real
    // may have been restored to 4 before)
    const done = `Restored real server: ${R1} (192.0.2.80:80) (Weight set to 4)`;
    const lines = (await eventually(logLines, (ls) => ls.slice(mark).some((l) => l.endsWith(done))))
      .slice(mark)
      .map((l) => l.replace(/^\[[^\]]*\] /, ''));
    // (the quiesce of the previous step may land after the mark: the log is asynchronous)
    const mine = lines.filter((l) => l.includes(R1));
    expect(mine.filter((l) => /^(Soft success|Added)/.test(l))).toEqual([`Soft success real server: ${R1} (${VID}) success 1/2`]);
    // 2 from 0 s, 3 from 1 s, 4 from 2 s after it came up (the steps themselves: slow-start and
    // director-rise-ramp tests). The weight follows the clock: on a busy machine a convergence
    // that comes after the next step's time goes to that step, skipping one, never back.
    const weights = mine.filter((l) => l.startsWith('Restored')).map((l) => Number(/Weight set to (\d+)\)$/.exec(l)?.[1]));
    expect(weights.at(-1), mine.join('\n')).toBe(4);
    expect(weights[0], mine.join('\n')).toBeLessThan(4);
    expect(
      weights.every((w, i) => [2, 3, 4].includes(w) && (i === 0 || w > weights[i - 1]!)),
      mine.join('\n'),
    ).toBe(true);
    const after = (await statusJson()).doc.virtuals![0]!.reals[0]!;
    expect(after).toMatchObject({ state: 'up', ipvsWeight: 4, slowstart: null, successCount: 0 });
  });

  it('reload: a new statusaddress rebinds (the old port closes), reloads are counted', async () => {
    writeFileSync(cfg, configText({ statusaddress: `${LISTEN}:${STATUS_PORT + 1}` }));
    expect((await run(cfg, 'reload')).exitCode).toBe(0);
    const moved = await eventually(
      () => get('/metrics', STATUS_PORT + 1).catch(() => undefined),
      (x) => x?.status === 200,
    );
    expect(sample(moved!.body, 'ldirectord_reloads_total', { result: 'ok' })).toBe(1);
    await expect(get('/metrics', STATUS_PORT)).rejects.toThrow();
    // counters survive the rebind
    expect(sample(moved!.body, 'ldirectord_checks_total', { virtual: VID, real: R1, result: 'failure' })).toBeGreaterThanOrEqual(1);
    expect((await statusJson()).doc.daemon).toMatchObject({ reloads: { ok: 1, failed: 0 }, statusAddress: `${LISTEN}:${STATUS_PORT + 1}` });

    // a bad statusaddress is a config error like any other: the running config stays
    writeFileSync(cfg, configText({ statusaddress: 'localhost:9' }));
    const bad = await run(cfg, 'reload');
    expect(bad.exitCode).toBe(2);
    expect(String(bad.stderr)).toMatch(/^Error \[\d+\] reading file .* at line 5: invalid status address "localhost:9"/m);
    process.kill(Number(readFileSync(pidFile(), 'utf8')), 'SIGHUP');
    const counted = await eventually(
      () => get('/metrics', STATUS_PORT + 1),
      (x) => sample(x.body, 'ldirectord_reloads_total', { result: 'error' }) === 1,
    );
    expect(sample(counted.body, 'ldirectord_reloads_total', { result: 'error' })).toBe(1);

    // removing it closes the listener
    writeFileSync(cfg, configText());
    expect((await run(cfg, 'reload')).exitCode).toBe(0);
    await eventually(
      () =>
        get('/', STATUS_PORT + 1).then(
          () => false,
          () => true,
        ),
      (gone) => gone,
    );
    expect(logLines().some((l) => l.endsWith(`status listener on ${LISTEN}:${STATUS_PORT + 1} closed`))).toBe(true);
  });

  it('a port that cannot be bound is logged; the daemon runs on', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(STATUS_PORT + 2, LISTEN, r));
    try {
      writeFileSync(cfg, configText({ statusaddress: `${LISTEN}:${STATUS_PORT + 2}` }));
      expect((await run(cfg, 'reload')).exitCode).toBe(0);
      const line = await eventually(logLines, (ls) => ls.some((l) => l.includes('status listener: cannot listen')));
      expect(line.find((l) => l.includes('status listener: cannot listen'))).toMatch(
        new RegExp(
          `status listener: cannot listen on ${LISTEN.replace(/\./g, '\\.')}:${STATUS_PORT + 2}: EADDRINUSE \\(the daemon runs on without it\\)$`,
        ),
      );
      const { code, doc } = await statusJson();
      expect(code).toBe(0);
      expect(doc.daemon.state).toBe('running');
    } finally {
      blocker.close();
    }
  });

  it('stop removes the socket; a stale pid file gives JSON "stale" and exit 1', async () => {
    expect((await run(cfg, 'stop')).exitCode).toBe(0);
    expect(existsSync(socketFile())).toBe(false);
    writeFileSync(pidFile(), '999999\n');
    const r = await run(cfg, 'status', '-j');
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(String(r.stdout))).toEqual({ schema: 1, config: cfg, daemon: { state: 'stale', pidFile: pidFile(), pid: '999999' } });
    expect(String(r.stderr)).toBe(`ldirectord stale pid file ${pidFile()} for ${cfg}`);
    rmSync(pidFile());
  });
});
