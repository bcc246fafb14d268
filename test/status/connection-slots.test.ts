// ConnectionSlots on real loopback sockets: at the cap a newcomer takes the
// oldest idle connection's slot, else a stalled answer's, else it is refused;
// deadlines close idle and unread connections. Addresses: 127.0.133.10.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionSlots, type SlotLimits } from '../../lib/status/connection-slots.js';

const HOST = '127.0.133.10';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A server whose accepted sockets go to `slots`, and a way to connect clients to it. */
async function serve(limits: SlotLimits) {
  const slots = new ConnectionSlots(limits);
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    slots.admit(s);
    accepted.push(s);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  cleanups.push(() => {
    for (const c of clients) c.destroy();
    slots.destroyAll();
    server.close();
  });
  const connect = async (): Promise<{ client: net.Socket; server: net.Socket; closed: Promise<void> }> => {
    const n = accepted.length;
    const client = net.connect(port, HOST).on('error', () => undefined);
    clients.push(client);
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    while (accepted.length === n) await new Promise((r) => setTimeout(r, 5));
    return { client, server: accepted[n]!, closed };
  };
  return { slots, connect };
}

const LONG = { requestMs: 60_000, answerMs: 60_000, stalledMs: 60_000 };

describe('ConnectionSlots', () => {
  it('at the cap, the oldest idle connection makes room; busy ones are kept', async () => {
    const { slots, connect } = await serve({ max: 3, ...LONG });
    const a = await connect();
    const b = await connect();
    const c = await connect();
    slots.busy(a.server);
    const d = await connect();
    await b.closed; // the oldest idle one
    expect([a.server.destroyed, c.server.destroyed, d.server.destroyed]).toEqual([false, false, false]);
    expect(slots.size).toBe(3);
    // an answered connection goes to the back of the line
    slots.done(a.server);
    await connect();
    await c.closed;
    expect(a.server.destroyed).toBe(false);
  });

  it('with every slot answering, a stalled answer makes room, a young one does not', async () => {
    const { slots, connect } = await serve({ max: 1, ...LONG, stalledMs: 300 });
    const a = await connect();
    slots.busy(a.server);
    const young = await connect();
    await young.closed; // refused: a's answer is young
    expect(a.server.destroyed).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    const b = await connect();
    await a.closed;
    expect(b.server.destroyed).toBe(false);
  });

  it('closes a connection without a request, and one whose answer is not read, at their deadlines', async () => {
    const { slots, connect } = await serve({ max: 8, requestMs: 200, answerMs: 400, stalledMs: 60_000 });
    const t0 = Date.now();
    const idle = await connect();
    const reader = await connect();
    slots.busy(reader.server);
    await idle.closed;
    const idleMs = Date.now() - t0;
    await reader.closed;
    expect(idleMs).toBeGreaterThanOrEqual(150);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    // the slots are released once the daemon's side has closed too
    for (let i = 0; i < 100 && slots.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(slots.size).toBe(0);
  });
});
