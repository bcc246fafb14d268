// A digest of each service as ipvsadm lists it, so that the drift check parses and compares
// only the services whose lines changed since it last found them as wanted: after a reload
// that edits one virtual, or a real that went down, that is one service of thousands.
//
// A service's digest covers its line and its destination lines in both listings, in the
// order printed, each destination line without its two connection counters (ActiveConn,
// InActConn: traffic changes them, the drift check has nothing to do about them). It is
// content-digest.ts's digest, made here line by line: the same bytes give the same digest
// whether they come as a chunk's bytes or as text.

import { ContentDigest } from '../content-digest.js';

/** One service's running digest while the listings are read. */
export type DigestLanes = ContentDigest;

const LINE_END = 0x0a;

export const newLanes = (): DigestLanes => new ContentDigest();

/** The digest of lanes that have taken every line of a service. */
export const digestOf = (l: DigestLanes): number => l.digest();

/** The digest a managed service gets when the listings do not show it. */
export const ABSENT = -1;

const SPACE = 0x20;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

// Bytes and text each have their own loops, not one loop over an accessor: a closure per
// line would be garbage for every destination of every read.

/** Where a destination line's two trailing counters begin, or `end` when it does not end in two numbers. */
function countersStartBytes(chunk: Buffer, start: number, end: number): number {
  let i = end;
  for (let field = 0; field < 2; field++) {
    while (i > start && chunk[i - 1] === SPACE) i--;
    const digitsEnd = i;
    while (i > start && isDigit(chunk[i - 1]!)) i--;
    if (i === digitsEnd) return end;
  }
  return i;
}

function countersStartText(text: string): number {
  let i = text.length;
  for (let field = 0; field < 2; field++) {
    while (i > 0 && text.charCodeAt(i - 1) === SPACE) i--;
    const digitsEnd = i;
    while (i > 0 && isDigit(text.charCodeAt(i - 1))) i--;
    if (i === digitsEnd) return text.length;
  }
  return i;
}

/** A service line, or a destination line (`destination`: its counters left out), given as bytes. */
export function mixBytes(l: DigestLanes, chunk: Buffer, start: number, end: number, destination: boolean): void {
  // A line end after each line, so that lines cannot run into one another.
  l.update(chunk, start, destination ? countersStartBytes(chunk, start, end) : end).updateByte(LINE_END);
}

/** mixBytes() of a line given as text (ipvsadm prints ASCII: a character is a byte). */
export function mixText(l: DigestLanes, text: string, destination: boolean): void {
  l.updateText(text, destination ? countersStartText(text) : text.length).updateByte(LINE_END);
}
