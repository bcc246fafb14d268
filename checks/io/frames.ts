// Following the length-prefixed frames of a database protocol as the bytes arrive, so a
// peer that is not that database, or announces a frame too big to buffer, is refused at
// its first header instead of after megabytes (capReads' `inspect`).

/**
 * Reads each frame header's `headerBytes` bytes, however the chunks split them, and skips
 * the body whose length `onHeader` returns; a string from `onHeader` is why the stream is
 * refused. `from` is where in a chunk the frames start.
 */
export function followFrames(
  headerBytes: number,
  onHeader: (header: readonly number[]) => number | string,
): (chunk: Buffer, from?: number) => string | undefined {
  const header: number[] = [];
  let remaining = 0;
  return (chunk, from = 0) => {
    let at = from;
    while (at < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - at);
        remaining -= n;
        at += n;
        continue;
      }
      header.push(chunk[at++] as number);
      if (header.length < headerBytes) continue;
      const next = onHeader(header.splice(0));
      if (typeof next === 'string') return next;
      remaining = next;
    }
    return undefined;
  };
}
