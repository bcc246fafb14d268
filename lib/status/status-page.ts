// GET / on the statusaddress listener: the status document as one HTML page,
// problems first, with each real's last hour. Every string that comes from
// the config or a real server is escaped; check messages lose the config's
// login, passwd and secret values. Rendering yields to the event loop every
// few hundred reals, so a page of thousands keeps checks and scrapes going.
import { lazyModule } from '../../checks/lazy-module.js';
import { promisify } from 'node:util';
import type { Config } from '../config/model.js';
import type { RealStatus, RunningDaemon, StatusDocument, VirtualStatus } from './document.js';
import { contentSecurityPolicy, SCRIPT, STYLE } from './page-assets.js';
import { duration, latency, orderVirtuals, totals, type VirtualView } from './page-view.js';
import type { HistoryState, RealHistory, StateHistory } from './state-history.js';

export interface PageInput {
  readonly doc: StatusDocument;
  readonly history: StateHistory;
  /** login, passwd and secret values per virtual id: never shown. */
  readonly secrets: ReadonlyMap<string, readonly string[]>;
  /** Seconds between the page's refreshes; 0: none. */
  readonly refreshSeconds: number;
  readonly now?: number;
  readonly windowMs?: number;
}

const REALS_PER_SLICE = 400;
// node:zlib is loaded with the first gzipped page (lazy-module.ts), not by every daemon.
const zlib = lazyModule<typeof import('node:zlib')>('node:zlib');
let gzipAsync: ((data: import('node:zlib').InputType, options: import('node:zlib').ZlibOptions) => Promise<Buffer>) | undefined;
const WINDOW_MS = 3_600_000;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For text and quoted attribute values alike. */
export function esc(s: string | number): string {
  const text = String(s);
  return NEEDS_ESCAPE.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]!) : text;
}

const NEEDS_ESCAPE = /[&<>"']/;

/** The values a check's message may echo that the page must not show, per virtual id. */
export function secretsOf(config: Config): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of config.virtuals) {
    const values = [v.login, v.passwd, v.secret].filter((s) => s.length > 0);
    if (values.length > 0) out.set(v.id, values);
  }
  return out;
}

function redact(message: string, secrets: readonly string[] | undefined): string {
  if (!secrets) return message;
  let out = message;
  for (const s of secrets) {
    const quoted = s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // a short value only as a word of its own: "a" must not blank every a
    const re = s.length >= 3 ? new RegExp(quoted, 'g') : new RegExp(`(?<![\\p{L}\\p{N}])${quoted}(?![\\p{L}\\p{N}])`, 'gu');
    out = out.replace(re, '(hidden)');
  }
  return out;
}

/** `?refresh=N` (0 turns it off); else the shortest checkinterval, within 2 to 30 seconds. */
export function refreshSeconds(query: URLSearchParams, doc: StatusDocument): number {
  const asked = query.get('refresh');
  if (asked !== null && /^\d{1,4}$/.test(asked)) return Math.min(3600, Number(asked));
  const shortest = Math.min(...(doc.virtuals ?? []).map((v) => v.checkinterval), 30);
  return Math.max(2, Math.min(30, Math.ceil(shortest)));
}

export interface PageAnswer {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** The page with its headers: gzipped (off the event loop) when the client takes it. */
export async function pageAnswer(input: PageInput, acceptEncoding: string | undefined): Promise<PageAnswer> {
  const html = Buffer.from(await renderStatusPage(input));
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': contentSecurityPolicy(),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    vary: 'accept-encoding',
  };
  if (!takesGzip(acceptEncoding)) return { headers, body: html };
  return { headers: { ...headers, 'content-encoding': 'gzip' }, body: await (gzipAsync ??= promisify(zlib().gzip))(html, { level: 6 }) };
}

function takesGzip(header: string | undefined): boolean {
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (name !== 'gzip') continue;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

const clock = (ms: number): string => `${new Date(ms).toISOString().slice(11, 19)}Z`;
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function renderStatusPage(input: PageInput): Promise<string> {
  const now = input.now ?? Date.now();
  const { doc } = input;
  const views = orderVirtuals(doc.virtuals ?? []);
  const sum = totals(views);
  const out: string[] = [];
  const bad = sum.reals.down + sum.virtualsDown;
  const title = bad > 0 ? `ldirectord: ${sum.reals.down} down` : 'ldirectord: all up';
  out.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`,
    `<title>${esc(title)}</title><style>${STYLE}</style>`,
    input.refreshSeconds > 0 ? `<noscript><meta http-equiv="refresh" content="${input.refreshSeconds}"></noscript>` : '',
    `</head><body data-refresh="${input.refreshSeconds}"><div id="stale">The daemon does not answer: what is shown is not current.</div><main>`,
    header(doc, sum, now),
  );
  let sinceYield = 0;
  for (const view of views) {
    out.push(virtualSection(view, input, now));
    sinceYield += view.reals.length + 1;
    if (sinceYield >= REALS_PER_SLICE) {
      sinceYield = 0;
      await yieldToLoop();
    }
  }
  if (views.length === 0) out.push('<p class="m">No virtual services are configured.</p>');
  out.push(
    `<footer>Rendered ${esc(new Date(now).toISOString())} · config ${esc(doc.config)} · `,
    `<a href="/status.json">/status.json</a> the status document (JSON) · <a href="/metrics">/metrics</a> Prometheus metrics</footer>`,
    `</main><script>${SCRIPT}</script></body></html>\n`,
  );
  return out.join('');
}

function isRunning(d: StatusDocument['daemon']): d is RunningDaemon {
  return typeof (d as { pid?: unknown }).pid === 'number';
}

function tile(label: string, value: string, isBad = false, id = ''): string {
  return `<div class="t${isBad ? ' bad' : ''}"${id ? ` id="${id}"` : ''}><small>${label}</small><b>${value}</b></div>`;
}

function header(doc: StatusDocument, sum: ReturnType<typeof totals>, now: number): string {
  const d = doc.daemon;
  const tiles: string[] = [];
  const running = isRunning(d) ? d : undefined;
  if (running) {
    tiles.push(tile('daemon', `${esc(running.state)} <small>pid ${esc(running.pid)}</small>`, running.state !== 'running', 'daemon'));
    if (running.uptimeSeconds !== undefined) tiles.push(tile('uptime', esc(duration(running.uptimeSeconds)), false, 'uptime'));
    if (running.reloads) {
      const r = running.reloads;
      const last = r.lastAt ? ` <small>last ${esc(duration((now - Date.parse(r.lastAt)) / 1000))} ago</small>` : ' <small>none yet</small>';
      tiles.push(tile('reloads', `${r.ok} ok · ${r.failed} failed${last}`, r.failed > 0, 'reloads'));
    }
    if (running.ipvs) {
      const i = running.ipvs;
      const read = i.readAt ? ` <small>read ${esc(duration((now - Date.parse(i.readAt)) / 1000))} ago</small>` : '';
      tiles.push(tile('IPVS', i.error ? esc(i.error) : `ok${read}`, Boolean(i.error), 'ipvs'));
    }
  }
  tiles.push(
    tile(
      'virtuals',
      `${sum.virtuals}${sum.virtualsDown > 0 ? ` · ${sum.virtualsDown} with no real up` : ''}`,
      sum.virtualsDown > 0,
      'virtuals',
    ),
  );
  const r = sum.reals;
  const parts = [
    `${r.up} up`,
    r.down ? `${r.down} down` : '',
    r.draining ? `${r.draining} draining` : '',
    r.rising ? `${r.rising} rising` : '',
    r.unknown ? `${r.unknown} unknown` : '',
  ];
  tiles.push(tile('reals', parts.filter(Boolean).join(' · '), r.down > 0, 'reals'));
  if (sum.fallbacksServing > 0) tiles.push(tile('fallbacks', `${sum.fallbacksServing} serving`, true, 'fallbacks'));
  const version = running?.version ? `<small>${esc(running.version)}</small>` : '';
  return `<header class="top"><h1>ldirectord ${version}</h1>${tiles.join('')}</header>${doc.error ? `<p class="p">${esc(doc.error)}</p>` : ''}`;
}

function virtualSection(view: VirtualView, input: PageInput, now: number): string {
  const v = view.v;
  const secrets = input.secrets.get(v.id);
  const what = `${esc(v.service)} · ${esc(v.scheduler)} · ${esc(v.checktype)} every ${v.checkinterval}s`;
  const problems = view.problems.map((p) => `<span class="p">${esc(p)}</span>`).join('');
  const rows = view.reals.map(({ r, state }) => realRow(v, r, state, input, secrets, now)).join('');
  const table =
    v.reals.length > 0
      ? `<table><thead><tr><th>Real</th><th>State</th><th>Weight <small>config / kernel</small></th><th>Last check</th><th>Latency</th><th>Since</th><th>Last hour</th></tr></thead><tbody>${rows}</tbody></table>`
      : '<p class="m">No reals configured.</p>';
  return `<section class="v r${view.rank}" data-virtual="${esc(v.id)}"><h2><span>${esc(v.id)}</span><small>${what}</small>${problems}</h2>${table}${fallback(v, view.fallbackServing)}</section>`;
}

function fallback(v: VirtualStatus, serving: boolean): string {
  if (!v.fallback) return '';
  const f = v.fallback;
  const state = serving
    ? `<b class="p">serving</b>, weight ${f.ipvsWeight}`
    : f.ipvsWeight === null
      ? 'standby (not in the table)'
      : 'standby (weight 0)';
  return `<p class="fb" data-fallback="${serving ? 'serving' : 'standby'}">Fallback ${esc(f.address)} <small>${esc(f.forward)}</small>: ${state}</p>`;
}

function realRow(
  v: VirtualStatus,
  r: RealStatus,
  state: string,
  input: PageInput,
  secrets: readonly string[] | undefined,
  now: number,
): string {
  const note =
    r.slowstart !== null
      ? ` <small>ramp ${r.slowstart.weight}→${r.weight}</small>`
      : r.state === 'up' && r.failCount > 0
        ? ` <small>${r.failCount}/${v.failurecount} failed</small>`
        : r.state !== 'up' && r.successCount > 0
          ? ` <small>${r.successCount}/${v.successcount} passed</small>`
          : '';
  const c = r.lastCheck;
  let check = '<td class="ck m">not checked yet<td class=n>';
  if (c) {
    const message = esc(redact(c.message, secrets));
    // the whole message on hover where the column cuts it
    const title = c.message.length > 40 ? ` title="${message}"` : '';
    check = `<td class="ck${c.ok ? '' : ' bad-check'}"${title}>${c.ok ? '✓' : '✗'} ${message}<td class=n>${latency(c.durationMs)}`;
  }
  const kernel = r.ipvsWeight === null ? '–' : String(r.ipvsWeight);
  const strip = historyStrip(input.history.of(v.id, r.address, now), r.state, input, secrets, now);
  // end tags of cells and rows are optional in HTML: on a page of thousands of rows they are a good share of the bytes
  return (
    `<tr data-real="${esc(r.address)}" data-state=${state}><td class=a>${esc(r.address)} <small>${esc(r.forward)}</small>` +
    `<td><b class="s s-${state}">${state}</b>${note}<td class=n>${r.weight} / ${kernel}${check}` +
    `<td class=n>${duration(r.secondsSinceChange)}<td class=hs>${strip}`
  );
}

const STRIP_CLASS: Record<HistoryState, string> = { up: 'u', down: 'd', unknown: 'k' };

/** The last hour as coloured segments; before the daemon's start, blank. */
function historyStrip(
  h: RealHistory,
  current: HistoryState,
  input: PageInput,
  secrets: readonly string[] | undefined,
  now: number,
): string {
  const windowMs = input.windowMs ?? WINDOW_MS;
  const from = now - windowMs;
  const started = startedAt(input.doc) ?? from;
  const ts = h.transitions;
  // the common case: no change within the hour, one colour
  if (ts.length === 0 && started <= from) return `<span class="h ${STRIP_CLASS[current]}"></span>`;
  let at = Math.max(from, Math.min(started, ts[0]?.at ?? now));
  const parts: string[] = [];
  const pct = (ms: number): string => ((ms / windowMs) * 100).toFixed(2);
  if (at > from) parts.push(`<i style="width:${pct(at - from)}%"></i>`);
  let state: HistoryState = ts[0]?.from ?? current;
  const first = ts[0];
  if (h.truncated && first) {
    parts.push(`<i class=x style="width:${pct(first.at - at)}%"></i>`);
    at = first.at;
  }
  const segment = (until: number): void => {
    const ms = Math.max(0, until - at);
    // a blip of a few seconds stays visible
    const width = state === 'up' ? ms : Math.max(ms, windowMs * 0.004);
    if (ms > 0 || state !== 'up') parts.push(`<i class=${STRIP_CLASS[state]} style="width:${pct(width)}%"></i>`);
  };
  for (const t of ts) {
    segment(Math.max(t.at, from));
    at = Math.max(t.at, from);
    state = t.to;
  }
  state = current;
  segment(now);
  const changes = ts.slice(-8).map((t) => `${clock(t.at)} ${t.from}→${t.to}${t.message ? ` (${redact(t.message, secrets)})` : ''}`);
  const label =
    changes.length > 0
      ? `last hour: ${changes.join('; ')}${ts.length > 8 ? `; ${ts.length - 8} earlier` : ''}`
      : `since the start: ${current}`;
  return `<span class=h title="${esc(label)}">${parts.join('')}</span>`;
}

const started = new WeakMap<StatusDocument, number | undefined>();

function startedAt(doc: StatusDocument): number | undefined {
  if (started.has(doc)) return started.get(doc);
  const d = doc.daemon as { readonly startedAt?: string };
  const at = d.startedAt ? Date.parse(d.startedAt) : undefined;
  started.set(doc, at);
  return at;
}
