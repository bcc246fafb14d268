// Reading one HTTP/1.x response from the bytes of a connection, bounded: the head
// (status line and header fields) up to a size cap, then the body by Content-Length,
// chunked transfer coding, or to the end of the connection, keeping at most a given
// number of body bytes. Only what a health check needs is kept: status, reason,
// Location and the body.
//
// Where a response breaks the protocol, the reasons are worded as llhttp (undici's
// parser) words them, so a real shows the same message whichever path checked it. A
// body cut short or broken keeps what arrived (as LWP does).

export interface Http1Limits {
  /** Most bytes of status line and header fields. */
  readonly maxHeaderBytes: number;
  /** Most body bytes kept; the rest is not read. */
  readonly maxBodyBytes: number;
}

/** What feed() and end() answer: read on, the response is complete, or why it is unusable. */
export type ReadStep = 'more' | 'done' | { readonly error: string };

/** llhttp's wording for a response that is not HTTP/1.x. */
export const PROTOCOL_ERROR_PREFIX = 'Response does not match the HTTP/1.1 protocol';
export const HEADERS_OVERFLOW = 'Headers Overflow Error';

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: |$)/;
/** A chunk-size line longer than this is not a chunk size. */
const MAX_CHUNK_LINE = 1024;

const protocolError = (reason: string): { error: string } => ({ error: `${PROTOCOL_ERROR_PREFIX} (${reason})` });

type BodyMode = 'none' | 'length' | 'chunked' | 'eof';
type ChunkState = 'size' | 'data' | 'data-end' | 'trailer';

export class Http1ResponseReader {
  status = 0;
  reason = '';
  location: string | undefined;
  truncated = false;
  /** True once the whole head was read (a later failure then keeps the body read so far). */
  headRead = false;

  private head: Buffer | undefined;
  private searchFrom = 0;
  private mode: BodyMode = 'none';
  private remaining = 0;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private chunkState: ChunkState = 'size';
  private line = '';
  private finished = false;
  /** Head bytes of the interim (1xx) responses so far: they count against the head's cap. */
  private interimBytes = 0;

  constructor(
    private readonly method: 'GET' | 'HEAD',
    private readonly limits: Http1Limits,
  ) {}

  /** The body bytes kept. */
  body(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
  }

  feed(chunk: Buffer): ReadStep {
    if (this.finished) return 'done';
    if (!this.headRead) {
      const step = this.feedHead(chunk);
      if (step !== 'more' || !this.headRead) return step;
      const rest = this.takeRest();
      return rest.length === 0 ? this.bodyStep() : this.feedBody(rest);
    }
    return this.feedBody(chunk);
  }

  /** The peer closed: 'done' when a response was read (a body cut short is kept). */
  end(): 'done' | 'no-response' {
    if (!this.headRead) return 'no-response';
    this.finished = true;
    return 'done';
  }

  private bodyStep(): ReadStep {
    if (this.mode === 'none' || (this.mode === 'length' && this.remaining === 0)) this.finished = true;
    return this.finished ? 'done' : 'more';
  }

  private rest: Buffer | undefined;

  private takeRest(): Buffer {
    const rest = this.rest as Buffer;
    this.rest = undefined;
    return rest;
  }

  private feedHead(chunk: Buffer): ReadStep {
    let head = this.head === undefined ? chunk : Buffer.concat([this.head, chunk]);
    for (;;) {
      // Empty lines before the status line are skipped (RFC 9112 §2.2).
      let start = 0;
      while (start < head.length && (head[start] === 0x0d || head[start] === 0x0a)) start++;
      if (start > 0) {
        head = head.subarray(start);
        this.searchFrom = 0;
      }
      const early = checkStart(head);
      if (early !== undefined) return early;
      const end = head.indexOf(CRLFCRLF, this.searchFrom);
      if (end < 0 || this.interimBytes + end + 4 > this.limits.maxHeaderBytes) {
        if (this.interimBytes + head.length > this.limits.maxHeaderBytes) return { error: HEADERS_OVERFLOW };
        this.head = head;
        this.searchFrom = Math.max(0, head.length - 3);
        return 'more';
      }
      const parsed = this.parseHead(head, end);
      if (parsed !== undefined) return parsed;
      head = head.subarray(end + 4);
      this.searchFrom = 0;
      this.interimBytes += end + 4;
      if (this.interimBytes > this.limits.maxHeaderBytes) return { error: HEADERS_OVERFLOW };
      // An interim (1xx) response is followed by the real one.
      if (this.status >= 100 && this.status < 200 && this.status !== 101) {
        this.location = undefined;
        continue;
      }
      this.head = undefined;
      this.headRead = true;
      this.rest = head;
      return 'more';
    }
  }

  private parseHead(head: Buffer, end: number): { error: string } | undefined {
    const text = head.toString('latin1', 0, end);
    const statusEnd = text.indexOf('\r\n');
    const statusLine = statusEnd < 0 ? text : text.slice(0, statusEnd);
    const m = STATUS_LINE.exec(statusLine);
    if (m === null) return protocolError(statusLine.startsWith('HTTP/') ? 'Invalid status code' : 'Expected HTTP/, RTSP/ or ICE/');
    const version = `${m[1]}.${m[2]}`;
    if (version !== '1.0' && version !== '1.1' && version !== '2.0' && version !== '0.9') return protocolError('Invalid HTTP version');
    const status = Number(m[3]);
    if (status < 100) return protocolError('Invalid status code');
    this.status = status;
    this.reason = statusLine.length > m[0].length ? head.toString('utf8', m[0].length, statusLine.length) : '';
    let contentLength: string | undefined;
    let chunked: boolean | undefined;
    let locations = 0;
    let location: string | undefined;
    for (let at = statusEnd; at >= 0;) {
      const from = at + 2;
      const next = text.indexOf('\r\n', from);
      const to = next < 0 ? text.length : next;
      at = next;
      const first = text.charCodeAt(from);
      if (first === 0x20 || first === 0x09) return protocolError('Unexpected whitespace after header value');
      const colon = text.indexOf(':', from);
      if (colon < 0 || colon >= to || colon === from) return protocolError('Invalid header token');
      const name = text.slice(from, colon);
      if (!TOKEN.test(name)) return protocolError('Invalid header field char');
      let a = colon + 1;
      let b = to;
      while (a < b && isOws(text.charCodeAt(a))) a++;
      while (b > a && isOws(text.charCodeAt(b - 1))) b--;
      if (hasControlChar(text, a, b)) return protocolError('Invalid header value char');
      switch (name.length === 8 || name.length === 14 || name.length === 17 ? name.toLowerCase() : '') {
        case 'location':
          locations++;
          location = text.slice(a, b);
          break;
        case 'content-length': {
          const digits = text.slice(a, b);
          if (!/^\d+$/.test(digits)) return protocolError('Invalid character in Content-Length');
          if (contentLength !== undefined) return protocolError('Duplicate Content-Length');
          contentLength = digits;
          break;
        }
        case 'transfer-encoding':
          // The last coding decides (RFC 9112 §6.3); several fields form one list.
          chunked = text.slice(a, b).split(',').pop()?.trim().toLowerCase() === 'chunked';
          break;
      }
    }
    if (contentLength !== undefined && chunked !== undefined)
      return protocolError("Content-Length can't be present with Transfer-Encoding");
    // Two Location fields name no one target: not followed.
    this.location = locations === 1 ? location : undefined;
    if (this.method === 'HEAD' || status < 200 || status === 204 || status === 304) this.mode = 'none';
    else if (chunked === true) this.mode = 'chunked';
    else if (contentLength !== undefined) {
      this.mode = 'length';
      this.remaining = Number(contentLength);
    } else this.mode = 'eof';
    return undefined;
  }

  private feedBody(chunk: Buffer): ReadStep {
    switch (this.mode) {
      case 'none':
        break;
      case 'eof':
        this.keep(chunk);
        break;
      case 'length': {
        const n = Math.min(this.remaining, chunk.length);
        this.remaining -= n;
        this.keep(n === chunk.length ? chunk : chunk.subarray(0, n));
        if (this.remaining === 0) this.finished = true;
        break;
      }
      case 'chunked':
        this.feedChunked(chunk);
        break;
    }
    if (this.mode === 'none') this.finished = true;
    return this.finished ? 'done' : 'more';
  }

  private keep(buf: Buffer): void {
    if (buf.length === 0 || this.finished) return;
    const room = this.limits.maxBodyBytes - this.size;
    if (buf.length > room) {
      if (room > 0) this.chunks.push(buf.subarray(0, room));
      this.size += Math.max(room, 0);
      this.truncated = true;
      this.finished = true;
      return;
    }
    this.chunks.push(buf);
    this.size += buf.length;
  }

  private feedChunked(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.finished) {
      if (this.chunkState === 'data') {
        const n = Math.min(this.remaining, chunk.length - i);
        this.keep(chunk.subarray(i, i + n));
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) {
          this.chunkState = 'data-end';
          this.line = '';
        }
        continue;
      }
      const nl = chunk.indexOf(0x0a, i);
      const piece = chunk.toString('latin1', i, nl < 0 ? chunk.length : nl);
      this.line += piece;
      if (this.line.length > MAX_CHUNK_LINE) {
        // Not chunked coding: keep what was decoded.
        this.finished = true;
        return;
      }
      if (nl < 0) return;
      i = nl + 1;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      this.chunkLine(line);
    }
  }

  private chunkLine(line: string): void {
    switch (this.chunkState) {
      case 'size': {
        const m = /^([0-9a-fA-F]+)[ \t]*(?:;.*)?$/.exec(line);
        if (m === null) {
          this.finished = true;
          return;
        }
        this.remaining = parseInt(m[1] as string, 16);
        this.chunkState = this.remaining === 0 ? 'trailer' : 'data';
        return;
      }
      case 'data-end':
        if (line !== '') this.finished = true;
        else this.chunkState = 'size';
        return;
      case 'trailer':
        if (line === '') this.finished = true;
        return;
      case 'data':
        return;
    }
  }
}

/** A response that cannot become HTTP, told as soon as its first line shows it. */
function checkStart(head: Buffer): { error: string } | undefined {
  const n = Math.min(head.length, 5);
  if (head.toString('latin1', 0, n) !== 'HTTP/'.slice(0, n)) return protocolError('Expected HTTP/, RTSP/ or ICE/');
  const nl = head.indexOf(0x0a);
  if (nl >= 0 && head[nl - 1] !== 0x0d) return protocolError('Missing expected CR after response line');
  return undefined;
}

const isOws = (c: number): boolean => c === 0x20 || c === 0x09;

/** A control character other than HTAB in text[from, to) (not allowed in a field value). */
function hasControlChar(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
