// service=radius (spec §3.3): one Access-Request to real:checkport with
// User-Name=login, User-Password=passwd (hidden with the shared `secret`) and
// NAS-IP-Address = the local address of the socket; up only on a verified
// Access-Accept. Like Authen::Radius: one datagram, wait up to negotiatetimeout (5 s
// when 0) for the reply, the first reply with our identifier decides (a bad response
// authenticator is down). The whole check runs under checktimeout.
//
// Differences from the original (all fixes): the request carries a Message-Authenticator
// (RFC 3579/BlastRADIUS: servers that require it rejected the original's requests);
// a Message-Authenticator in the reply is verified, as Authen::Radius does; IPv6 reals
// work (NAS-IPv6-Address), where Authen::Radius only knew IPv4.
//
// Library: `radius` (node-radius) encodes the request: attribute dictionary, User-Password
// hiding (RFC 2865 §5.2) and the request Message-Authenticator. Its verify_response is not
// used because it rejects replies without a Message-Authenticator once the request had one,
// which older servers do not send; the two checks it would do are a few lines below.
import net from 'node:net';
import type radiusModule from 'radius';
import { ipv6Hex } from './io/address.js';
import { Scope, why } from './io/deadline.js';
import { dialUdp } from './io/dial.js';
import { lazyModule, nodeCrypto } from './lazy-module.js';
import { Outcome } from './outcome.js';
import { CHECKTIMEOUT, defineChecker } from './types.js';

const radius = lazyModule<typeof radiusModule>('radius');

const ACCESS_ACCEPT = 2;
const MESSAGE_AUTHENTICATOR = 80;
const CODE_NAMES: Record<number, string> = { 2: 'Access-Accept', 3: 'Access-Reject', 11: 'Access-Challenge' };

/** Checks a reply's Response Authenticator and (when present) its Message-Authenticator. */
export function verifyReply(reply: Buffer, requestAuthenticator: Buffer, secret: string): boolean {
  if (reply.length < 20) return false;
  const length = reply.readUInt16BE(2);
  if (length < 20 || length > reply.length) return false;
  const packet = Buffer.from(reply.subarray(0, length));
  const got = Buffer.from(packet.subarray(4, 20));
  requestAuthenticator.copy(packet, 4);
  const expected = nodeCrypto().createHash('md5').update(packet).update(secret, 'utf8').digest();
  if (!expected.equals(got)) return false;
  // packet now carries the request authenticator, as the HMAC of RFC 3579 §3.2 wants.
  for (let at = 20; at + 2 <= length;) {
    const type = packet[at] as number;
    const len = packet[at + 1] as number;
    if (len < 2 || at + len > length) return false;
    if (type === MESSAGE_AUTHENTICATOR) {
      if (len !== 18) return false;
      const ma = Buffer.from(packet.subarray(at + 2, at + 18));
      packet.fill(0, at + 2, at + 18);
      return nodeCrypto().createHmac('md5', secret).update(packet).digest().equals(ma);
    }
    at += len;
  }
  return true;
}

export function accessRequest(login: string, passwd: string, secret: string, localAddress: string, identifier: number): Buffer {
  const nas: [string, string | Buffer] = net.isIPv4(localAddress)
    ? ['NAS-IP-Address', localAddress]
    : ['NAS-IPv6-Address', Buffer.from(ipv6Hex(localAddress), 'hex')];
  return radius().encode({
    code: 'Access-Request',
    secret,
    identifier,
    // An empty password is hidden as one 16-byte block of NULs, as Authen::Radius does.
    attributes: [['User-Name', login], ['User-Password', passwd === '' ? '\0' : passwd], nas],
    add_message_authenticator: true,
  });
}

export const radiusChecker = defineChecker({
  name: 'radius',
  defaultPort: 1812,
  timeout: CHECKTIMEOUT,
  // Authen::Radius waits negotiatetimeout (5 s when 0) for the reply, inside the checktimeout alarm.
  options: ({ virtual: v }) => ({ login: v.login, passwd: v.passwd, secret: v.secret, replySeconds: v.negotiatetimeout || 5 }),
  async probe(target, v, signal) {
    const out = new Outcome();
    const scope = new Scope(signal);
    try {
      const socket = await dialUdp(scope, target.host, target.port);
      const identifier = nodeCrypto().randomInt(256);
      const request = accessRequest(v.login, v.passwd, v.secret, socket.address().address, identifier);
      const authenticator = request.subarray(4, 20);
      const waitMs = v.replySeconds * 1000;
      const reply = await scope.race(
        new Promise<Buffer | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), waitMs);
          scope.defer(() => clearTimeout(timer));
          socket.on('message', (msg: Buffer) => {
            if (msg.length < 20 || msg[1] !== identifier) return;
            clearTimeout(timer);
            resolve(msg);
          });
          socket.send(request);
        }),
      );
      if (!reply) return out.down('-', { detail: `no reply within ${waitMs / 1000} s` });
      const code = reply[0] as number;
      const kind = CODE_NAMES[code] ?? `code ${code}`;
      if (!verifyReply(reply, authenticator, v.secret)) {
        return out.down('-', { detail: `${kind} with a bad authenticator (wrong secret?)` });
      }
      return code === ACCESS_ACCEPT ? out.up('-', { detail: kind }) : out.down('-', { detail: kind });
    } catch (err) {
      return out.down('-', { detail: why(err, scope) });
    } finally {
      scope.close();
    }
  },
});
