// What the pop and imap checkers are built with (tests give their own CA and source address).
import type { TlsTrust } from './tls-trust.js';

export interface MailCheckOptions {
  readonly trust?: TlsTrust;
  /** Source address of the check's connections (default: the kernel's choice). */
  readonly localAddress?: string;
}
