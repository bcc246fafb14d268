// The change-detection digest: the same content gives the same number however it is fed,
// and a change of one byte (or one character) in place always gives another.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContentDigest, digestText } from '../lib/content-digest.js';
import { digestOf, mixBytes, newLanes } from '../lib/ipvs/service-digest.js';

const ofBytes = (b: Uint8Array): number => new ContentDigest().update(b).digest();

describe('ContentDigest', () => {
  it('is a safe integer of at most 53 bits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const d = ofBytes(b);
        expect(Number.isSafeInteger(d) && d >= 0).toBe(true);
      }),
    );
  });

  it('the same bytes give the same digest whole or in any chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cutsAt) => {
        const cuts = [...new Set(cutsAt.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
        const chunked = new ContentDigest();
        let from = 0;
        for (const to of [...cuts, bytes.length]) {
          chunked.update(bytes, from, to);
          from = to;
        }
        expect(chunked.digest()).toBe(ofBytes(bytes));
        // a window into a larger buffer, as proc-table's reads hand it over
        const big = new Uint8Array(bytes.length + 10).fill(0x55);
        big.set(bytes, 5);
        expect(new ContentDigest().update(big, 5, 5 + bytes.length).digest()).toBe(ofBytes(bytes));
      }),
    );
  });

  it('the same text gives the same digest whole or in pieces', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat(), (text, at) => {
        const cut = at % (text.length + 1);
        expect(new ContentDigest().updateText(text.slice(0, cut)).updateText(text.slice(cut)).digest()).toBe(digestText(text));
      }),
    );
  });

  it('any one byte changed changes it, wherever it is (the last one too)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, delta) => {
        const changed = Uint8Array.from(bytes);
        const i = at % bytes.length;
        changed[i] = (changed[i]! + delta) & 255;
        expect(ofBytes(changed)).not.toBe(ofBytes(bytes));
      }),
    );
    const text = 'checkinterval=5\nvirtual=192.0.2.1:80\n';
    for (let i = 0; i < text.length; i++) {
      const changed = `${text.slice(0, i)}${String.fromCharCode(text.charCodeAt(i) ^ 1)}${text.slice(i + 1)}`;
      expect(digestText(changed), `character ${i}`).not.toBe(digestText(text));
    }
  });

  it('text agrees with its bytes where each character is one byte', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const latin1 = s.replace(/[^\0-\xff]/g, '?');
        expect(digestText(latin1)).toBe(ofBytes(Buffer.from(latin1, 'latin1')));
      }),
    );
  });

  it("is the digest a service's listing lines get (service-digest.ts)", () => {
    const line = Buffer.from('TCP  192.0.2.1:80 wrr');
    const lanes = newLanes();
    mixBytes(lanes, line, 0, line.length, false);
    expect(digestOf(lanes)).toBe(ofBytes(Buffer.from('TCP  192.0.2.1:80 wrr\n')));
  });
});
