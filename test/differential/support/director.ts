// One director (the original Perl ldirectord or ours) run in debug mode (-d) in a directory
// of its own: in -d mode both run `./ipvsadm` from their working directory (spec §1.5), here
// the fast fake of ipvsadm-server.ts with its own table. -d also keeps them in the
// foreground, without pid files, logging every message to stderr.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startIpvsadmServer, type IpvsadmServer } from './ipvsadm-server.js';

export const ORIGINAL = '/usr/sbin/ldirectord';
export const OURS = new URL('../../../bin/ldirectord', import.meta.url).pathname;

export type Which = 'original' | 'ours';

export interface LogLine {
  readonly at: number;
  readonly text: string;
}

export interface Director {
  readonly which: Which;
  readonly dir: string;
  readonly ipvs: IpvsadmServer;
  /** Messages logged so far (stderr without the original's DEBUG echo and Perl warnings). */
  readonly log: LogLine[];
  /** Everything on stderr (the original's "DEBUG2: Checking ..." lines count its passes). */
  readonly stderr: LogLine[];
  readonly exited: Promise<number | null>;
  /** The exit code (null: killed by a signal), once it has exited. */
  readonly exit: { readonly code: number | null; readonly at: number } | undefined;
  reload(): void;
  /** SIGTERM, then waits for the exit (SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
  /** Whatever state it is in: killed, its ipvsadm closed. */
  dispose(): Promise<void>;
}

// The original echoes every message as "DEBUG2: <message>" after printing it, and Perl prints
// "Use of uninitialized value" warnings while reading the fake's listing (an artefact of its
// line reader at end of output, also seen with the real ipvsadm): neither is a message.
const NOISE = /^DEBUG\d: |^Use of uninitialized value |^Running system\(/;

export async function startDirector(which: Which, dir: string, configText: string): Promise<Director> {
  mkdirSync(dir, { recursive: true });
  const ipvs = await startIpvsadmServer(dir);
  const cfg = join(dir, 'ldirectord.cf');
  writeFileSync(cfg, configText);
  const argv = which === 'original' ? [ORIGINAL, '-d', cfg, 'start'] : [process.execPath, OURS, '-d', cfg, 'start'];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    cwd: dir,
    // C locale: the original's strerror texts; PERLIO set so that it does not re-exec itself.
    env: { ...process.env, LC_ALL: 'C', LANG: 'C', PERLIO: 'perlio' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: LogLine[] = [];
  const stderr: LogLine[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    const at = Date.now();
    for (const text of lines) {
      stderr.push({ at, text });
      if (!NOISE.test(text)) log.push({ at, text });
    }
  });
  let exit: { code: number | null; at: number } | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exit = { code, at: Date.now() };
      resolve(code);
    }),
  );
  const signal = (s: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
  };
  return {
    which,
    dir,
    ipvs,
    log,
    stderr,
    exited,
    get exit() {
      return exit;
    },
    reload: () => signal('SIGHUP'),
    stop: async (ms = 20_000) => {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    dispose: async () => {
      signal('SIGKILL');
      await exited;
      await ipvs.close();
    },
  };
}
