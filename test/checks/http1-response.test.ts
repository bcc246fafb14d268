// The bounded HTTP/1.x response reader of the http check's own path, fed the way a
// socket may cut the bytes: whole, one byte at a time, and at every split point.
import { describe, expect, it } from 'vitest';
import { HEADERS_OVERFLOW, Http1ResponseReader, PROTOCOL_ERROR_PREFIX, type ReadStep } from '../../checks/io/http1-response.js';

const LIMITS = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 1024 * 1024 };

interface Read {
  readonly step: ReadStep | 'no-response';
  readonly status: number;
  readonly reason: string;
  readonly location: string | undefined;
  readonly body: string;
  readonly truncated: boolean;
}

/** Feeds `pieces` in order; `eof` then ends the connection if the reader still wants more. */
function read(pieces: readonly (string | Buffer)[], o: { method?: 'GET' | 'HEAD'; eof?: boolean; limits?: typeof LIMITS } = {}): Read {
  const reader = new Http1ResponseReader(o.method ?? 'GET', o.limits ?? LIMITS);
  let step: ReadStep | 'no-response' = 'more';
  for (const p of pieces) {
    step = reader.feed(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
    if (step !== 'more') break;
  }
  if (step === 'more' && o.eof !== false) step = reader.end();
  return {
    step,
    status: reader.status,
    reason: reader.reason,
    location: reader.location,
    body: reader.body().toString('latin1'),
    truncated: reader.truncated,
  };
}

/** The same response fed whole, byte by byte and split at every offset: one answer. */
function readEveryWay(text: string, o: { method?: 'GET' | 'HEAD'; eof?: boolean } = {}): Read {
  const whole = read([text], o);
  expect(read([...text], o)).toEqual(whole);
  for (let i = 1; i < text.length; i++) expect(read([text.slice(0, i), text.slice(i)], o)).toEqual(whole);
  return whole;
}

const protocol = (reason: string) => ({ error: `${PROTOCOL_ERROR_PREFIX} (${reason})` });

describe('Http1ResponseReader', () => {
  it('Content-Length: done at the last body byte, without waiting for the close', () => {
    const r = readEveryWay('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n', { eof: false });
    expect(r).toEqual({ step: 'done', status: 200, reason: 'OK', location: undefined, body: 'OK\n', truncated: false });
  });

  it('bytes after Content-Length are not body', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOKHTTP/1.1 500 X\r\n\r\n'])).toMatchObject({ step: 'done', body: 'OK' });
  });

  it('chunked transfer coding, with extensions and trailers', () => {
    const r = readEveryWay('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\na;x=y\r\n0123456789\r\n0\r\nT: 1\r\n\r\n', {
      eof: false,
    });
    expect(r).toMatchObject({ step: 'done', body: 'OK0123456789' });
  });

  it('the last transfer coding decides', () => {
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n'], { eof: false })).toMatchObject({
      step: 'done',
      body: 'OK',
    });
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n2\r\nOK'])).toMatchObject({ step: 'done', body: '2\r\nOK' });
  });

  it('neither length nor chunked: the body runs to the close', () => {
    const r = readEveryWay('HTTP/1.0 200 OK\r\n\r\nsome body');
    expect(r).toMatchObject({ step: 'done', status: 200, body: 'some body' });
    expect(read(['HTTP/1.0 200 OK\r\n\r\nsome body'], { eof: false }).step).toBe('more');
  });

  it('a body cut short keeps what arrived', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nOK'])).toMatchObject({ step: 'done', body: 'OK' });
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nOK'])).toMatchObject({ step: 'done', body: 'OK' });
  });

  it('broken chunked coding keeps what was decoded', () => {
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\nzz\r\nmore\r\n'], { eof: false })).toMatchObject({
      step: 'done',
      body: 'OK',
    });
    expect(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '1'.repeat(5000)], { eof: false })).toMatchObject({
      step: 'done',
      body: '',
    });
  });

  it('HEAD, 204 and 304 have no body', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'], { method: 'HEAD', eof: false })).toMatchObject({
      step: 'done',
      body: '',
    });
    expect(read(['HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello'], { eof: false })).toMatchObject({
      step: 'done',
      status: 204,
      body: '',
    });
    expect(read(['HTTP/1.1 304 Not Modified\r\n\r\n'], { eof: false })).toMatchObject({ step: 'done', status: 304 });
  });

  it('an interim 1xx response is skipped', () => {
    const r = readEveryWay('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK', { eof: false });
    expect(r).toMatchObject({ step: 'done', status: 200, body: 'OK' });
  });

  it('endless interim responses count against the head cap', () => {
    const r = read(['HTTP/1.1 100 Continue\r\n\r\n'.repeat(2000)], { eof: false });
    expect(r.step).toEqual({ error: HEADERS_OVERFLOW });
  });

  it('status line: reason as UTF-8, empty or missing reason, leading empty lines', () => {
    expect(read([Buffer.from('HTTP/1.1 200 Gut ü\r\nContent-Length: 0\r\n\r\n')])).toMatchObject({ reason: 'Gut ü' });
    expect(read(['HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n'])).toMatchObject({ status: 503, reason: '' });
    expect(read(['HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n'])).toMatchObject({ status: 200, reason: '' });
    expect(read(['\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'])).toMatchObject({ step: 'done', status: 200 });
  });

  it('Location: kept when there is one, not when there are two', () => {
    expect(read(['HTTP/1.1 302 Found\r\nlocation: /x\r\nContent-Length: 0\r\n\r\n']).location).toBe('/x');
    expect(read(['HTTP/1.1 302 Found\r\nLocation: /x\r\nLocation: /y\r\nContent-Length: 0\r\n\r\n']).location).toBeUndefined();
  });

  it('not HTTP: told at the first bytes, in llhttp words', () => {
    expect(read(['garbage'], { eof: false }).step).toEqual(protocol('Expected HTTP/, RTSP/ or ICE/'));
    expect(read(['http/1.1 200 OK\r\n'], { eof: false }).step).toEqual(protocol('Expected HTTP/, RTSP/ or ICE/'));
    expect(read(['HTTP/1.1 200 OK\nContent-Length: 0\n\n'], { eof: false }).step).toEqual(
      protocol('Missing expected CR after response line'),
    );
  });

  it('malformed heads', () => {
    const step = (head: string) => read([`${head}\r\n\r\n`], { eof: false }).step;
    expect(step('HTTP/1.2 200 OK')).toEqual(protocol('Invalid HTTP version'));
    expect(step('HTTP/1.1 abc OK')).toEqual(protocol('Invalid status code'));
    expect(step('HTTP/1.1 099 X')).toEqual(protocol('Invalid status code'));
    expect(step('HTTP/1.1 200 OK\r\nBadHeader')).toEqual(protocol('Invalid header token'));
    expect(step('HTTP/1.1 200 OK\r\nContent-Length : 2')).toEqual(protocol('Invalid header field char'));
    expect(step('HTTP/1.1 200 OK\r\nX: a\x00b')).toEqual(protocol('Invalid header value char'));
    expect(step('HTTP/1.1 200 OK\r\nX: a\r\n b')).toEqual(protocol('Unexpected whitespace after header value'));
    expect(step('HTTP/1.1 200 OK\r\nContent-Length: x')).toEqual(protocol('Invalid character in Content-Length'));
    expect(step('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2')).toEqual(protocol('Duplicate Content-Length'));
    expect(step('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked')).toEqual(
      protocol("Content-Length can't be present with Transfer-Encoding"),
    );
  });

  it('the head is capped, whether it comes in one piece or in many', () => {
    expect(read(['HTTP/1.1 200 OK\r\n', 'X-A: b\r\n'.repeat(3000)], { eof: false }).step).toEqual({ error: HEADERS_OVERFLOW });
    expect(read(['HTTP/1.1 200 OK\r\n', ...Array<string>(3000).fill('X-A: b\r\n')], { eof: false }).step).toEqual({
      error: HEADERS_OVERFLOW,
    });
    expect(read([`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20_000)}`], { eof: false }).step).toEqual({ error: HEADERS_OVERFLOW });
  });

  it('the body is capped: the prefix is kept and the read ends', () => {
    const limits = { maxHeaderBytes: 1024, maxBodyBytes: 10 };
    expect(read(['HTTP/1.1 200 OK\r\n\r\n0123456', '789abcdef'], { eof: false, limits })).toEqual({
      step: 'done',
      status: 200,
      reason: 'OK',
      location: undefined,
      body: '0123456789',
      truncated: true,
    });
    expect(
      read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n'], { eof: false, limits }),
    ).toMatchObject({ step: 'done', body: '0123456789', truncated: true });
  });

  it('a close before the head is complete is no response', () => {
    expect(read([], {}).step).toBe('no-response');
    expect(read(['HTTP/1.1 200 OK\r\nX-'], {}).step).toBe('no-response');
  });
});
