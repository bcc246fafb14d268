// The instance lock's SHA-256 in plain JavaScript: node:crypto's answer for every length
// around the padding's block boundaries, and so the same lock name as before, which a
// `start` or `stop` of another version looks the daemon up by.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockName } from '../../lib/daemon/instance-lock.js';
import { sha256Hex } from '../../lib/daemon/sha256.js';

const reference = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('sha256Hex', () => {
  it("is the standard's digest of its test vectors", () => {
    expect(sha256Hex(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it("is node:crypto's for every length up to four blocks, and a long one", () => {
    for (let n = 0; n <= 260; n++) {
      const b = randomBytes(n);
      expect(sha256Hex(b), `${n} bytes`).toBe(reference(b));
    }
    const long = randomBytes(100_000);
    expect(sha256Hex(long)).toBe(reference(long));
  });
});

describe('lockName', () => {
  it('is the name node:crypto made: directory device and inode, file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-name-'));
    try {
      const st = statSync(dir, { bigint: true });
      for (const file of ['ldirectord.ldirectord.cf.pid', 'ünïcødé.cf', 'x']) {
        const key = `${st.dev}:${st.ino}\0${file}`;
        expect(lockName(join(dir, file))).toBe(`\0ldirectord-ts/${reference(Buffer.from(key, 'utf8')).slice(0, 40)}`);
      }
      // a directory that cannot be examined: its path stands in
      const gone = join(dir, 'gone');
      expect(lockName(join(gone, 'a.pid'))).toBe(`\0ldirectord-ts/${reference(Buffer.from(`${gone}\0a.pid`, 'utf8')).slice(0, 40)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
