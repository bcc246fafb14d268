// TLS client settings shared by https, pops and imaps, kept as the original behaves
// (observed on Debian bookworm): the certificate chain is always verified; for https the
// host name is not (LWP is given verify_hostname => 0), while for pops and imaps it is
// (Mail::POP3Client and Net::IMAP::Simple::SSL use IO::Socket::SSL's defaults, which
// check the real's IP against the certificate's IP SANs); no SNI is sent when the target
// is an IP address (the usual case: the real's IP). Trust comes from the
// system CA bundle, as for the original's IO::Socket::SSL on Debian, so a CA added with
// update-ca-certificates is trusted; OpenSSL's SSL_CERT_FILE is honoured. Self-signed
// backends therefore fail ("certificate verify failed") unless their certificate (or CA)
// is added to that bundle.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type tls from 'node:tls';
import { lazyModule } from './lazy-module.js';

// Loaded with the first TLS check's options (lazy-module.ts): see dial.ts.
const tlsModule = lazyModule<typeof tls>('node:tls');

export interface TlsTrust {
  /** PEM CA certificates to trust instead of the system bundle (tests, or a private CA). */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
}

const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // RHEL, Fedora
  '/etc/ssl/ca-bundle.pem', // SUSE
  '/etc/ssl/cert.pem', // BSDs, Alpine
];

let systemBundle: string | null | undefined;

/** The system CA bundle as PEM text, or undefined (Node's built-in roots then apply). */
export function systemCaBundle(): string | undefined {
  if (systemBundle === undefined) {
    systemBundle = null;
    const candidates = process.env.SSL_CERT_FILE ? [process.env.SSL_CERT_FILE, ...SYSTEM_BUNDLES] : SYSTEM_BUNDLES;
    for (const file of candidates) {
      try {
        systemBundle = readFileSync(file, 'utf8');
        break;
      } catch {
        // try the next one
      }
    }
  }
  return systemBundle ?? undefined;
}

type CaSource = NonNullable<TlsTrust['ca']>;

/** Contexts by CA source; a handful at most (the system bundle, or a test's CA). */
const contexts = new Map<CaSource, tls.SecureContext>();
const MAX_CONTEXTS = 8;

/**
 * One SecureContext per trust source, shared by every check: given `ca` instead,
 * tls.connect would parse the whole bundle into a new context (~2 MB, and a few ms of
 * CPU) for each connection.
 */
function secureContextFor(ca: CaSource): tls.SecureContext {
  let context = contexts.get(ca);
  if (!context) {
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as CaSource);
    context = tlsModule().createSecureContext({ ca: ca as tls.SecureContextOptions['ca'] });
    contexts.set(ca, context);
  }
  return context;
}

/**
 * tls.connect options for a check of `host` (an IP or a host name from an absolute URL).
 * `verifyHost` false (https) skips the name check; true (pops, imaps) keeps Node's.
 */
export function tlsClientOptions(host: string, trust: TlsTrust = {}, verifyHost = false): tls.ConnectionOptions {
  const ca = trust.ca ?? systemCaBundle();
  const options: tls.ConnectionOptions = { rejectUnauthorized: true };
  if (!verifyHost) options.checkServerIdentity = () => undefined;
  if (ca !== undefined) options.secureContext = secureContextFor(ca);
  if (net.isIP(host) === 0) options.servername = host;
  return options;
}

const VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
]);

/** True for an error that means "the certificate chain did not verify". */
export function isCertificateVerifyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && VERIFY_CODES.has(code);
}
