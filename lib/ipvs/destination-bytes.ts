// A destination line of ipvsadm's listings read from the bytes it arrived in, for the lines
// of nearly every table: an IPv4 real, `  -> 10.0.0.2:80  Masq  1  0  0` (`-L -n`) or
// `  -> 10.0.0.2:80  0  0  0  0` (`--thresholds`). Read as text, each such line made a line
// string, a match with five substrings, a host slice and two result objects, garbage that V8
// keeps in part until the collection it starts during a full read has finished (figures:
// bench/RESULTS.md, "Memory at 10,000 reals, tenth pass"). Here a line costs its address string and
// the record it becomes. Any other line (IPv6, an address ipvsadm would not print, a field out
// of range, a stray byte) is left to the text path, which reads it, or reports it, as before.
import { isCanonicalIPv4, type IpvsForward } from './table.js';

const SPACE = 32;
const COLON = 58;
/** `  -> ` */
const PREFIX_LENGTH = 5;
/** Digits whose number is exact in a double, as Number() of the text gives it. */
const MAX_DIGITS = 15;

const FORWARDS = (
  [
    ['Route', 'gate'],
    ['Masq', 'masq'],
    ['Tunnel', 'ipip'],
    ['Local', 'local'],
  ] as const
).map(([word, forward]) => ({ word: Buffer.from(word, 'latin1'), forward }));

export interface PlainDestination {
  address: string;
  port: number;
  forward: IpvsForward;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
}

export interface ThresholdDestination {
  readonly address: string;
  readonly port: number;
  readonly upper: number;
  readonly lower: number;
}

// Where the last step stopped, and the address and port it read: module state rather than
// an object per step, as every step runs for every line.
let at = 0;
let address = '';
let port = 0;

/** `a.b.c.d:port` after the prefix, then a space; sets `address`, `port` and `at`. */
function addressPort(b: Buffer, start: number, end: number): boolean {
  let i = start + PREFIX_LENGTH;
  const from = i;
  while (i < end && b[i] !== COLON && b[i] !== SPACE) i++;
  if (i === from || i >= end || b[i] !== COLON) return false;
  address = b.toString('latin1', from, i);
  if (!isCanonicalIPv4(address)) return false;
  const digits = ++i;
  port = 0;
  while (i < end && b[i]! >= 48 && b[i]! <= 57) port = port * 10 + (b[i++]! - 48);
  at = i;
  return i > digits && i - digits <= 5 && port <= 65535 && i < end && b[i] === SPACE;
}

/** Spaces (at least one), then a decimal number; -1 if not there. Sets `at`. */
function spacedNumber(b: Buffer, end: number): number {
  let i = at;
  while (i < end && b[i] === SPACE) i++;
  if (i === at) return -1;
  const digits = i;
  let n = 0;
  while (i < end && b[i]! >= 48 && b[i]! <= 57) n = n * 10 + (b[i++]! - 48);
  at = i;
  return i === digits || i - digits > MAX_DIGITS ? -1 : n;
}

/** Nothing but spaces from `at` to the line's end. */
function restIsSpace(b: Buffer, end: number): boolean {
  let i = at;
  while (i < end && b[i] === SPACE) i++;
  return i === end;
}

/** The `-L -n` destination line from `start` to `end` (its line break); undefined unless IPv4, printed as ipvsadm prints one. */
export function plainDestination(b: Buffer, start: number, end: number): PlainDestination | undefined {
  if (!addressPort(b, start, end)) return undefined;
  let i = at;
  while (i < end && b[i] === SPACE) i++;
  // A loop, not find(): a callback would be a closure made for every line.
  let f: (typeof FORWARDS)[number] | undefined;
  for (const x of FORWARDS) {
    if (end - i > x.word.length && b.compare(x.word, 0, x.word.length, i, i + x.word.length) === 0) {
      f = x;
      break;
    }
  }
  if (!f) return undefined;
  at = i + f.word.length;
  const weight = spacedNumber(b, end);
  if (weight < 0 || spacedNumber(b, end) < 0 || spacedNumber(b, end) < 0 || !restIsSpace(b, end)) return undefined;
  return { address, port, forward: f.forward, weight, upperThreshold: 0, lowerThreshold: 0 };
}

/** The `--thresholds` destination line from `start` to `end`; undefined unless IPv4, printed as ipvsadm prints one. */
export function thresholdDestination(b: Buffer, start: number, end: number): ThresholdDestination | undefined {
  if (!addressPort(b, start, end)) return undefined;
  const upper = spacedNumber(b, end);
  const lower = spacedNumber(b, end);
  if (upper < 0 || lower < 0 || spacedNumber(b, end) < 0 || spacedNumber(b, end) < 0 || !restIsSpace(b, end)) return undefined;
  return { address, port, upper, lower };
}
