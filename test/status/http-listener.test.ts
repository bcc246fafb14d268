// The statusaddress listener on its own, over real HTTP on 127.0.81.x: routes,
// methods, rebinding on a changed address, a bind failure logged not thrown.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusListener } from '../../lib/status/http-listener.js';
import type { StatusAddress } from '../../lib/config/model.js';

const A: StatusAddress = { host: '127.0.81.1', port: 9111, family: 4 };
const B: StatusAddress = { host: '127.0.81.2', port: 9111, family: 4 };

const listeners: StatusListener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) await l.close();
});

function listener(logs: string[] = []): StatusListener {
  let scrapes = 0;
  const l = new StatusListener(
    {
      status: () => '{"schema":1}\n',
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: `scrapes ${++scrapes}\n` }),
    },
    (m) => logs.push(m),
  );
  listeners.push(l);
  return l;
}

const request = (a: StatusAddress, path: string, method = 'GET') =>
  fetch(`http://${a.host}:${a.port}${path}`, { method, signal: AbortSignal.timeout(3000) });

describe('StatusListener', () => {
  it('serves /status, /status.json, /metrics and an index; 404 and 405 otherwise', async () => {
    const logs: string[] = [];
    const l = listener(logs);
    await l.bind(A);
    expect(l.address).toBe('127.0.81.1:9111');
    expect(logs).toEqual(['status listener: serving /status and /metrics on http://127.0.81.1:9111/']);
    for (const p of ['/status', '/status.json', '/status?pretty']) {
      const r = await request(A, p);
      expect([r.status, r.headers.get('content-type'), await r.text()]).toEqual([200, 'application/json; charset=utf-8', '{"schema":1}\n']);
    }
    const m = await request(A, '/metrics');
    expect([m.status, await m.text()]).toEqual([200, 'scrapes 1\n']);
    expect(await (await request(A, '/')).text()).toMatch(/\/metrics +Prometheus metrics/);
    const head = await request(A, '/status', 'HEAD');
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, '13', '']);
    expect((await request(A, '/etc/passwd')).status).toBe(404);
    const post = await request(A, '/status', 'POST');
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('follows the address: same is a no-op, a new one rebinds, none closes', async () => {
    const logs: string[] = [];
    const l = listener(logs);
    await l.bind(A);
    await l.bind({ ...A });
    expect(logs).toHaveLength(1);
    await l.bind(B);
    expect((await request(B, '/status')).status).toBe(200);
    await expect(request(A, '/status')).rejects.toThrow();
    await l.bind(undefined);
    await expect(request(B, '/status')).rejects.toThrow();
    expect(logs.slice(1)).toEqual([
      'status listener on 127.0.81.1:9111 closed',
      'status listener: serving /status and /metrics on http://127.0.81.2:9111/',
      'status listener on 127.0.81.2:9111 closed',
    ]);
  });

  it('an address in use, or not on this host, is logged; binding again later works', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(A.port, A.host, r));
    const logs: string[] = [];
    const l = listener(logs);
    try {
      await l.bind(A);
      expect(l.address).toBeUndefined();
      await l.bind({ host: '192.0.2.1', port: 9111, family: 4 });
      expect(logs).toEqual([
        'status listener: cannot listen on 127.0.81.1:9111: EADDRINUSE (the daemon runs on without it)',
        'status listener: cannot listen on 192.0.2.1:9111: EADDRNOTAVAIL (the daemon runs on without it)',
      ]);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    await l.bind(A);
    expect((await request(A, '/status')).status).toBe(200);
  });
});
