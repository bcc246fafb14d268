// A burst of lines (every real of a large config added at start) is written in batches of
// about 64 KiB, in order, and the queue's bound counts only what is still queued.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendFile } from '../../lib/log/append-file.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const line = (i: number): string => `line ${String(i).padStart(6, '0')} ${'x'.repeat(90)}\n`;

describe('AppendFile', () => {
  it('writes a burst far larger than a batch whole and in order, with lines appended meanwhile after it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'append-file-'));
    const errors: string[] = [];
    const f = new AppendFile(join(dir, 'log'), { onWriteError: (t) => errors.push(t) });
    for (let i = 0; i < 10_000; i++) f.append(line(i));
    await Promise.resolve();
    for (let i = 10_000; i < 10_010; i++) f.append(line(i));
    await f.close();
    expect(errors).toEqual([]);
    const lines = readFileSync(join(dir, 'log'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(10_010);
    expect(lines.every((l, i) => `${l}\n` === line(i))).toBe(true);
  });

  it('counts against its bound only what is still queued', async () => {
    dir = mkdtempSync(join(tmpdir(), 'append-file-'));
    const errors: string[] = [];
    // room for 3,000 lines: two bursts of 2,000 fit only if the first one's batches were taken off
    const f = new AppendFile(join(dir, 'log'), { onWriteError: (t) => errors.push(t), maxQueuedBytes: 3_000 * line(0).length });
    for (let i = 0; i < 2_000; i++) f.append(line(i));
    await f.flush();
    for (let i = 2_000; i < 4_000; i++) f.append(line(i));
    await f.close();
    expect(errors).toEqual([]);
    expect(readFileSync(join(dir, 'log'), 'utf8').split('\n')).toHaveLength(4_001);
  });
});
