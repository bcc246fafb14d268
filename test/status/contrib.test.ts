// contrib/prometheus/alerts.yml and contrib/grafana/ldirectord.json, checked
// by what reads them: promtool checks the rules and runs their unit tests
// (alerts.test.yml) and parses every dashboard query; every metric either
// names is one the daemon exports (read from its own registry).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DaemonMetrics } from '../../lib/status/metrics.js';
import type { StatusDocument } from '../../lib/status/document.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const RULES = join(ROOT, 'contrib/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'contrib/prometheus/alerts.test.yml');
const DASHBOARD = join(ROOT, 'contrib/grafana/ldirectord.json');

const havePromtool = (await execa('promtool', ['--version'], { reject: false })).exitCode === 0;
if (process.env.CI && !havePromtool)
  it('has promtool (required in CI)', () => expect.fail('promtool is not installed (.ci/install.d/80-status-page.sh)'));

/** What the daemon's /metrics has: each metric, histograms with their series' suffixes, and Prometheus's own `up`. */
async function exported(): Promise<Set<string>> {
  const doc: StatusDocument = { schema: 1, config: '', daemon: { state: 'running', pid: 1 }, virtuals: [] };
  const m = new DaemonMetrics(() => doc);
  const names = new Set<string>(['up']);
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s);
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers not followed by `(`, not label names, keywords or strings. */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const words = [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]!);
  const grouping = new Set<string>();
  for (const g of bare.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g))
    for (const l of g[1]!.split(',')) grouping.add(l.trim());
  const keywords = new Set([
    'and',
    'or',
    'unless',
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'bool',
    'offset',
    // aggregations, which may take their grouping before the parenthesis
    'sum',
    'count',
    'avg',
    'min',
    'max',
    'group',
    'stddev',
    'stdvar',
    'topk',
    'bottomk',
    'quantile',
    'count_values',
  ]);
  return words.filter((w) => !keywords.has(w) && !grouping.has(w) && !/^\d/.test(w));
}

function dashboardExprs(): { title: string; expr: string }[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  return d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
}

describe('contrib/grafana/ldirectord.json', () => {
  it('is a dashboard Grafana imports: title, uid, a Prometheus input, panels with ids, positions and queries', () => {
    const d = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
    expect(d).toMatchObject({
      title: 'ldirectord',
      uid: 'ldirectord-ts',
      __inputs: [{ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }],
    });
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = d.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos, p.title).toMatchObject({
        h: expect.any(Number),
        w: expect.any(Number),
        x: expect.any(Number),
        y: expect.any(Number),
      });
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    const types = new Set(d.panels.map((p: { type: string }) => p.type));
    for (const t of ['heatmap', 'state-timeline', 'timeseries', 'stat']) expect(types).toContain(t);
  });

  it('every query names only metrics the daemon exports', async () => {
    const have = await exported();
    for (const { title, expr } of dashboardExprs()) {
      const names = metricsIn(expr);
      expect(names.length, `${title}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) expect(have, `${title}: ${n} in ${expr}`).toContain(n);
    }
    const vars = JSON.parse(readFileSync(DASHBOARD, 'utf8')).templating.list as { definition: string }[];
    for (const v of vars) for (const n of metricsIn(v.definition.replace(/^label_values\((.*),\s*\w+\)$/, '$1'))) expect(have).toContain(n);
  });

  it.skipIf(!havePromtool)('every query is PromQL promtool parses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldirectord-dash-'));
    try {
      const rules = dashboardExprs().map(({ expr }, i) => {
        const concrete = expr.replace(/\$__rate_interval/g, '5m').replace(/\$\w+/g, '.*');
        return `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(concrete)}\n`;
      });
      writeFileSync(join(dir, 'dashboard.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
      const r = await execa('promtool', ['check', 'rules', join(dir, 'dashboard.yml')], { reject: false });
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('contrib/prometheus/alerts.yml', () => {
  it.skipIf(!havePromtool)('promtool check rules: valid', async () => {
    const r = await execa('promtool', ['check', 'rules', RULES], { reject: false });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(String(r.stdout)).toMatch(/SUCCESS: 7 rules found/);
  });

  it.skipIf(!havePromtool)('promtool test rules: each alert fires when it should', async () => {
    const r = await execa('promtool', ['test', 'rules', RULE_TESTS], { reject: false, cwd: join(ROOT, 'contrib/prometheus') });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('names only metrics the daemon exports; covers the alerts the page shows', async () => {
    const have = await exported();
    const text = readFileSync(RULES, 'utf8');
    const exprs = [...text.matchAll(/^\s+expr: (?:\|\n((?:\s{10}.*\n)+)|(.*))$/gm)].map((m) => (m[1] ?? m[2]!).trim());
    expect(exprs).toHaveLength(7);
    for (const e of exprs) for (const n of metricsIn(e)) expect(have, `${n} in ${e}`).toContain(n);
    for (const a of [
      'LdirectordRealDown',
      'LdirectordVirtualNoRealUp',
      'LdirectordFallbackServing',
      'LdirectordIpvsConvergenceFailing',
      'LdirectordReloadFailing',
    ])
      expect(text).toContain(`alert: ${a}`);
  });
});
