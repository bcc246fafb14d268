// service=http, https and http_proxy (spec §3.3): plain http on an exchange of our own, the rest with undici.
//
// - URL: `<schema>://<ip>:<checkport>/<request without its leading />`; a per-real
//   request containing `<schema>://` is the whole URL, so the check connects to that
//   URL's host, not to the real (spec §2.5). http_proxy sends the virtual's request (an
//   absolute URL) through the real as a plain HTTP proxy (absolute-form request line).
// - Host header: virtualhost if set, else the real's IP without a port (http, https);
//   from the URL for http_proxy and after a redirect.
// - GET or HEAD (httpmethod); redirects 301/302/303/307/308 followed up to 7 times.
// - Up: final status 2xx and (receive empty, or the body matches receive as a Perl
//   regex). Monitor message: the status line when up; the body when the status was 2xx
//   but receive did not match; otherwise the status line, with the original's texts for
//   failures ("500 Can't connect to ip:port (Connection refused)", "500 Timeout Alarm").
// - Bounded: the runner's signal (negotiatetimeout) ends the whole exchange, headers
//   are capped (16 KiB), and at most maxBodyBytes of the body are read (the connection
//   is then dropped and the receive regex sees that prefix).
// - Plain http to an IP address without a proxy, the common case, runs on a TCP handle
//   of its own (io/http1-exchange.ts): undici's client, streams and the Errors it makes
//   even for a successful exchange cost several times the exchange itself. https,
//   http_proxy and host names go through undici; so does everything when the handle is
//   not available.
// - TLS: see tls-trust.ts (chain verified against the system bundle, host name not, no
//   SNI for an IP; virtualhost changes only the Host header, as in the original).
import type { Dispatcher, buildConnector } from 'undici';
import { translatePerlRegex } from '../lib/perl-regex/regex.js';
import { stripBrackets } from './io/address.js';
import { dial, socketCause } from './io/dial.js';
import { exchangeHttp1, startHttp1, type Http1Answer, type Http1Request, type Http1Result } from './io/http1-exchange.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  firstHop,
  HTTP_USER_AGENT,
  limitsFor,
  MAX_HEADER_BYTES,
  ownRequest,
  type FirstHop,
  type HttpProbe,
} from './http-own-request.js';
import { lazyModule } from './lazy-module.js';
import { Outcome } from './outcome.js';
import { matchReceive, matchReceiveInline, type ReceiveVerdict } from './receive-match.js';
import { hasOwnRequest } from './request.js';
import { isCertificateVerifyError, tlsClientOptions, type TlsTrust } from './tls-trust.js';
import {
  defineChecker,
  NEGOTIATETIMEOUT,
  type CheckResult,
  type CheckTarget,
  type Checker,
  type Endpoint,
  type ProbeSink,
} from './types.js';

export { DEFAULT_MAX_BODY_BYTES, HTTP_USER_AGENT, type HttpProbe } from './http-own-request.js';

const undici = lazyModule<typeof import('undici')>('undici');
// Only for a status line without a reason phrase: node:http stays unloaded otherwise.
const nodeHttp = lazyModule<typeof import('node:http')>('node:http');

export const MAX_REDIRECTS = 7;
export const TIMEOUT_STATUS_LINE = '500 Timeout Alarm';

export type HttpService = 'http' | 'https' | 'http_proxy';

export interface HttpCheckOptions {
  readonly trust?: TlsTrust;
  readonly maxBodyBytes?: number;
  /** Every request through undici, plain http too (tests compare the two paths). */
  readonly undiciOnly?: boolean;
}

/** The original's $$r{url} for this target (ld_setup). */
export function checkUrl(service: HttpService, target: CheckTarget): string {
  const schema = service === 'http_proxy' ? 'http' : service;
  const base = `${schema}://${target.real.ip}:${target.port}/`;
  if (hasOwnRequest(target.real)) {
    const request = target.real.request as string;
    const uri = request.replace(/^\//, '');
    return request.includes(`${schema}://`) ? uri : base + uri;
  }
  const uri = target.virtual.request.replace(/^\//, '');
  return service === 'http_proxy' ? uri : base + uri;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ETIMEDOUT: 'Connection timed out',
  EADDRNOTAVAIL: 'Cannot assign requested address',
};

interface Exchange {
  readonly status: number;
  readonly statusLine: string;
  readonly location: string | undefined;
  readonly body: Buffer;
  readonly truncated: boolean;
}

/** A request that got no usable response (a plain object: failing checks are routine). */
interface HttpFailure {
  readonly failed: true;
  readonly statusLine: string;
  readonly detail: string;
}

const httpFailure = (statusLine: string, detail: string): HttpFailure => ({ failed: true, statusLine, detail });

function hostPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

/**
 * undici connector: our own sockets, so that TLS follows tls-trust.ts (no SNI from the
 * Host header), opened by dial() so that the check's signal ends the connect and
 * the TLS handshake too: undici only acts on an abort once the connector has answered,
 * so a real that accepts and never completes the handshake would otherwise hold the
 * socket, its TLS state and the whole exchange for ever.
 */
function connector(trust: TlsTrust | undefined, signal: AbortSignal): buildConnector.connector {
  return (opts, callback) => {
    const host = stripBrackets(opts.hostname);
    const https = opts.protocol === 'https:';
    const port = Number(opts.port) || (https ? 443 : 80);
    const tlsOptions = https ? { tls: { ...tlsClientOptions(host, trust), ALPNProtocols: ['http/1.1'] } } : {};
    dial({ host, port, signal, ...tlsOptions }).then(
      (socket) => {
        socket.setNoDelay(true);
        callback(null, socket);
      },
      (err: unknown) => callback(socketCause(err) as Error, null),
    );
  };
}

function failureFor(err: unknown, url: URL, signal: AbortSignal): HttpFailure {
  if (signal.aborted) return httpFailure(TIMEOUT_STATUS_LINE, 'timed out');
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const cause = e.cause ?? e;
  if (isCertificateVerifyError(cause)) {
    return httpFailure(`500 Can't connect to ${hostPort(url)} (certificate verify failed)`, `${cause.code}: ${cause.message}`);
  }
  const code = cause.code ?? e.code;
  if (code && ERRNO_TEXT[code]) {
    return httpFailure(`500 Can't connect to ${hostPort(url)} (${ERRNO_TEXT[code]})`, `${code}`);
  }
  if (code === 'UND_ERR_SOCKET' || /other side closed/.test(e.message)) {
    return httpFailure('500 Server closed connection without sending any data back', e.message);
  }
  return httpFailure(`500 ${e.message}`, `${code ?? ''} ${e.message}`.trim());
}

function statusLineOf(status: number, reason: string): string {
  return `${status} ${reason || nodeHttp().STATUS_CODES[status] || 'Unknown code'}`;
}

/** The own path's answer in this file's terms. */
function fromHttp1(result: Http1Result, url: URL): Exchange | HttpFailure {
  if (result.ok) {
    return {
      status: result.status,
      statusLine: statusLineOf(result.status, result.reason),
      location: result.location,
      body: result.body,
      truncated: result.truncated,
    };
  }
  switch (result.kind) {
    case 'timeout':
      return httpFailure(TIMEOUT_STATUS_LINE, result.inBody ? 'timed out while reading the body' : 'timed out');
    case 'closed':
      return httpFailure('500 Server closed connection without sending any data back', result.text);
    case 'protocol':
      return httpFailure(`500 ${result.text}`, result.text);
    case 'errno': {
      const text = ERRNO_TEXT[result.text];
      return text === undefined
        ? httpFailure(`500 ${result.syscall} ${result.text}`, result.text)
        : httpFailure(`500 Can't connect to ${hostPort(url)} (${text})`, result.text);
    }
  }
}

/**
 * One request, on the own path when it can take it, and `next` on its answer: chained
 * straight onto the exchange, so the first hop of every check adds no promise of its own.
 * `request`: the own path's request when worked out already (the first hop's, memoised).
 */
function exchange<T>(
  url: URL,
  via: URL | undefined,
  method: 'GET' | 'HEAD',
  hostHeader: string | undefined,
  signal: AbortSignal,
  options: HttpCheckOptions,
  request: Http1Request | undefined,
  next: (answer: Exchange | HttpFailure) => T | PromiseLike<T>,
): Promise<T> {
  const host = hostHeader ?? url.host;
  if (!options.undiciOnly) {
    const own = request ?? ownRequest(url, via, method, host);
    const pending = own === undefined ? undefined : exchangeHttp1(own, signal, limitsFor(options.maxBodyBytes));
    if (pending !== undefined) return pending.then((result) => next(fromHttp1(result, url)));
  }
  return exchangeUndici(url, via, method, host, signal, options).then(next);
}

const answerItself = (answer: Exchange | HttpFailure): Exchange | HttpFailure => answer;

async function exchangeUndici(
  url: URL,
  via: URL | undefined,
  method: 'GET' | 'HEAD',
  host: string,
  signal: AbortSignal,
  options: HttpCheckOptions,
): Promise<Exchange | HttpFailure> {
  const origin = via ?? url;
  const { Client } = undici();
  const client = new Client(origin.origin, {
    connect: connector(options.trust, signal),
    pipelining: 0,
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  try {
    const headers: Record<string, string> = {
      host,
      'user-agent': HTTP_USER_AGENT,
      connection: 'close',
    };
    const path = via ? url.href : `${url.pathname}${url.search}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await client.request({ path, method, headers, signal });
    } catch (err) {
      return failureFor(err, origin, signal);
    }
    const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    try {
      for await (const chunk of response.body) {
        const buf = chunk as Buffer;
        if (size + buf.length > max) {
          chunks.push(buf.subarray(0, max - size));
          size = max;
          truncated = true;
          response.body.destroy();
          break;
        }
        chunks.push(buf);
        size += buf.length;
      }
    } catch (err) {
      if (signal.aborted) return httpFailure(TIMEOUT_STATUS_LINE, 'timed out while reading the body');
      // A body cut short: LWP keeps what arrived; so do we.
      void err;
    }
    const location = response.headers.location;
    return {
      status: response.statusCode,
      statusLine: statusLineOf(response.statusCode, response.statusText),
      location: typeof location === 'string' ? location : undefined,
      body: Buffer.concat(chunks, size),
      truncated,
    };
  } finally {
    client.destroy().catch(() => undefined);
  }
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

export function httpProbe(service: HttpService, target: CheckTarget): HttpProbe {
  const v = target.virtual;
  return {
    url: checkUrl(service, target),
    ...(service === 'http_proxy' ? { proxy: `http://${target.real.ip}:${target.port}/` } : { hostHeader: v.virtualhost ?? target.real.ip }),
    method: v.httpmethod,
  };
}

/**
 * The check. The common case (one exchange, no redirect, a receive matched inline) is one
 * promise of the exchange and one continuation: this runs for every real every interval,
 * and each promise layer adds a promise, its closures and a microtask to every check.
 */
export function probeHttp(target: Endpoint, probe: HttpProbe, signal: AbortSignal, options: HttpCheckOptions = {}): Promise<CheckResult> {
  try {
    const first = firstRequest(target, probe, signal, options);
    if (!(first instanceof FirstRequest)) return Promise.resolve(first);
    return first.send((answer) => first.judge(answer));
  } catch (err) {
    // A proxy that is not a URL: the check fails with its message, as a rejection.
    return Promise.reject(err as Error);
  }
}

/**
 * probeHttp() reporting to `sink` (Checker.start). On the own path the exchange answers
 * the check's first request object itself: no promise between the socket and the runner.
 */
export function startHttpCheck(
  target: Endpoint,
  probe: HttpProbe,
  signal: AbortSignal,
  sink: ProbeSink,
  options: HttpCheckOptions = {},
): void {
  let first: FirstRequest | CheckResult;
  try {
    first = firstRequest(target, probe, signal, options);
  } catch (err) {
    sink.failed(err);
    return;
  }
  if (!(first instanceof FirstRequest)) {
    sink.settle(first);
    return;
  }
  const request = options.undiciOnly ? undefined : first.hop.request;
  if (request !== undefined) {
    first.sink = sink;
    if (startHttp1(request, signal, limitsFor(options.maxBodyBytes), first)) return;
  }
  const judged = first;
  deliver(
    sink,
    first.send((answer) => judged.judge(answer)),
  );
}

function deliver(sink: ProbeSink, result: CheckResult | Promise<CheckResult>): void {
  if (result instanceof Promise) {
    result.then(
      (r) => sink.settle(r),
      (err: unknown) => sink.failed(err),
    );
  } else sink.settle(result);
}

/** A check's first request, before it is sent; judges its answer. */
class FirstRequest implements Http1Answer {
  /** Where the own path's answer goes (startHttpCheck). */
  sink: ProbeSink | undefined;
  readonly via: URL | undefined;

  constructor(
    private readonly target: Endpoint,
    private readonly probe: HttpProbe,
    private readonly signal: AbortSignal,
    private readonly options: HttpCheckOptions,
    private readonly outcome: Outcome,
    readonly hop: FirstHop,
  ) {
    this.via = hop.proxy && hop.scheme === 'http:' ? hop.proxy : undefined;
  }

  /** Sends it on whichever path takes it; `next` on the answer. */
  send<T>(next: (answer: Exchange | HttpFailure) => T | PromiseLike<T>): Promise<T> {
    const p = this.probe;
    return exchange(this.hop.url, this.via, p.method, p.hostHeader, this.signal, this.options, this.hop.request, next);
  }

  judge(answer: Exchange | HttpFailure): CheckResult | Promise<CheckResult> {
    const { hop, outcome } = this;
    if ('failed' in answer) return outcome.down(answer.statusLine, { detail: `${hop.url.href}: ${answer.detail}` });
    const trail = hop.trail + answer.statusLine;
    if (isRedirect(answer)) {
      return followRedirects(this.target, this.probe.method, hop.proxy, this.signal, this.options, outcome, hop.url, answer, trail);
    }
    return verdict(this.target, this.signal, outcome, answer, trail);
  }

  answered(result: Http1Result): void {
    const sink = this.sink as ProbeSink;
    let judged: CheckResult | Promise<CheckResult>;
    try {
      judged = this.judge(fromHttp1(result, this.hop.url));
    } catch (err) {
      sink.failed(err);
      return;
    }
    deliver(sink, judged);
  }
}

/** The check's first request, or its result when it cannot be sent. Throws for a proxy that is not a URL. */
function firstRequest(target: Endpoint, probe: HttpProbe, signal: AbortSignal, options: HttpCheckOptions): FirstRequest | CheckResult {
  const outcome = new Outcome();
  const regex = translatePerlRegex(target.receive);
  if (!regex.ok) return outcome.down('-', { detail: `receive cannot be used: ${regex.error}` });
  const hop = firstHop(probe);
  if (hop === 'not a URL') return outcome.down('400 URL must be absolute', { detail: `not a URL: ${probe.url}` });
  const unsupported = unsupportedScheme(hop.scheme, hop.url, outcome);
  if (unsupported !== undefined) return unsupported;
  return new FirstRequest(target, probe, signal, options, outcome, hop);
}

function unsupportedScheme(scheme: string, url: URL, outcome: Outcome): CheckResult | undefined {
  if (scheme === 'http:' || scheme === 'https:') return undefined;
  return outcome.down(`501 Protocol scheme '${scheme.replace(/:$/, '')}' is not supported`, { detail: url.href });
}

const isRedirect = (answer: Exchange): boolean => REDIRECT_CODES.has(answer.status) && answer.location !== undefined;

/** After a redirect from `url`: the next requests, up to MAX_REDIRECTS in all, then the verdict. */
async function followRedirects(
  target: Endpoint,
  method: 'GET' | 'HEAD',
  proxy: URL | undefined,
  signal: AbortSignal,
  options: HttpCheckOptions,
  outcome: Outcome,
  from: URL,
  redirect: Exchange,
  firstTrail: string,
): Promise<CheckResult> {
  // The requests so far, '; '-separated: `${method} ${url.href} -> ${statusLine}` each.
  let trail = firstTrail;
  let url = from;
  let result = redirect;
  for (let redirects = 1; redirects <= MAX_REDIRECTS && isRedirect(result); redirects++) {
    let next: URL;
    try {
      next = new URL(result.location as string, url);
    } catch {
      break;
    }
    url = next;
    const unsupported = unsupportedScheme(url.protocol, url, outcome);
    if (unsupported !== undefined) return unsupported;
    const via = proxy && url.protocol === 'http:' ? proxy : undefined;
    // LWP drops the Host header on a redirect.
    const answer = await exchange(url, via, method, undefined, signal, options, undefined, answerItself);
    if ('failed' in answer) return outcome.down(answer.statusLine, { detail: `${trail}; ${url.href}: ${answer.detail}` });
    result = answer;
    trail = `${trail}; ${method} ${url.href} -> ${result.statusLine}`;
  }
  return verdict(target, signal, outcome, result, trail);
}

/** Up or down on the final response: its status, then receive against its body. */
function verdict(
  target: Endpoint,
  signal: AbortSignal,
  outcome: Outcome,
  result: Exchange,
  trail: string,
): CheckResult | Promise<CheckResult> {
  const detail = result.truncated ? `${trail}; body cut at ${result.body.length} bytes` : trail;
  const success = result.status >= 200 && result.status < 300;
  if (!success) return outcome.down(result.statusLine, { detail });
  if (target.receive === '') return outcome.up(result.statusLine, { detail });
  // Inline when bounded (no promise for it): the common receive is a fixed string.
  const inline = matchReceiveInline(target.receive, result.body);
  if (inline !== undefined) return receiveVerdict(signal, outcome, result, detail, inline);
  return matchReceive(target.receive, result.body, signal).then((v) => receiveVerdict(signal, outcome, result, detail, v));
}

function receiveVerdict(signal: AbortSignal, outcome: Outcome, result: Exchange, detail: string, v: ReceiveVerdict): CheckResult {
  if (v.kind === 'match') return outcome.up(result.statusLine, { detail });
  if (v.kind === 'unfinished' && signal.aborted) {
    // The original's whole check runs under one alarm; this is how its timeout reads.
    return outcome.down(TIMEOUT_STATUS_LINE, { detail: `${detail}; ${v.detail}` });
  }
  const why = v.kind === 'unfinished' ? v.detail : 'receive did not match';
  return outcome.down(result.body.toString('utf8'), { detail: `${detail}; ${why}` });
}

const DEFAULT_PORTS: Record<HttpService, number> = { http: 80, https: 443, http_proxy: 3128 };

export function createHttpChecker(service: HttpService, options: HttpCheckOptions = {}): Checker {
  // Targets are immutable and the runner keeps one per virtual and real: the probe's
  // options are worked out once per target, not on every check.
  const probes = new WeakMap<CheckTarget, HttpProbe>();
  return defineChecker({
    name: service,
    defaultPort: DEFAULT_PORTS[service],
    timeout: NEGOTIATETIMEOUT,
    options: (target) => {
      let probe = probes.get(target);
      if (probe === undefined) {
        probe = httpProbe(service, target);
        probes.set(target, probe);
      }
      return probe;
    },
    probe: (endpoint, probe, signal) => probeHttp(endpoint, probe, signal, options),
    start: (endpoint, probe, signal, sink) => startHttpCheck(endpoint, probe, signal, sink, options),
  });
}

export const httpChecker = createHttpChecker('http');
export const httpsChecker = createHttpChecker('https');
export const httpProxyChecker = createHttpChecker('http_proxy');
