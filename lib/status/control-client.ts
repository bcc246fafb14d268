// The command line's side of the control socket: one request, one answer.

const TIMEOUT_MS = 5000;
/** A status document of thousands of reals is well under this. */
const MAX_REPLY = 64 * 1024 * 1024;
const RETRY_PAUSE_MS = 50;

/**
 * Sends `request` and resolves with the whole answer; rejects with why not.
 * The daemon may drop a connection that has not yet been answered to make
 * room when other clients crowd its socket: a connection closed without an
 * answer is tried again while the time allows.
 */
export async function askDaemon(path: string, request: string, timeoutMs = TIMEOUT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const answer = await askOnce(path, request, Math.max(1, left), timeoutMs);
    if (answer !== undefined) return answer;
    if (deadline - Date.now() <= RETRY_PAUSE_MS) throw new Error(`${path} closed the connection without an answer`);
    await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
  }
}

/** The answer, or undefined when the daemon closed the connection before answering. */
function askOnce(path: string, request: string, leftMs: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    // Loaded on first use: only status --json of a running daemon asks it (see cli/main.ts).
    const c = process.getBuiltinModule('node:net').connect(path);
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (why: string) => {
      c.destroy();
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail(`no answer from ${path} within ${timeoutMs / 1000} s`), leftMs);
    c.once('close', () => clearTimeout(timer));
    c.once('connect', () => c.write(`${request}\n`));
    c.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_REPLY) return fail(`answer from ${path} too large`);
      chunks.push(d);
    });
    c.once('end', () => {
      c.destroy();
      resolve(size === 0 ? undefined : Buffer.concat(chunks).toString('utf8'));
    });
    c.once('error', (e: NodeJS.ErrnoException) => {
      // dropped before the answer began: worth another try
      if (size === 0 && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        c.destroy();
        resolve(undefined);
      } else fail(`${path}: ${e.code ?? e.message}`);
    });
  });
}
