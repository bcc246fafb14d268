// The status page (GET / on statusaddress=) for 1,000 virtuals × 10 reals:
// server-side render time (wall, CPU, the longest slice the event loop was
// held), size raw and gzipped, how long a small request waits while pages
// are rendered, and in headless Chromium (when installed) time to first
// contentful paint, DOMContentLoaded and load. Needs `npm run build`.
// Addresses: 127.0.146.30. Rounds: BENCH_PAGE_ROUNDS (default 5).
// `--screenshot <file.png>`: instead, a PNG of a small page of the same kind
// (the README's docs/status-page.png).
import { gzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { bigStatus } from './page-fixture.mjs';
import { renderStatusPage, pageAnswer } from '../dist/lib/status/status-page.js';
import { StateHistory } from '../dist/lib/status/state-history.js';
import { StatusListener } from '../dist/lib/status/http-listener.js';
import { Browser, haveChromium } from '../test/support/cdp-pipe.mjs';

const ROUNDS = Number(process.env.BENCH_PAGE_ROUNDS ?? 5);
const HOST = '127.0.146.30';
const PORT = 9149;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r1 = (x) => Math.round(x * 10) / 10;

/** Renders once, timing the gaps between event-loop turns: the longest is the longest slice. */
async function renderTimed(input) {
  let last = performance.now();
  let longest = 0;
  let on = true;
  const turn = () => {
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
    if (on) setImmediate(turn);
  };
  setImmediate(turn);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const html = await renderStatusPage(input);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  on = false;
  longest = Math.max(longest, performance.now() - last);
  return { html, wall, cpu: (cpu.user + cpu.system) / 1000, longest };
}

async function main() {
  const now = Date.now();
  const { doc, changes } = bigStatus(1000, 10, now);
  const history = new StateHistory(undefined, () => now);
  for (const c of changes) history.record(c);
  const input = { doc, history, secrets: new Map(), refreshSeconds: 0, now };
  const load0 = loadavg()[0];

  const renders = [];
  let html = '';
  for (let i = 0; i < ROUNDS + 1; i++) {
    const r = await renderTimed(input);
    html = r.html;
    if (i > 0) renders.push(r); // the first warms the JIT
  }
  const raw = Buffer.byteLength(html);
  const gz = gzipSync(html, { level: 6 }).length;

  // a small request while pages are rendered back to back
  const listener = new StatusListener(
    {
      status: () => '{}\n',
      metrics: async () => ({ contentType: 'text/plain', body: 'x 1\n' }),
      page: (_q, enc) => pageAnswer({ ...input, now: Date.now() }, enc),
    },
    () => undefined,
  );
  await listener.bind({ host: HOST, port: PORT, family: 4 });
  const pageTimes = [];
  const probeTimes = [];
  try {
    let busy = true;
    const pages = (async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = performance.now();
        const res = await fetch(`http://${HOST}:${PORT}/`, { headers: { 'accept-encoding': 'gzip' } });
        await res.arrayBuffer();
        pageTimes.push(performance.now() - t0);
      }
      busy = false;
    })();
    while (busy) {
      const t0 = performance.now();
      await (await fetch(`http://${HOST}:${PORT}/metrics`)).text();
      probeTimes.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
    await pages;

    const browser = haveChromium() ? await Browser.launch() : undefined;
    const paints = [];
    try {
      for (let i = 0; browser && i < Math.min(ROUNDS, 3); i++) {
        const page = await browser.newPage({ width: 1920, height: 1080 });
        const t0 = performance.now();
        await page.goto(`http://${HOST}:${PORT}/`, 180_000);
        const loadWall = performance.now() - t0;
        await page.waitFor(`performance.getEntriesByName('first-contentful-paint').length > 0`, 60_000);
        const p = await page.evaluate(`(() => { const n = performance.getEntriesByType('navigation')[0];
          return { fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime, response: n.responseEnd,
            dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, transfer: n.transferSize, rows: document.querySelectorAll('tr[data-real]').length } })()`);
        paints.push({ ...p, loadWall });
        await page.send('Page.close').catch(() => undefined);
      }
    } finally {
      await browser?.close();
    }

    const out = {
      reals: 10_000,
      render: {
        wallMs: r1(median(renders.map((r) => r.wall))),
        cpuMs: r1(median(renders.map((r) => r.cpu))),
        longestSliceMs: r1(Math.max(...renders.map((r) => r.longest))),
      },
      bytes: { html: raw, gzip: gz },
      http: {
        pageMs: r1(median(pageTimes)),
        probeMedianMs: r1(median(probeTimes)),
        probeMaxMs: r1(Math.max(...probeTimes)),
        probes: probeTimes.length,
      },
      chromium: paints.length
        ? {
            fcpMs: Math.round(median(paints.map((p) => p.fcp))),
            dclMs: Math.round(median(paints.map((p) => p.dcl))),
            loadMs: Math.round(median(paints.map((p) => p.load))),
            transfer: paints[0].transfer,
            rows: paints[0].rows,
            runs: paints.length,
          }
        : null,
      load: { start: r1(load0), end: r1(loadavg()[0]) },
    };
    console.log(`status page, 1,000 virtuals x 10 reals (${ROUNDS} rounds, load ${out.load.start} -> ${out.load.end}):`);
    console.log(
      `  render: ${out.render.wallMs} ms wall, ${out.render.cpuMs} ms CPU (medians); longest event-loop slice ${out.render.longestSliceMs} ms`,
    );
    console.log(`  size: ${raw} bytes HTML, ${gz} gzipped`);
    console.log(
      `  over HTTP (gzip): page ${out.http.pageMs} ms; a /metrics request meanwhile ${out.http.probeMedianMs} ms median, ${out.http.probeMaxMs} ms max (${out.http.probes})`,
    );
    if (out.chromium)
      console.log(
        `  Chromium: first contentful paint ${out.chromium.fcpMs} ms, DOMContentLoaded ${out.chromium.dclMs} ms, load ${out.chromium.loadMs} ms (medians of ${out.chromium.runs}); ${out.chromium.rows} rows`,
      );
    console.log(JSON.stringify(out));
  } finally {
    await listener.close();
  }
}

async function screenshot(path) {
  const now = Date.now();
  const { doc, changes } = bigStatus(8, 3, now);
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
  await listener.bind({ host: HOST, port: PORT, family: 4 });
  const browser = await Browser.launch();
  try {
    const page = await browser.newPage({ width: 1280, height: 1000 });
    await page.goto(`http://${HOST}:${PORT}/`);
    await page.screenshot(path);
  } finally {
    await browser.close();
    await listener.close();
  }
}

const shot = process.argv.indexOf('--screenshot');
if (shot > 0) await screenshot(process.argv[shot + 1]);
else await main();
