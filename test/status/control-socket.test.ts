// The control socket on its own: 0600 from the start, a dead daemon's socket
// file replaced, a live one left alone, and only its own file removed.
import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlSocket } from '../../lib/status/control-socket.js';
import { askDaemon } from '../../lib/status/control-client.js';

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function socketPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'ldts-sock-'));
  dirs.push(d);
  return join(d, 'ldirectord.test.cf.sock');
}

async function open(path: string, logs: string[] = []): Promise<ControlSocket | undefined> {
  const s = await ControlSocket.open(
    path,
    (req) => `${JSON.stringify({ got: req })}\n`,
    (m) => logs.push(m),
  );
  if (s) closers.push(() => s.close());
  return s;
}

describe('ControlSocket', () => {
  it('answers one request line, mode 0600', async () => {
    const path = socketPath();
    expect(await open(path)).toBeDefined();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await askDaemon(path, 'status'))).toEqual({ got: 'status' });
  });

  it('replaces a socket file that nobody answers (a daemon that died)', async () => {
    const path = socketPath();
    // what a killed daemon leaves: a socket file nobody listens on
    const child = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(path)).toBe(true);
    const logs: string[] = [];
    expect(await open(path, logs)).toBeDefined();
    expect(logs).toEqual([]);
    expect(JSON.parse(await askDaemon(path, 'status'))).toEqual({ got: 'status' });
  });

  it('leaves a live socket alone and says so in the log', async () => {
    const path = socketPath();
    const live = net.createServer((c) =>
      c
        .on('error', () => undefined)
        .resume()
        .end('live\n'),
    );
    await new Promise<void>((r) => live.listen(path, r));
    closers.push(() => new Promise((r) => live.close(() => r())));
    const logs: string[] = [];
    expect(await open(path, logs)).toBeUndefined();
    expect(logs).toEqual([`control socket ${path} not available (status --json will not see this daemon): in use by another process`]);
    expect(await askDaemon(path, 'status')).toBe('live\n');
  });

  it('close removes its own file, not one that replaced it', async () => {
    const path = socketPath();
    const s = (await open(path))!;
    await s.close();
    expect(existsSync(path)).toBe(false);
    const t = (await open(path))!;
    unlinkSync(path);
    writeFileSync(path, 'someone else\n');
    await t.close();
    expect(existsSync(path)).toBe(true);
  });

  it('the client reports a missing socket and a silent peer', async () => {
    const path = socketPath();
    await expect(askDaemon(path, 'status')).rejects.toThrow(/ENOENT/);
    const mute = net.createServer((c) => c.on('error', () => undefined).resume());
    await new Promise<void>((r) => mute.listen(path, r));
    closers.push(
      () =>
        new Promise((r) => {
          mute.close(() => r());
        }),
    );
    await expect(askDaemon(path, 'status', 300)).rejects.toThrow(/no answer .* within 0\.3 s/);
  });

  it('the client asks again when a crowded daemon drops it unanswered, within its time', async () => {
    const path = socketPath();
    let seen = 0;
    // drops the first two connections as a daemon making room would, answers the third
    const crowded = net.createServer((c) => {
      c.on('error', () => undefined).resume();
      if (++seen <= 2) c.destroy();
      else c.end('answer\n');
    });
    await new Promise<void>((r) => crowded.listen(path, r));
    closers.push(
      () =>
        new Promise((r) => {
          crowded.close(() => r());
        }),
    );
    expect(await askDaemon(path, 'status')).toBe('answer\n');
    expect(seen).toBe(3);
    seen = -1_000_000;
    await expect(askDaemon(path, 'status', 300)).rejects.toThrow(/closed the connection without an answer/);
  });
});
