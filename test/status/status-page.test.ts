// The status page's HTML on its own: states, problems first, escaping,
// redaction of login/passwd/secret, headers and gzip, the history strip, and
// that a page of 1,000 virtuals × 10 reals is rendered in slices.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bigStatus } from '../../bench/page-fixture.mjs';
import type { RealStatus, StatusDocument, VirtualStatus } from '../../lib/status/document.js';
import { orderVirtuals, pageState } from '../../lib/status/page-view.js';
import { StateHistory } from '../../lib/status/state-history.js';
import { esc, pageAnswer, refreshSeconds, renderStatusPage, secretsOf } from '../../lib/status/status-page.js';
import { scriptHash, SCRIPT } from '../../lib/status/page-assets.js';
import { createHash } from 'node:crypto';
import type { Config } from '../../lib/config/model.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function real(o: Partial<RealStatus> = {}): RealStatus {
  return {
    address: '10.0.0.1:80',
    forward: 'masq',
    weight: 1,
    state: 'up',
    ipvsWeight: 1,
    lastCheck: { ok: true, message: '200 OK', at: new Date(NOW - 1000).toISOString(), durationMs: 3 },
    failCount: 0,
    successCount: 0,
    lastChange: new Date(NOW - 60_000).toISOString(),
    secondsSinceChange: 60,
    slowstart: null,
    ...o,
  };
}

function virtual(o: Partial<VirtualStatus> = {}): VirtualStatus {
  return {
    id: 'tcp:192.0.2.1:80',
    name: '192.0.2.1:80',
    protocol: 'tcp',
    scheduler: 'wrr',
    service: 'http',
    checktype: 'negotiate',
    checkinterval: 5,
    failurecount: 3,
    successcount: 2,
    slowstart: 0,
    quiescent: false,
    inTable: true,
    fallback: null,
    reals: [real()],
    ...o,
  };
}

function doc(virtuals: VirtualStatus[]): StatusDocument {
  return {
    schema: 1,
    config: '/etc/ha.d/<ld>.cf',
    daemon: {
      state: 'running',
      pid: 7,
      version: 'Linux Director v1.186-ha',
      startedAt: new Date(NOW - 2 * 3600_000).toISOString(),
      uptimeSeconds: 7200,
      reloads: { ok: 1, failed: 0 },
      ipvs: { readAt: new Date(NOW - 1000).toISOString() },
    },
    virtuals,
  };
}

const render = (d: StatusDocument, o: { history?: StateHistory; secrets?: Map<string, string[]> } = {}) =>
  renderStatusPage({ doc: d, history: o.history ?? new StateHistory(), secrets: o.secrets ?? new Map(), refreshSeconds: 5, now: NOW });

describe('page states', () => {
  it('maps the check state and counters to up, down, unknown, rising, draining', () => {
    expect(pageState(real())).toBe('up');
    expect(pageState(real({ state: 'down' }))).toBe('down');
    expect(pageState(real({ state: 'unknown' }))).toBe('unknown');
    expect(pageState(real({ state: 'down', successCount: 1 }))).toBe('rising');
    expect(pageState(real({ slowstart: { weight: 1, endsAt: '' } }))).toBe('rising');
    expect(pageState(real({ failCount: 1 }))).toBe('draining');
    expect(pageState(real({ weight: 0 }))).toBe('draining');
  });

  it('orders problems first: no real up or out of the table, then some real not up, then the rest', () => {
    const ok = virtual({ id: 'a' });
    const some = virtual({ id: 'b', reals: [real(), real({ address: '10.0.0.2:80', state: 'down' })] });
    const none = virtual({
      id: 'c',
      reals: [real({ state: 'down' })],
      fallback: { address: '127.0.0.1:80', forward: 'gate', ipvsWeight: 1 },
    });
    const out = virtual({ id: 'd', inTable: false });
    const views = orderVirtuals([ok, some, none, out]);
    expect(views.map((v) => v.v.id)).toEqual(['c', 'd', 'b', 'a']);
    expect(views[0]!.problems).toEqual(['no real up', 'fallback serving']);
    expect(views[1]!.problems).toEqual(['not in the IPVS table']);
    expect(views[2]!.reals.map((r) => r.state)).toEqual(['down', 'up']);
  });
});

describe('renderStatusPage', () => {
  it('escapes every string from the config and the reals; no markup gets through', async () => {
    const evil = '<script>alert(1)</script>"\'&';
    const html = await render(
      doc([
        virtual({
          id: `fwm:1${evil}`,
          service: evil,
          scheduler: evil,
          checktype: evil,
          reals: [real({ address: `${evil}:80`, forward: evil, lastCheck: { ok: false, message: evil, at: evil, durationMs: 2 } })],
          fallback: { address: evil, forward: evil, ipvsWeight: null },
        }),
      ]),
    );
    expect(html).not.toContain('<script>alert');
    expect(html).not.toMatch(/"'&[^a#]/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    expect(html).toContain('/etc/ha.d/&lt;ld&gt;.cf');
    // the one script is ours
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(esc('a&b<c>"d\'')).toBe('a&amp;b&lt;c&gt;&quot;d&#39;');
  });

  it('never shows the login, passwd or secret values a check message may echo', async () => {
    const config = { virtuals: [{ id: 'tcp:192.0.2.1:143', login: 'alice', passwd: 'pw', secret: '' }] } as unknown as Config;
    const secrets = secretsOf(config);
    const history = new StateHistory(undefined, () => NOW);
    history.record({
      virtual: 'tcp:192.0.2.1:143',
      real: '10.0.0.1:80',
      from: 'up',
      to: 'down',
      at: NOW - 1000,
      message: 'login as alice failed: pw wrong',
    });
    const html = await render(
      doc([
        virtual({
          id: 'tcp:192.0.2.1:143',
          reals: [real({ state: 'down', lastCheck: { ok: false, message: 'login as alice failed (pw, pwned)', at: '', durationMs: 1 } })],
        }),
      ]),
      { history, secrets },
    );
    expect(html).not.toContain('alice');
    expect(html).not.toMatch(/\bpw\b/);
    // a short value only as a word of its own
    expect(html).toContain('pwned');
    expect(html).toContain('login as (hidden) failed ((hidden), pwned)');
  });

  it('shows the daemon, counts, fallback and each real with weight, last check, latency, since and strip', async () => {
    const history = new StateHistory(undefined, () => NOW);
    history.record({
      virtual: 'tcp:192.0.2.1:80',
      real: '10.0.0.2:80',
      from: 'up',
      to: 'down',
      at: NOW - 15 * 60_000,
      message: '503 Service Unavailable',
    });
    const html = await render(
      doc([
        virtual({
          reals: [
            real(),
            real({
              address: '10.0.0.2:80',
              state: 'down',
              ipvsWeight: null,
              secondsSinceChange: 900,
              lastCheck: { ok: false, message: '503 Service Unavailable', at: '', durationMs: 1500 },
            }),
          ],
          fallback: { address: '127.0.0.1:80', forward: 'gate', ipvsWeight: null },
        }),
      ]),
      { history },
    );
    expect(html).toMatch(/<title>ldirectord: 1 down<\/title>/);
    expect(html).toContain('<b>running <small>pid 7</small></b>');
    expect(html).toContain('<b>2h 00m</b>');
    expect(html).toContain('1 up · 1 down');
    expect(html).toContain('data-fallback="standby"');
    expect(html).toMatch(
      /<tr data-real="10\.0\.0\.2:80" data-state=down>.*?1 \/ –.*?✗ 503 Service Unavailable<td class=n>1\.5 s<td class=n>15m 00s/,
    );
    // 45 minutes up, 15 down: the strip's segments in percent of the hour
    expect(html).toMatch(
      /title="last hour: 11:45:00Z up→down \(503 Service Unavailable\)"><i class=u style="width:75\.00%"><\/i><i class=d style="width:25\.00%"><\/i><\/span>/,
    );
    expect(html).toContain('<span class="h u"></span>');
    expect(html).toContain('<body data-refresh="5">');
  });

  it('renders 1,000 virtuals × 10 reals in slices, yielding to the event loop', async () => {
    const { doc: big, changes } = bigStatus(1000, 10, NOW);
    const history = new StateHistory(undefined, () => NOW);
    for (const c of changes) history.record(c);
    let turns = 0;
    let done = false;
    const tick = (): void => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const html = await render(big, { history });
    done = true;
    expect(html.match(/<tr data-real=/g)).toHaveLength(10_000);
    // other work ran between the slices: the listener stays responsive
    expect(turns).toBeGreaterThanOrEqual(10);
    expect(html.indexOf('data-state=down')).toBeLessThan(html.indexOf('data-state=up'));
  });
});

describe('pageAnswer', () => {
  it('text/html, no-store, a CSP allowing only its script; gzip when asked', async () => {
    const input = { doc: doc([virtual()]), history: new StateHistory(), secrets: new Map(), refreshSeconds: 5, now: NOW };
    const plain = await pageAnswer(input, undefined);
    expect(plain.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      vary: 'accept-encoding',
    });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-security-policy']).toContain(`script-src '${scriptHash()}'`);
    expect(scriptHash()).toBe(`sha256-${createHash('sha256').update(SCRIPT).digest('base64')}`);
    const zipped = await pageAnswer(input, 'br, gzip;q=0.8');
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
    expect((await pageAnswer(input, 'gzip;q=0')).headers['content-encoding']).toBeUndefined();
  });

  it('refreshes every ?refresh= seconds, else at the shortest checkinterval within 2..30', () => {
    const d = doc([virtual({ checkinterval: 1 }), virtual({ checkinterval: 6 })]);
    expect(refreshSeconds(new URLSearchParams(''), d)).toBe(2);
    expect(refreshSeconds(new URLSearchParams(''), doc([virtual({ checkinterval: 60 })]))).toBe(30);
    expect(refreshSeconds(new URLSearchParams('refresh=0'), d)).toBe(0);
    expect(refreshSeconds(new URLSearchParams('refresh=15'), d)).toBe(15);
    expect(refreshSeconds(new URLSearchParams('refresh=<b>'), d)).toBe(2);
  });
});
