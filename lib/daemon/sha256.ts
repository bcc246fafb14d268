// SHA-256 (FIPS 180-4) of a few bytes, for the instance lock's name only: every daemon
// makes that name once, at start, and node:crypto would stay in its memory for nothing
// else. The name must stay what it was (a `start` or `stop` of one version finds the
// daemon of another by it), so it stays a SHA-256. Not for anything large or secret:
// it is plain JavaScript, not constant-time, and copies its input.

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** The first 32 bits of the fractional parts of the roots of the first primes, as the standard has them. */
function fractionBits(count: number, root: (p: number) => number): Uint32Array {
  const out = new Uint32Array(count);
  for (let p = 2, found = 0; found < count; p++) {
    let prime = true;
    for (let d = 2; d * d <= p; d++) if (p % d === 0) prime = false;
    if (!prime) continue;
    const r = root(p);
    out[found++] = (r - Math.floor(r)) * 2 ** 32;
  }
  return out;
}

let K: Uint32Array | undefined;
let H0: Uint32Array | undefined;

/** The SHA-256 of `data`, in lower-case hex. */
export function sha256Hex(data: Uint8Array): string {
  K ??= fractionBits(64, Math.cbrt);
  H0 ??= fractionBits(8, Math.sqrt);
  const blocks = Math.ceil((data.length + 9) / 64);
  const m = new Uint8Array(blocks * 64);
  m.set(data);
  m[data.length] = 0x80;
  const view = new DataView(m.buffer);
  const bits = data.length * 8;
  view.setUint32(m.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(m.length - 4, bits >>> 0);
  const h = Uint32Array.from(H0);
  const w = new Uint32Array(64);
  for (let at = 0; at < m.length; at += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(at + 4 * i);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = w[i - 16]! + s0 + w[i - 7]! + s1;
    }
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    let e = h[4]!;
    let f = h[5]!;
    let g = h[6]!;
    let hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const worked = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = h[i]! + worked[i]!;
  }
  let hex = '';
  for (const x of h) hex += x.toString(16).padStart(8, '0');
  return hex;
}
