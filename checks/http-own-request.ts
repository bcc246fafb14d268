// What a plain http check sends, worked out once per real where it can be: the parsed
// first URL, the request's bytes for the own path (http1-exchange.ts) and the start of
// its line in the check's detail. A real is checked the same way every interval.
import { isIP } from 'node:net';
import { stripBrackets } from './io/address.js';
import type { Http1Request } from './io/http1-exchange.js';
import type { Http1Limits } from './io/http1-response.js';

/** The User-Agent of the original (LWP on Debian bookworm), which backends' log filters know. */
export const HTTP_USER_AGENT = 'libwww-perl/6.68';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const MAX_HEADER_BYTES = 16 * 1024;

/** What an http check reads from the config, beyond the endpoint. */
export interface HttpProbe {
  /** The URL of the first request (checkUrl). */
  readonly url: string;
  /** http_proxy: the real, as a plain HTTP proxy. */
  readonly proxy?: string;
  /** The Host header of the first request (none for http_proxy: it comes from the URL). */
  readonly hostHeader?: string;
  readonly method: 'GET' | 'HEAD';
}

/** The request's bytes as undici writes them for us (the header order included). */
function requestBytes(method: 'GET' | 'HEAD', path: string, host: string): string {
  return `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\nuser-agent: ${HTTP_USER_AGENT}\r\n\r\n`;
}

/** Host header values the own path writes as they are (anything else goes to undici). */
const PLAIN_HOST = /^[\x21-\x7e]+$/;

/** The request for the own path, or undefined when it goes through undici. */
export function ownRequest(url: URL, via: URL | undefined, method: 'GET' | 'HEAD', host: string): Http1Request | undefined {
  if (via !== undefined || url.protocol !== 'http:' || !PLAIN_HOST.test(host)) return undefined;
  const address = stripBrackets(url.hostname);
  return {
    host: address,
    port: Number(url.port) || 80,
    method,
    bytes: requestBytes(method, `${url.pathname}${url.search}`, host),
    family: isIP(address),
  };
}

const defaultLimits: Http1Limits = { maxHeaderBytes: MAX_HEADER_BYTES, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };

export function limitsFor(maxBodyBytes: number | undefined): Http1Limits {
  return maxBodyBytes === undefined ? defaultLimits : { maxHeaderBytes: MAX_HEADER_BYTES, maxBodyBytes };
}

/**
 * What the first request of a probe needs, worked out once per probe (a real is checked
 * the same way every interval): the parsed URL (never mutated), the proxy's, the own
 * path's request bytes and the start of the trail's line.
 */
export interface FirstHop {
  readonly url: URL;
  readonly proxy: URL | undefined;
  readonly request: Http1Request | undefined;
  /** `${method} ${url.href} -> ` */
  readonly trail: string;
  /** url.protocol (URL's getters make a new string on every call). */
  readonly scheme: string;
}

const firstHops = new WeakMap<HttpProbe, FirstHop | 'not a URL'>();

export function firstHop(probe: HttpProbe): FirstHop | 'not a URL' {
  const known = firstHops.get(probe);
  if (known !== undefined) return known;
  let url: URL;
  try {
    url = new URL(probe.url);
  } catch {
    firstHops.set(probe, 'not a URL');
    return 'not a URL';
  }
  // A proxy that is not a URL throws (the check fails with its message), every time.
  const proxy = probe.proxy === undefined ? undefined : new URL(probe.proxy);
  const via = proxy && url.protocol === 'http:' ? proxy : undefined;
  const request = ownRequest(url, via, probe.method, probe.hostHeader ?? url.host);
  const hop: FirstHop = { url, proxy, request, trail: `${probe.method} ${url.href} -> `, scheme: url.protocol };
  firstHops.set(probe, hop);
  return hop;
}
