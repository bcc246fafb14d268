// A bare connect whose answer throws (a bug in the caller's result-making): the throw comes
// inside libuv's completion or the deadline's abort listener, where it would be an uncaught
// exception and end the daemon. It must reject that one connect's promise instead.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { connectBare } from '../../checks/io/bare-connect.js';

const HOST = '127.0.152.9';
const broken = (): never => {
  throw new Error('answer broke');
};

const servers: net.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listening(): Promise<number> {
  const s = net.createServer((socket) => socket.destroy());
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, HOST, resolve));
  return (s.address() as net.AddressInfo).port;
}

describe('connectBare: an answer that throws', () => {
  it('rejects the connect (accepted, refused, aborted), and nothing is left uncaught', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const port = await listening();
      await expect(connectBare(HOST, port, AbortSignal.timeout(2000), broken, undefined)).rejects.toThrow('answer broke');
      const closed = await listening();
      await new Promise((resolve) => servers.pop()!.close(resolve));
      await expect(connectBare(HOST, closed, AbortSignal.timeout(2000), broken, undefined)).rejects.toThrow('answer broke');
      // Aborted before libuv reports the connect: the abort's listener ends it.
      const controller = new AbortController();
      const pending = connectBare(HOST, closed, controller.signal, broken, undefined);
      controller.abort();
      await expect(pending).rejects.toThrow('answer broke');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
