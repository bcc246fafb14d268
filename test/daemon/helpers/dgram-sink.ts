// A real unix datagram socket for the syslog tests: python3 binds it (Node has
// no AF_UNIX SOCK_DGRAM) and prints every datagram it receives as one JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const SCRIPT = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    d = s.recv(262144)
    print(json.dumps(d.decode("latin-1")), flush=True)
`;

export interface DgramSink {
  readonly path: string;
  readonly datagrams: string[];
  /** Resolves when at least n datagrams have arrived (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<string[]>;
  close(): void;
}

export async function startDgramSink(path: string): Promise<DgramSink> {
  const child: ChildProcess = spawn(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', SCRIPT, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const datagrams: string[] = [];
  const waiters: (() => void)[] = [];
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dgram sink exited with ${code}`)));
    lines.once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(l))));
  });
  lines.on('line', (l) => {
    datagrams.push(JSON.parse(l) as string);
    for (const w of waiters.splice(0)) w();
  });
  return {
    path,
    datagrams,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (datagrams.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`got ${datagrams.length} of ${n} datagrams: ${JSON.stringify(datagrams)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return datagrams.slice();
    },
    close() {
      child.kill('SIGKILL');
    },
  };
}
