// GET / on the statusaddress listener when it has the page: the page's
// headers and body, HEAD, gzip on the wire; over real HTTP on 127.0.146.20.
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { StatusListener } from '../../lib/status/http-listener.js';
import { StateHistory } from '../../lib/status/state-history.js';
import { pageAnswer, refreshSeconds } from '../../lib/status/status-page.js';
import type { StatusDocument } from '../../lib/status/document.js';

const A = { host: '127.0.146.20', port: 9148, family: 4 as const };
const DOC: StatusDocument = { schema: 1, config: '/etc/ha.d/ldirectord.cf', daemon: { state: 'running', pid: 1 }, virtuals: [] };

const listener = new StatusListener(
  {
    status: () => '{}\n',
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    page: (query, enc) =>
      pageAnswer({ doc: DOC, history: new StateHistory(), secrets: new Map(), refreshSeconds: refreshSeconds(query, DOC) }, enc),
  },
  () => undefined,
);
afterAll(() => listener.close());

function get(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: A.host, port: A.port, path, method, headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req
      .on('error', reject)
      .on('timeout', () => req.destroy(new Error('timeout')))
      .end();
  });
}

describe('GET / with the page', () => {
  it('serves the HTML page with its headers; HEAD without the body; gzip when asked; ?refresh=', async () => {
    await listener.bind(A);
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    const html = r.body.toString();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('No virtual services are configured.');
    expect(html).toContain('<body data-refresh="30">');
    const head = await get('/', {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(r.body.length), 0]);
    const z = await get('/?refresh=7', { 'accept-encoding': 'gzip' });
    expect(z.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(z.body).toString()).toContain('<body data-refresh="7">');
    // the other routes are as they were
    expect((await get('/status')).body.toString()).toBe('{}\n');
  });
});
