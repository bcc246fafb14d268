// service=sip (spec §3.3): an OPTIONS request over UDP (udp virtuals) or TCP
// (otherwise), built exactly as the original builds it; up when the first response
// line starts with "SIP/2.0 200 OK". Lines are then read up to the first empty line
// (TCP: or EOF). Whole check under negotiatetimeout. The original's leftover
// "Request:"/"Reply:" prints to stdout are not reproduced.
//
// No library: a SIP stack (e.g. sip.js, drachtio) would add transactions, retransmits
// and its own parsing for what is one request and one status line.
import type net from 'node:net';
import { bracketed } from './io/address.js';
import { Scope, why } from './io/deadline.js';
import { tcpExchange, udpExchange } from './io/line-exchange.js';
import { nodeCrypto } from './lazy-module.js';
import { Outcome } from './outcome.js';
import { defineChecker, NEGOTIATETIMEOUT } from './types.js';

/** The OPTIONS request of the original, CRLF line endings, for the socket's local address. */
export function sipOptionsRequest(login: string, local: Pick<net.AddressInfo, 'address' | 'port'>, callId: string): string {
  return (
    `OPTIONS sip:${login} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${bracketed(local.address)}:${local.port};branch=z9hG4bKhjhs8ass877\r\n` +
    'Max-Forwards: 70\r\n' +
    `To: <sip:${login}>\r\n` +
    `From: <sip:${login}>;tag=1928301774\r\n` +
    `Call-ID: ${callId}\r\n` +
    'CSeq: 63104 OPTIONS\r\n' +
    `Contact: <sip:${login}>\r\n` +
    'Accept: application/sdp\r\n' +
    'Content-Length: 0\r\n\r\n'
  );
}

const STATUS_OK = /^SIP\/2.0 200 OK/;

export const sipChecker = defineChecker({
  name: 'sip',
  defaultPort: 5060,
  timeout: NEGOTIATETIMEOUT,
  options: ({ virtual: v }) => ({ login: v.login, udp: v.protocol === 'udp' }),
  async probe(target, o, signal) {
    const out = new Outcome();
    const scope = new Scope(signal);
    const callId = nodeCrypto().randomBytes(8).toString('hex');
    const payload = (local: net.AddressInfo): Buffer => Buffer.from(sipOptionsRequest(o.login, local, callId), 'utf8');
    // Perl: chomp "\n", then chomp "\r"; an empty line ends the reply; the first
    // non-empty line is the status line and must be a 200 OK.
    let status: string | undefined;
    let verdict = false;
    const onLine = (raw: Buffer): boolean => {
      let line = raw.toString('latin1');
      if (line.endsWith('\n')) line = line.slice(0, -1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        verdict = status !== undefined;
        return true;
      }
      if (status === undefined) {
        status = line.slice(0, 200);
        if (!STATUS_OK.test(status)) {
          verdict = false;
          return true;
        }
      }
      return false;
    };
    try {
      const stopped = o.udp
        ? await udpExchange(scope, target.host, target.port, payload, onLine)
        : await tcpExchange(scope, target.host, target.port, payload, onLine, false);
      // EOF (TCP) after a 200 status line but before the empty line is still up.
      const ok = stopped ? verdict : status !== undefined;
      const detail = status === undefined ? 'no status line' : `status: ${status}`;
      return ok ? out.up('-', { detail }) : out.down('-', { detail });
    } catch (err) {
      return out.down('-', { detail: status === undefined ? why(err, scope) : `status: ${status}; ${why(err, scope)}` });
    } finally {
      scope.close();
    }
  },
});
