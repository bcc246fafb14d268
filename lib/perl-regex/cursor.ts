// The read position in a pattern (as a byte string) and Perl's error for the spot it
// stands on. The readers of each construct advance `pos` as they consume.

/** A syntax error at byte offset `pos`, rendered with Perl's "<-- HERE" marker. */
export class PerlSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

export class Cursor {
  pos = 0;

  constructor(readonly src: string) {}

  fail(message: string, at = this.pos): never {
    throw new PerlSyntaxError(message, Math.min(at, this.src.length));
  }

  peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  startsWith(text: string): boolean {
    return this.src.startsWith(text, this.pos);
  }

  /** Skip (?#...) comments always, and whitespace and #-comments under /x (`extended`). */
  skipTrivia(extended: boolean): void {
    for (;;) {
      if (this.startsWith('(?#')) {
        const end = this.src.indexOf(')', this.pos);
        if (end < 0) this.fail('Sequence (?#... not terminated');
        this.pos = end + 1;
        continue;
      }
      if (!extended) return;
      const c = this.peek();
      if (c !== undefined && ' \t\n\r\f\x0b'.includes(c)) {
        this.pos++;
        continue;
      }
      if (c === '#') {
        const end = this.src.indexOf('\n', this.pos);
        this.pos = end < 0 ? this.src.length : end + 1;
        continue;
      }
      return;
    }
  }
}
