// service=ftp (spec §3.3): connect, log in (login, else "anonymous", as Net::FTP does),
// CWD /, TYPE I, PASV, RETR <request> (with its leading "/"), QUIT.
//
// Fixed (spec §10): the original ignored every error and matched receive against
// whatever was downloaded, so an empty receive meant "up" even with nothing listening.
// Here the greeting and the login must succeed; when a request other than the default
// "/" is set, or receive is set, the RETR must succeed too; and when receive is set the
// downloaded data (at most maxBytes of it) must match it as a Perl regex.
//
// Library: basic-ftp (widely used, maintained, typed; passive mode, multi-line replies,
// a cap on control-reply length). The data is streamed into a bounded sink, and the
// runner's signal (negotiatetimeout) closes the client, which ends every pending call.
import { Writable } from 'node:stream';
import net from 'node:net';
import { translatePerlRegex } from '../lib/perl-regex/regex.js';
import { accountOf, type Account } from './account.js';
import { orAborted } from './io/deadline.js';
import { Outcome } from './outcome.js';
import { matchReceive } from './receive-match.js';
import { defineChecker, NEGOTIATETIMEOUT, type CheckResult, type Checker, type Endpoint } from './types.js';
import { lazyModule } from './lazy-module.js';

// Loaded on the first ftp check (lazy-module.ts): the library and what it pulls in (tls)
// weigh a few MB that a daemon without service=ftp does not carry.
const basicFtp = lazyModule<typeof import('basic-ftp')>('basic-ftp');

export const FTP_DEFAULT_MAX_BYTES = 1024 * 1024;

export interface FtpCheckOptions {
  readonly maxBytes?: number;
}

/** Collects at most `max` bytes and then reports that it is full. */
class BoundedSink extends Writable {
  readonly chunks: Buffer[] = [];
  size = 0;
  full = false;

  constructor(
    private readonly max: number,
    private readonly onFull: () => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.full) {
      const room = this.max - this.size;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.size += part.length;
      if (this.size >= this.max && chunk.length >= room) {
        this.full = true;
        this.onFull();
      }
    }
    callback();
  }

  data(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }
}

function why(err: unknown): string {
  if (err instanceof basicFtp().FTPError) return `${err.code} ${err.message}`.trim();
  return (err as Error).message;
}

/** basic-ftp's own per-call timeout, off: the runner's signal closes the client. */
const NO_CLIENT_TIMEOUT = 0;

export async function probeFtp(
  target: Endpoint,
  account: Account,
  signal: AbortSignal,
  options: FtpCheckOptions = {},
): Promise<CheckResult> {
  const outcome = new Outcome();
  const where = `${target.host}:${target.port}`;
  const regex = translatePerlRegex(target.receive);
  if (!regex.ok) return outcome.down('-', { detail: `receive cannot be used: ${regex.error}` });
  const user = account.login || 'anonymous';
  const needRetr = target.request !== '/' || target.receive !== '';
  const { Client, enterPassiveModeIPv4, enterPassiveModeIPv6 } = basicFtp();
  const client = new Client(NO_CLIENT_TIMEOUT);
  client.prepareTransfer = net.isIPv6(target.host) ? enterPassiveModeIPv6 : enterPassiveModeIPv4;
  const max = options.maxBytes ?? FTP_DEFAULT_MAX_BYTES;
  let step = 'connect';
  let full = false;
  const sink = new BoundedSink(max, () => {
    full = true;
    client.close(); // enough data: stop the transfer
  });

  const conversation = (async (): Promise<CheckResult> => {
    try {
      await client.connect(target.host, target.port);
      step = `login as ${user}`;
      await client.login(user, account.passwd);
      step = 'CWD /';
      await client.sendIgnoringError('CWD /');
      step = 'TYPE I';
      await client.sendIgnoringError('TYPE I');
      if (needRetr) {
        step = `RETR ${target.request}`;
        try {
          await client.downloadTo(sink, target.request);
        } catch (err) {
          if (!full) throw err;
        }
      }
      if (!full) await client.sendIgnoringError('QUIT').catch(() => undefined);
    } catch (err) {
      if (signal.aborted) return outcome.down('-', { detail: `${where}: timed out during ${step}` });
      return outcome.down('-', { detail: `${where}: ${step} failed: ${why(err)}` });
    } finally {
      client.close();
    }
    const got = needRetr ? `; retrieved ${sink.size} bytes${full ? ' (cut)' : ''}` : '';
    if (target.receive !== '') {
      step = 'matching receive';
      const verdict = await matchReceive(target.receive, sink.data(), signal);
      if (verdict.kind !== 'match') {
        const why = verdict.kind === 'unfinished' ? verdict.detail : 'receive did not match';
        return outcome.down('-', { detail: `${where}: logged in as ${user}${got}; ${why}` });
      }
    }
    return outcome.up('-', { detail: `${where}: logged in as ${user}${got}` });
  })();

  const settled = await orAborted(conversation, signal);
  if (settled === 'aborted') {
    client.close();
    conversation.catch(() => undefined);
    return outcome.down('-', { detail: `${where}: timed out during ${step}` });
  }
  return settled;
}

export function createFtpChecker(options: FtpCheckOptions = {}): Checker {
  return defineChecker({
    name: 'ftp',
    defaultPort: 21,
    timeout: NEGOTIATETIMEOUT,
    options: accountOf,
    probe: (endpoint, account, signal) => probeFtp(endpoint, account, signal, options),
  });
}

export const ftpChecker = createFtpChecker();
