// A CLI sandbox (test/cli/ns.ts) whose ipvsadm can be slowed down or made to hang
// on deletions while the daemon runs, through flag files in the sandbox dir: the
// mounted launcher is rewritten in place, so daemons already running see it too.
// Every ipvsadm run is logged (FAKE_IPVSADM_LOG) for the tests to read.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execaSync } from 'execa';
import { BIN, FAKE_IPVSADM, sandbox, type Sandbox } from '../../cli/ns.js';

export { BIN };

export interface LifecycleSandbox extends Sandbox {
  readonly calls: string;
  /** Seconds every ipvsadm run sleeps first (0: none). */
  delay(seconds: number): void;
  /** While on, an ipvsadm run that deletes anything sleeps 20 s instead. */
  hangOnDelete(on: boolean): void;
  /** The argument lists (and -R input) of every ipvsadm run so far. */
  ipvsadmCalls(): Array<{ args: string[]; stdin?: string }>;
  /** Virtual services in the table now. */
  services(): string[];
  /** `-a` lines of the table now. */
  reals(): string[];
  /** Pids of the processes whose command line is `<node> ... BIN <cfg> start` (daemons and launchers). */
  daemons(cfg: string): number[];
  /** Kills whatever this sandbox left running. */
  cleanup(): void;
}

export function lifecycleSandbox(): LifecycleSandbox {
  const sb = sandbox();
  const calls = join(sb.dir, 'ipvsadm-calls.jsonl');
  const delayFile = join(sb.dir, 'ipvsadm-delay');
  const hangFile = join(sb.dir, 'ipvsadm-hang-delete');
  const node = JSON.stringify(process.execPath);
  const fake = JSON.stringify(FAKE_IPVSADM);
  writeFileSync(
    join(sb.dir, 'ipvsadm'),
    `#!/bin/sh
export FAKE_IPVSADM_LOG=${JSON.stringify(calls)}
if [ -s ${JSON.stringify(delayFile)} ]; then sleep "$(cat ${JSON.stringify(delayFile)})"; fi
if [ -e ${JSON.stringify(hangFile)} ]; then
  case " $* " in *" -D "*|*" -d "*|*" -C "*) exec sleep 20;; esac
  if [ "$1" = "-R" ]; then
    input=$(cat)
    case "$input" in *"-D "*|*"-d "*|*"-C"*) exec sleep 20;; esac
    printf '%s\\n' "$input" | ${node} ${fake} "$@"
    exit $?
  fi
fi
exec ${node} ${fake} "$@"
`,
  );
  const table = (): string[] => {
    if (!existsSync(sb.state)) return [];
    const out = execaSync(FAKE_IPVSADM, ['-S', '-n'], { env: { FAKE_IPVSADM_STATE: sb.state } });
    return String(out.stdout).split('\n');
  };
  const procsOf = (needle: string): number[] => {
    const found: number[] = [];
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) found.push(Number(p));
      } catch {
        // gone
      }
    }
    return found;
  };
  return {
    ...sb,
    calls,
    delay: (s) => writeFileSync(delayFile, s > 0 ? String(s) : ''),
    hangOnDelete: (on) => (on ? writeFileSync(hangFile, '') : rmSync(hangFile, { force: true })),
    ipvsadmCalls: () => {
      try {
        return readFileSync(calls, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    services: () => table().filter((l) => l.startsWith('-A')),
    reals: () => table().filter((l) => l.startsWith('-a')),
    daemons: (cfg) => procsOf(`${BIN}\0${cfg}\0start`),
    cleanup: () => {
      // Daemons, their launchers and hung ipvsadm runs: all name a file in the sandbox dir.
      // Twice: a launcher killed first may have spawned a daemon meanwhile.
      for (let round = 0; round < 2; round++) {
        for (const pid of procsOf(sb.dir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      rmSync(sb.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

export async function until(cond: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
