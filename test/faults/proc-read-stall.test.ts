// A /proc/net/ip_vs read that never answers (here a FIFO without a writer: its open blocks
// in libuv's thread pool, as a stuck file system would). The drift check must give it up,
// repair from a full ipvsadm read, and not start a new stuck read at every check: the pool
// has four threads, shared with every file, DNS and crypto call of the process.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { closeHarnesses, running, waitFor } from '../daemon/helpers/director-harness.js';
import { NAT, RIGHT } from '../daemon/helpers/proc-drift-config.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * After eight drift checks (enough stuck reads to take all four pool threads if each
 * started one): a file call still answers, and a real deleted by hand comes back from a
 * full read.
 */
async function expectPoolFreeAndDriftRepaired(h: Awaited<ReturnType<typeof running>>, inDir: string): Promise<void> {
  await sleep(8000);
  const t0 = Date.now();
  await Promise.race([stat(inDir), sleep(3000).then(() => Promise.reject(new Error('a file call waited 3 s: the thread pool is taken')))]);
  expect(Date.now() - t0).toBeLessThan(3000);
  h.fake.sh('-d', '-t', '192.0.2.1:80', '-r', '127.0.0.3:80');
  await waitFor(() => h.table().includes(RIGHT[2]!), 8000);
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) {
    // A writer lets every blocked open through; closing it gives them EOF.
    const fd = openSync(path.join(dir, 'ip_vs'), constants.O_RDWR | constants.O_NONBLOCK);
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  }
  await closeHarnesses();
});

it('a /proc read that hangs: drift still repaired from full reads, and the thread pool stays usable', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'proc-stall-'));
  const fifo = path.join(dir, 'ip_vs');
  execFileSync('mkfifo', [fifo]);
  await expectPoolFreeAndDriftRepaired(await running(NAT, ['127.0.0.2:80', '127.0.0.3:80'], { proc: fifo }), dir);
}, 30_000);

it('a /proc read that stops halfway through the file: given up, repaired from full reads, no second read meanwhile', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'proc-stall-'));
  const fifo = path.join(dir, 'ip_vs');
  execFileSync('mkfifo', [fifo]);
  // A writer that never closes: a read gets the column titles and one service, then waits.
  const writer = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    writeSync(
      writer,
      'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  C0000201:0050 wrr\n',
    );
    await expectPoolFreeAndDriftRepaired(await running(NAT, ['127.0.0.2:80', '127.0.0.3:80'], { proc: fifo }), dir);
  } finally {
    closeSync(writer);
  }
}, 30_000);
