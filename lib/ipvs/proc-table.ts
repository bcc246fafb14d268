// The kernel's own view of the IPVS table, /proc/net/ip_vs (that of the reader's network
// namespace, as ipvsadm's): read without starting a process, and reduced to a canonical
// form, so that the drift check can tell cheaply that nothing it manages has changed.
//
// What the kernel prints (net/netfilter/ipvs/ip_vs_ctl.c, ip_vs_info_seq_show; a recording
// from a real kernel is fixtures/ipvs-proc/):
//   IP Virtual Server version 1.2.1 (size=4096)
//   Prot LocalAddress:Port Scheduler Flags
//     -> RemoteAddress:Port Forward Weight ActiveConn InActConn
//   TCP  0A010203:0050 wlc ops persistent 30000 FFFFFF00
//     -> C0A8010A:0050      Route   5      0          0
//   TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 wrr
//   FWM  00000007 rr
// Addresses and ports in hex, IPv6 written out in full, the persistence timeout in jiffies.
// It does not show the thresholds, scheduler flags, persistence engine, nor an fwmark
// service's family: what /proc shows unchanged is only ever trusted between full reads.
import { open } from 'node:fs/promises';
import { ContentDigest } from '../content-digest.js';
import { canonicalAddress } from './table.js';

/** Where the kernel shows the table. */
export const IPVS_PROC_FILE = '/proc/net/ip_vs';

/**
 * The file to read: LDIRECTORD_TEST_IPVS_PROC (test-only: the fake ipvsadm's rendering of
 * its table, on machines whose kernel has no IPVS) or the kernel's own.
 */
export function defaultIpvsProcFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.LDIRECTORD_TEST_IPVS_PROC || IPVS_PROC_FILE;
}

export class ProcTableError extends Error {}

export interface ProcReadOptions {
  /** Beyond this the read is given up (a runaway; ~60 bytes per real). Default 64 MiB. */
  readonly maxBytes?: number;
  /** The read is given up after this long (it runs on the thread pool). Default 2 s. */
  readonly timeoutMs?: number;
}

/**
 * The file is read through this window, line by line: a table of 10,000 reals is ~600 KB of
 * text, and neither it nor its canonical form is kept (only its digest). Lent to one read
 * at a time (digestIpvsProc).
 */
const WINDOW = Buffer.allocUnsafeSlow(1 << 16);

/** A read is under way (one at a time: digestIpvsProc). */
let stillReading = false;

/**
 * The digest (content-digest.ts) of the canonical form (canonicalIpvsProc) of the file's
 * `managed` services: equal digests, equal canonical forms. Rejects with the file system's
 * error or a ProcTableError when the file is too large or too slow, or not what the kernel
 * prints.
 */
export async function digestIpvsProc(file: string, managed: ReadonlySet<string>, o: ProcReadOptions = {}): Promise<number> {
  // A read given up on still holds one of libuv's few pool threads until the file answers;
  // starting another on every drift check would take them all (and with them every file,
  // DNS and crypto call of the daemon). So none starts before the last has ended.
  if (stillReading) throw new ProcTableError(`${file}: an earlier read has not ended`);
  const timeoutMs = o.timeoutMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProcTableError(`${file}: not read within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  stillReading = true;
  const read = digestFile(file, managed, o.maxBytes ?? 64 * 1024 * 1024).finally(() => (stillReading = false));
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
    read.catch(() => undefined);
  }
}

async function digestFile(file: string, managed: ReadonlySet<string>, maxBytes: number): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const buf = WINDOW;
    const form = new CanonicalForm(managed);
    const hash = new ContentDigest();
    // buf[0, at) holds the start of a line whose end has not been read yet
    let at = 0;
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, at, buf.length - at, null);
      total += bytesRead;
      if (total > maxBytes) throw new ProcTableError(`${file}: larger than ${maxBytes} bytes`);
      if (bytesRead === 0) {
        if (at > 0) hash.update(buf, 0, form.line(buf, 0, at, 0));
        break;
      }
      const end = at + bytesRead;
      const lastNl = buf.lastIndexOf(NL, end - 1);
      if (lastNl < 0) {
        if (end === buf.length) throw new ProcTableError(`${IPVS_PROC_FILE}, line ${form.lines + 1}: longer than ${buf.length} bytes`);
        at = end;
        continue;
      }
      let out = 0;
      for (let pos = 0; pos <= lastNl;) {
        const nl = buf.indexOf(NL, pos);
        out = form.line(buf, pos, nl, out);
        pos = nl + 1;
      }
      hash.update(buf, 0, out);
      at = buf.copy(buf, 0, lastNl + 1, end);
    }
    form.end();
    return hash.digest();
  } finally {
    await fh.close().catch(() => undefined);
  }
}

const NL = 0x0a;
const SP = 0x20;
const ARROW = Buffer.from('  -> ');
const TITLES = [
  'IP Virtual Server version ',
  'Prot LocalAddress:Port Scheduler Flags\n',
  '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n',
].map((t) => Buffer.from(t));

/** Memoised: the same service lines come back in every read. */
const keysOfLine = new Map<string, readonly string[] | undefined>();

/**
 * The service keys (table.ts serviceKey()) a /proc service line may stand for: one for an
 * address service, both families' for an fwmark (/proc does not tell which), none for a
 * protocol ldirectord never manages (AH, ESP, `IP_<n>`). Undefined when the line is not a
 * service line.
 */
export function procServiceKeys(line: string): readonly string[] | undefined {
  if (keysOfLine.has(line)) return keysOfLine.get(line);
  const keys = serviceKeysUncached(line);
  if (keysOfLine.size >= 1 << 14) keysOfLine.clear();
  keysOfLine.set(line, keys);
  return keys;
}

const SERVICE_LINE = /^([A-Z][A-Z0-9_]*) {2}(\S+) \S+ /;
const V4_SERVICE = /^([0-9A-F]{8}):([0-9A-F]{4})$/;
const V6_SERVICE = /^(\[[0-9a-f:]+\]):([0-9A-F]{4})$/;

function serviceKeysUncached(line: string): readonly string[] | undefined {
  const m = SERVICE_LINE.exec(line);
  if (!m) return undefined;
  const [, proto, addr] = m as unknown as [string, string, string];
  if (proto === 'FWM') {
    if (!/^[0-9A-F]{8}$/.test(addr)) return undefined;
    const mark = parseInt(addr, 16);
    return [`fwm:${mark}`, `fwm6:${mark}`];
  }
  const v4 = V4_SERVICE.exec(addr);
  const v6 = v4 ? undefined : V6_SERVICE.exec(addr);
  const hexPort = v4?.[2] ?? v6?.[2];
  if (hexPort === undefined) return undefined;
  let address: string | undefined;
  if (v4) {
    const n = parseInt(v4[1]!, 16);
    address = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  } else address = canonicalAddress(v6![1]!)?.address;
  if (address === undefined) return undefined;
  if (proto !== 'TCP' && proto !== 'UDP' && proto !== 'SCTP') return [];
  return [`${proto.toLowerCase()}:${address}:${parseInt(hexPort, 16)}`];
}

/** Where the field after `from` (skipping spaces) ends, or -1 when the line ends first. */
function fieldEnd(buf: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && buf[i] === SP) i++;
  if (i === end) return -1;
  while (i < end && buf[i] !== SP) i++;
  return i;
}

/**
 * The canonical form of a /proc/net/ip_vs text: the service lines of the services whose
 * keys `managed` holds (an fwmark line when either family's key is), each followed by its
 * destination lines cut after the weight (the connection counters change all the time).
 * Two reads whose canonical forms are equal show the same managed services, options and
 * destinations. Works in place: `text` is overwritten, the result is a view into it (no
 * object per destination: a table may hold tens of thousands).
 * Throws ProcTableError when the text is not what the kernel prints.
 */
export function canonicalIpvsProc(text: Buffer, managed: ReadonlySet<string>): Buffer {
  const form = new CanonicalForm(managed);
  let pos = 0;
  let out = 0;
  while (pos < text.length) {
    let end = text.indexOf(NL, pos);
    if (end < 0) end = text.length;
    out = form.line(text, pos, end, out);
    pos = end + 1;
  }
  form.end();
  return text.subarray(0, out);
}

/** The canonical form, one line at a time: what a line keeps depends on the lines before it. */
class CanonicalForm {
  /** Lines seen. */
  lines = 0;
  /** Whether the current service's lines are kept (undefined before the first service). */
  private keep: boolean | undefined;

  constructor(private readonly managed: ReadonlySet<string>) {}

  /**
   * Takes the line text[pos, end) (without its newline) and writes what the canonical form
   * keeps of it, with a newline, at text[out, ...): `out` is at most `pos`, so the form is
   * built in place. Returns where the form now ends.
   */
  line(text: Buffer, pos: number, end: number, out: number): number {
    const line = ++this.lines;
    if (line <= TITLES.length) {
      const title = TITLES[line - 1]!;
      const n = line === 1 ? title.length : title.length - 1;
      if (end - pos < n || text.compare(title, 0, n, pos, pos + n) !== 0 || (line > 1 && end - pos !== n))
        this.fail("not the kernel's column titles");
    } else if (end - pos > ARROW.length && text.compare(ARROW, 0, ARROW.length, pos, pos + ARROW.length) === 0) {
      if (this.keep === undefined) this.fail('real server outside any virtual service');
      // address:port, forward, weight, then the two counters and nothing else
      const addrEnd = fieldEnd(text, pos + ARROW.length, end);
      const fwdEnd = addrEnd < 0 ? -1 : fieldEnd(text, addrEnd, end);
      const weightEnd = fwdEnd < 0 ? -1 : fieldEnd(text, fwdEnd, end);
      const e = weightEnd < 0 ? -1 : fieldEnd(text, weightEnd, end);
      const last = e < 0 ? -1 : fieldEnd(text, e, end);
      if (weightEnd < 0 || last < 0 || fieldEnd(text, last, end) >= 0) this.fail('not a real server line');
      if (this.keep) {
        out += text.copy(text, out, pos, weightEnd);
        text[out++] = NL;
      }
    } else {
      const keys = procServiceKeys(text.toString('latin1', pos, end));
      if (keys === undefined) this.fail('not a virtual service line');
      this.keep = keys!.some((k) => this.managed.has(k));
      if (this.keep) {
        out += text.copy(text, out, pos, end);
        text[out++] = NL;
      }
    }
    return out;
  }

  /** The text has ended. */
  end(): void {
    if (this.lines < TITLES.length) this.fail('incomplete');
  }

  private fail(why: string): never {
    throw new ProcTableError(`${IPVS_PROC_FILE}, line ${this.lines}: ${why}`);
  }
}
