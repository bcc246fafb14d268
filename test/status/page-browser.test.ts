// The status page in a real browser: Debian's headless Chromium loads GET /
// from the daemon run for real (`ldirectord <cfg> start` in the test sandbox,
// real HTTP servers as reals, real http checks) and the page refreshes itself
// while a real goes down and comes back; the DOM is read at each step and a
// screenshot saved to test/status/screenshots/. Then a page of 1,000 virtuals
// × 10 reals from an in-process listener. Addresses: 127.0.146.0/24.
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, sandbox, type Sandbox } from '../cli/ns.js';
import { Browser, haveChromium, type Page } from '../support/cdp-pipe.mjs';
import { bigStatus } from '../../bench/page-fixture.mjs';
import { StatusListener } from '../../lib/status/http-listener.js';
import { StateHistory } from '../../lib/status/state-history.js';
import { pageAnswer } from '../../lib/status/status-page.js';

const LISTEN = '127.0.146.1';
const REAL1 = '127.0.146.2';
const REAL2 = '127.0.146.3';
/** Nothing listens there: down from the start, its virtual's fallback serves. */
const REAL3 = '127.0.146.4';
const PORT = 8080;
const STATUS_PORT = 9146;
const BIG_PORT = 9147;
const CHECKINTERVAL = 1;
/** The page refreshes every checkinterval, at least every 2 s. */
const REFRESH = 2;
/** A loaded 2-core CI machine: what one check interval plus one refresh may take there. */
const STEP_MS = (CHECKINTERVAL + REFRESH) * 1000 + 12_000;
const SCREENSHOTS = new URL('./screenshots/', import.meta.url).pathname;
const VID = 'tcp:192.0.2.146:80';
const R1 = `${REAL1}:${PORT}`;
/** A reason phrase with markup: the page must show it as text. */
const HOSTILE_REASON = 'Sick <img src=x id=injected onerror="document.body.dataset.owned=1">';

const canUnshare = (await execa('unshare', ['-m', 'true'], { reject: false })).exitCode === 0;
const chromium = haveChromium();
if (process.env.CI && !chromium)
  it('has chromium (required in CI)', () => expect.fail('chromium is not installed (.ci/install.d/80-status-page.sh)'));

const healthy = new Map<string, boolean>([
  [REAL1, true],
  [REAL2, true],
]);
const servers: http.Server[] = [];
let sb: Sandbox | undefined;
let cfg: string;
let browser: Browser | undefined;
let page: Page;

beforeAll(async () => {
  if (!chromium) return;
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await Browser.launch();
  page = await browser.newPage({ width: 1280, height: 720 });
  if (!canUnshare) return;
  for (const ip of [REAL1, REAL2]) {
    const s = http.createServer((_q, res) => {
      if (healthy.get(ip)) res.end('OK\n');
      else res.writeHead(503, HOSTILE_REASON).end('sick\n');
    });
    await new Promise<void>((r, j) => s.once('error', j).listen(PORT, ip, r));
    servers.push(s);
  }
  sb = sandbox();
  cfg = join(sb.dir, 'page.cf');
  writeFileSync(
    cfg,
    `checktimeout=2
checkinterval=${CHECKINTERVAL}
quiescent=no
logfile="${join(sb.dir, 'ld.log')}"
statusaddress=${LISTEN}:${STATUS_PORT}
virtual=192.0.2.146:80
    real=${REAL1}:${PORT} masq 3
    real=${REAL2}:${PORT} masq 1
    service=http
    request="/"
    receive="OK"
virtual=192.0.2.147:80
    real=${REAL3}:${PORT} masq
    fallback=127.0.0.1:80 gate
    service=http
    request="/"
    receive="OK"
`,
  );
  const r = await sb.run(['node', BIN, cfg, 'start']);
  expect(r.exitCode, String(r.stderr)).toBe(0);
});

afterAll(async () => {
  await browser?.close();
  for (const f of sb && existsSync(sb.piddir) ? readdirSync(sb.piddir) : []) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(sb!.piddir, f), 'utf8'));
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

const rowState = (real: string) =>
  `(document.querySelector('section[data-virtual="${VID}"] tr[data-real="${real}"]')?.dataset.state ?? null)`;
const shot = (name: string, full = false) => page.screenshot(join(SCREENSHOTS, name), { full });

describe.skipIf(!chromium || !canUnshare)('the status page in Chromium, on the running daemon', () => {
  it('GET / is HTML with no-store and a CSP; Chromium renders every real, problems first', async () => {
    const res = await fetch(`http://${LISTEN}:${STATUS_PORT}/`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; .*script-src 'sha256-/);
    await res.text();
    await page.goto(`http://${LISTEN}:${STATUS_PORT}/`);
    expect(await page.waitFor(`${rowState(R1)} === 'up' && ${rowState(`${REAL2}:${PORT}`)} === 'up'`, STEP_MS)).toBe(true);
    const order = await page.evaluate<string[]>(`[...document.querySelectorAll('section[data-virtual]')].map((s) => s.dataset.virtual)`);
    // the virtual with no real up comes first, its fallback serving
    expect(order).toEqual(['tcp:192.0.2.147:80', VID]);
    expect(await page.waitFor(`document.querySelector('[data-fallback]')?.dataset.fallback === 'serving'`, STEP_MS)).toBe(true);
    expect(await page.evaluate(`document.querySelector('#daemon').textContent`)).toMatch(/^daemonrunning pid \d+$/);
    expect(await page.evaluate(`document.body.dataset.refresh`)).toBe(String(REFRESH));
    await shot('1-all-up.png');
  });

  it('a real goes down: its row says so within a check interval plus a refresh, without a reload', async () => {
    const marker = await page.evaluate(`window.__sameDocument = 1`);
    expect(marker).toBe(1);
    healthy.set(REAL1, false);
    const t0 = Date.now();
    expect(await page.waitFor(`${rowState(R1)} === 'down'`, STEP_MS, 100)).toBe(true);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(STEP_MS);
    // the page refreshed itself in place: the same document
    expect(await page.evaluate(`window.__sameDocument`)).toBe(1);
    // down comes first in its virtual, and the reason phrase is text, not markup
    expect(await page.evaluate(`document.querySelector('section[data-virtual="${VID}"] tr[data-real]').dataset.real`)).toBe(R1);
    const check = await page.evaluate<string>(`document.querySelector('tr[data-real="${R1}"] td.ck').textContent`);
    expect(check).toContain(HOSTILE_REASON);
    expect(await page.evaluate(`document.getElementById('injected') === null && document.body.dataset.owned === undefined`)).toBe(true);
    expect(await page.waitFor(`document.querySelector('tr[data-real="${R1}"] .h')?.title.includes('up→down')`, STEP_MS)).toBe(true);
    await shot('2-real-down.png');
  });

  it('it comes back: up again, and the strip keeps both changes', async () => {
    healthy.set(REAL1, true);
    expect(await page.waitFor(`${rowState(R1)} === 'up'`, STEP_MS, 100)).toBe(true);
    const title = await page.waitFor<string>(
      `(() => { const t = document.querySelector('tr[data-real="${R1}"] .h')?.title ?? ''; return t.includes('down→up') ? t : ''; })()`,
      STEP_MS,
    );
    expect(title).toMatch(/up→down .*down→up/);
    expect(await page.evaluate(`document.querySelectorAll('tr[data-real="${R1}"] .h i.d').length`)).toBeGreaterThanOrEqual(1);
    await shot('3-back-up.png');
  });

  it('on a phone: one column, no sideways scrolling', async () => {
    const phone = await browser!.newPage({ width: 390, height: 844, mobile: true, scale: 2 });
    await phone.goto(`http://${LISTEN}:${STATUS_PORT}/`);
    expect(await phone.evaluate(`document.documentElement.scrollWidth <= window.innerWidth + 1`)).toBe(true);
    await phone.screenshot(join(SCREENSHOTS, '4-phone.png'));
    await phone.send('Page.close').catch(() => undefined);
  });

  it('the daemon stops: the page says it is not current', async () => {
    expect((await sb!.run(['node', BIN, cfg, 'stop'])).exitCode).toBe(0);
    expect(await page.waitFor(`document.body.classList.contains('stale')`, STEP_MS)).toBe(true);
    await shot('5-daemon-gone.png');
  });
});

describe.skipIf(!chromium)('a page of 1,000 virtuals × 10 reals in Chromium', () => {
  it('renders all 10,000 rows; first paint and size are reported', { timeout: 120_000 }, async () => {
    const now = Date.now();
    const { doc, changes } = bigStatus(1000, 10, now);
    const history = new StateHistory(undefined, () => now);
    for (const c of changes) history.record(c);
    const listener = new StatusListener(
      {
        status: () => '{}\n',
        metrics: async () => ({ contentType: 'text/plain', body: '' }),
        page: (_q, enc) => pageAnswer({ doc, history, secrets: new Map(), refreshSeconds: 0, now }, enc),
      },
      () => undefined,
    );
    await listener.bind({ host: LISTEN, port: BIG_PORT, family: 4 });
    try {
      const big = await browser!.newPage({ width: 1920, height: 1080 });
      const t0 = Date.now();
      await big.goto(`http://${LISTEN}:${BIG_PORT}/`, 60_000);
      const loadMs = Date.now() - t0;
      // the paint entry may come after the load event
      await big.waitFor(`performance.getEntriesByName('first-contentful-paint').length > 0`, 30_000);
      const figures = await big.evaluate<{ rows: number; fcp: number; transfer: number; decoded: number }>(`(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return { rows: document.querySelectorAll('tr[data-real]').length, fcp: fcp ? fcp.startTime : -1,
          transfer: nav.transferSize, decoded: nav.decodedBodySize };
      })()`);
      expect(figures.rows).toBe(10_000);
      expect(figures.fcp).toBeGreaterThan(0);
      // gzip: the wire carries a fraction of the page
      expect(figures.transfer).toBeLessThan(figures.decoded / 4);
      await big.screenshot(join(SCREENSHOTS, '6-big-page.png'));
      console.log(
        `1,000 x 10 page in Chromium: first contentful paint ${Math.round(figures.fcp)} ms, load ${loadMs} ms, ` +
          `${figures.decoded} bytes (${figures.transfer} on the wire)`,
      );
      await big.send('Page.close').catch(() => undefined);
    } finally {
      await listener.close();
    }
  });
});
