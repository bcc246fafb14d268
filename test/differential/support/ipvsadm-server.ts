// A fast stand-in for ipvsadm: the test's fake (test/support/fake-ipvsadm.mjs, the same code
// and table format the other tests use) served in this process over a unix socket, with a
// tiny Perl client as the `./ipvsadm` each director runs. Starting the fake as its own Node
// process costs 100-300 ms per call on a loaded 2-core machine, and the original runs
// ipvsadm three times per change: with Perl (5 ms to start) the directors' timing stays close
// to what it is with the real ipvsadm. Every mutating call is followed by a snapshot of the
// table, so a test can see states that lasted only milliseconds (the original's start-up flap).
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
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

// Request: "<n>\n" then n+1 fields "<bytes>\n<data>" (the arguments, then stdin).
// Reply: "<exit>\n<stdout bytes>\n<stdout><stderr>".
const CLIENT = (socket: string): string => `#!/usr/bin/perl
# ipvsadm for the differential tests: forwards to the fake served by the test process.
use strict;
use IO::Socket::UNIX;
my $s = IO::Socket::UNIX->new(Peer => '${socket}') or die "fake ipvsadm server: $!\\n";
binmode $s; binmode STDOUT; binmode STDERR;
my $in = '';
if (grep { $_ eq '-R' || $_ eq '--restore' } @ARGV) { local $/; binmode STDIN; $in = <STDIN>; $in = '' unless defined $in; }
my $req = scalar(@ARGV) . "\\n";
{ use bytes; $req .= length($_) . "\\n" . $_ for (@ARGV, $in); }
print $s $req;
shutdown($s, 1);
my $resp = do { local $/; <$s> };
die "fake ipvsadm server: no answer\\n" unless defined $resp && $resp =~ /\\A(\\d+)\\n(\\d+)\\n/;
my ($code, $olen) = ($1, $2);
my $rest = substr($resp, length($1) + length($2) + 2);
print STDOUT substr($rest, 0, $olen);
print STDERR substr($rest, $olen);
exit $code;
`;

function parseRequest(buf: Buffer): { args: string[]; stdin: string } {
  let pos = 0;
  const line = (): number => {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) throw new Error('fake ipvsadm server: truncated request');
    const n = Number(buf.subarray(pos, nl).toString('latin1'));
    pos = nl + 1;
    return n;
  };
  const field = (): string => {
    const len = line();
    const s = buf.subarray(pos, pos + len).toString('utf8');
    pos += len;
    return s;
  };
  const n = line();
  const args = Array.from({ length: n }, field);
  return { args, stdin: field() };
}

/** Serves the fake on `<dir>/ipvsadm.sock` with its table in `<dir>/ipvs.json`, and writes `<dir>/ipvsadm`. */
export async function startIpvsadmServer(dir: string): Promise<IpvsadmServer> {
  const env = { FAKE_IPVSADM_STATE: join(dir, 'ipvs.json') };
  const save = (): string[] =>
    normalizeTable(
      runFakeIpvsadm({ args: ['-S', '-n'], env }).stdout,
      runFakeIpvsadm({ args: ['-L', '-n', '--thresholds'], env }).stdout,
    );
  const calls: IpvsadmCall[] = [];
  const history: TableSnapshot[] = [{ at: Date.now(), table: [] }];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => sockets.delete(sock));
    sock.on('end', () => {
      sockets.delete(sock);
      let reply: string;
      try {
        const { args, stdin } = parseRequest(Buffer.concat(chunks));
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
  const socketPath = join(dir, 'ipvsadm.sock');
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  const program = join(dir, 'ipvsadm');
  writeFileSync(program, CLIENT(socketPath));
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
