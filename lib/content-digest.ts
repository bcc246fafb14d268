// A digest for telling whether content has changed: the config file against the one the
// daemon runs with, /proc's table against the one last found right, a service's listing
// lines against their last reading. None of these needs a cryptographic hash, which would
// take node:crypto into every daemon for nothing else.
//
// Two independent 32-bit FNV-1a lanes make a 53-bit number, which compares with ===. A
// change that leaves it equal is a 1 in 2^53 chance per change, and costs at most that the
// change waits for the next one. A change of one byte (or one code unit) in place always
// changes it: each step of a lane maps distinct inputs to distinct states, and every later
// step keeps states distinct.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// The second lane starts elsewhere and multiplies by another odd constant (MurmurHash2's).
const LANE2_OFFSET = 0x9747b28c;
const LANE2_PRIME = 0x5bd1e995;

/** The digest of two lanes: all of the first, the high 21 bits of the second. */
const digestOfLanes = (a: number, b: number): number => (a >>> 0) * 2 ** 21 + (b >>> 11);

/**
 * A running digest. The same content gives the same digest however it is cut into
 * update() calls. Text is taken a UTF-16 code unit at a time: it agrees with the bytes
 * of the same text only where each character is one byte (ASCII, Latin-1), so content
 * compared with content must come the same way each time (always as text, or always as
 * bytes).
 */
export class ContentDigest {
  private a = FNV_OFFSET;
  private b = LANE2_OFFSET;

  /** bytes[start, end) */
  update(bytes: Uint8Array, start = 0, end = bytes.length): this {
    let a = this.a;
    let b = this.b;
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      a = Math.imul(a ^ c, FNV_PRIME);
      b = Math.imul(b ^ c, LANE2_PRIME);
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** text[0, end) */
  updateText(text: string, end = text.length): this {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < end; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, FNV_PRIME);
      b = Math.imul(b ^ c, LANE2_PRIME);
    }
    this.a = a;
    this.b = b;
    return this;
  }

  /** One byte (or code unit). */
  updateByte(c: number): this {
    this.a = Math.imul(this.a ^ c, FNV_PRIME);
    this.b = Math.imul(this.b ^ c, LANE2_PRIME);
    return this;
  }

  /** The digest of all taken so far (taking more after is allowed). */
  digest(): number {
    return digestOfLanes(this.a, this.b);
  }
}

/** The digest of a whole text. */
export const digestText = (text: string): number => new ContentDigest().updateText(text).digest();
