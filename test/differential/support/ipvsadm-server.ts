// A fast stand-in for ipvsadm: the test's fake (test/support/fake-ipvsadm.mjs, the same code
// and table format the other tests use) served in this process over loopback TCP, with a tiny
// bash client as the `./ipvsadm` each director runs. Starting the fake as its own Node process
// costs 100-300 ms per call on a loaded 2-core machine, and the original runs ipvsadm three
// times per change: with a client that starts in milliseconds the directors' pace stays close
// to what it is with the real ipvsadm. Every mutating call is followed by a snapshot of the
// table, so a test can see states that lasted only milliseconds (the original's start-up flap).
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { runFakeIpvsadm } from '../../support/fake-ipvsadm.mjs';

export interface IpvsadmCall {
  readonly at: number;
  readonly args: readonly string[];
  readonly stdin: string;
  readonly exitCode: number;
}

export interface TableSnapshot {
  readonly at: number;
  /** `ipvsadm -S -n` lines with thresholds, sorted (see normalizeTable). */
  readonly table: readonly string[];
}

export interface IpvsadmServer {
  /** The executable to place as `ipvsadm` in a director's working directory. */
  readonly program: string;
  readonly calls: IpvsadmCall[];
  /** One snapshot after every call that changed the table, the first being the empty table. */
  readonly history: TableSnapshot[];
  /** The table now, normalized. */
  table(): string[];
  close(): Promise<void>;
}

/**
 * Lines of `ipvsadm -S -n`, sorted. Sorting is the only normalization: the kernel lists the
 * real servers of a service in the order they were added, which says nothing about the
 * director's decisions, and each -S line names its service, so no information is lost.
 */
export function normalizeTable(save: string, thresholds: string): string[] {
  // -S leaves out the thresholds; the --thresholds listing has them, in the same order.
  const limits = thresholds
    .split('\n')
    .slice(3)
    .filter((l) => l.startsWith('  -> '))
    .map((l) => l.trim().split(/\s+/));
  let i = 0;
  return save
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      if (!l.startsWith('-a ')) return l;
      const cols = limits[i++];
      return cols && cols[2] !== undefined && (cols[2] !== '0' || cols[3] !== '0') ? `${l} -x ${cols[2]} -y ${cols[3]}` : l;
    })
    .sort();
}

const READ_ONLY = /^-(L|l|S)$|^--(list|save)$/;

// Request: "<n>\n" then n+1 fields "<bytes>\n<data>" (the arguments, then stdin); the server
// answers as soon as the request is complete (bash cannot half-close a /dev/tcp socket).
// Reply: "<exit>\n<stdout bytes>\n<stdout><stderr>", then the server closes.
// The client is bash, not Perl or Node: it starts in a few milliseconds, and the original
// runs ipvsadm three times per change, so on a loaded machine this is most of its pace.
// The directors run with LC_ALL=C, so ${#a} counts bytes.
const CLIENT = (port: number): string => `#!/bin/bash
# ipvsadm for the differential tests: forwards to the fake served by the test process.
exec 3<>/dev/tcp/${HOST}/${port} || exit 3
in=
for a in "$@"; do
  if [ "$a" = -R ] || [ "$a" = --restore ]; then in=$(cat; printf x); in=\${in%x}; fi
done
{
  printf '%d\\n' $#
  for a in "$@"; do printf '%d\\n%s' "\${#a}" "$a"; done
  printf '%d\\n%s' "\${#in}" "$in"
} >&3
IFS= read -r code <&3 || exit 3
IFS= read -r olen <&3 || exit 3
out=
[ "$olen" -gt 0 ] && IFS= read -r -d '' -N "$olen" out <&3
printf '%s' "$out"
err=
IFS= read -r -d '' err <&3
printf '%s' "$err" >&2
exit "$code"
`;

// In this file's loopback range (127.0.60.0-127.0.69.255); the port is the system's choice.
const HOST = '127.0.69.250';

/** The request, or undefined while it is incomplete. */
export function parseRequest(buf: Buffer): { args: string[]; stdin: string } | undefined {
  let pos = 0;
  const line = (): number | undefined => {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) return undefined;
    const n = Number(buf.subarray(pos, nl).toString('latin1'));
    pos = nl + 1;
    return n;
  };
  const field = (): string | undefined => {
    const len = line();
    if (len === undefined || pos + len > buf.length) return undefined;
    const s = buf.subarray(pos, pos + len).toString('utf8');
    pos += len;
    return s;
  };
  const n = line();
  if (n === undefined) return undefined;
  const args: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = field();
    if (a === undefined) return undefined;
    args.push(a);
  }
  const stdin = field();
  return stdin === undefined ? undefined : { args, stdin };
}

/** Serves the fake on a loopback TCP port with its table in `<dir>/ipvs.json`, and writes `<dir>/ipvsadm`. */
export async function startIpvsadmServer(dir: string): Promise<IpvsadmServer> {
  const env = { FAKE_IPVSADM_STATE: join(dir, 'ipvs.json') };
  const save = (): string[] =>
    normalizeTable(runFakeIpvsadm({ args: ['-S', '-n'], env }).stdout, runFakeIpvsadm({ args: ['-L', '-n', '--thresholds'], env }).stdout);
  const calls: IpvsadmCall[] = [];
  const history: TableSnapshot[] = [{ at: Date.now(), table: [] }];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    let buf = Buffer.alloc(0);
    let answered = false;
    sock.on('error', () => sockets.delete(sock));
    sock.on('close', () => sockets.delete(sock));
    sock.on('data', (c: Buffer) => {
      if (answered) return;
      buf = Buffer.concat([buf, c]);
      const req = parseRequest(buf);
      if (!req) return;
      answered = true;
      let reply: string;
      try {
        const { args, stdin } = req;
        const r = runFakeIpvsadm({ args, env, stdin });
        calls.push({ at: Date.now(), args, stdin, exitCode: r.exitCode });
        if (!READ_ONLY.test(args[0] ?? '')) {
          const t = save();
          const last = history[history.length - 1]!.table;
          if (t.join('\n') !== last.join('\n')) history.push({ at: Date.now(), table: t });
        }
        const out = Buffer.from(r.stdout, 'utf8');
        reply = `${r.exitCode}\n${out.length}\n${r.stdout}${r.stderr}`;
      } catch (e) {
        reply = `3\n0\nfake ipvsadm server: ${(e as Error).message}\n`;
      }
      sock.end(reply);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const program = join(dir, 'ipvsadm');
  writeFileSync(program, CLIENT((server.address() as AddressInfo).port));
  chmodSync(program, 0o755);
  return {
    program,
    calls,
    history,
    table: save,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
