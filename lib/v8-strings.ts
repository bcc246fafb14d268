// Strings kept for long must not keep alive the text they were cut from. V8 represents a
// substring of 13 characters or more as a view into its parent (a "sliced string"), and
// keeps the subject of the last successful regular expression match: an
// address token cut from a 1.5 MB ipvsadm listing and kept in a cache, or an address cut
// from the config file, would keep the whole listing or file for the daemon's life.

/** `s` as a string of its own, not a view into the text it was cut from. */
export function ownCopy(s: string): string {
  // Through a buffer: V8 builds a new flat string (one byte per character when each fits).
  // UTF-16 both ways loses nothing, not even a lone surrogate.
  return Buffer.from(s, 'utf16le').toString('utf16le');
}

const MATCHES_EMPTY = /(?:)/;

/** Makes the last match's subject the empty string (it is kept only after a success). */
export function releaseLastMatch(): void {
  MATCHES_EMPTY.test('');
}
