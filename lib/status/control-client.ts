// The command line's side of the control socket: one request, one answer.

const TIMEOUT_MS = 5000;
/** A status document of thousands of reals is well under this. */
const MAX_REPLY = 64 * 1024 * 1024;

/** Sends `request` and resolves with the whole answer; rejects with why not. */
export function askDaemon(path: string, request: string, timeoutMs = TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    // Loaded on first use: only status --json of a running daemon asks it (see cli/main.ts).
    const c = process.getBuiltinModule('node:net').connect(path);
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (why: string) => {
      c.destroy();
      reject(new Error(why));
    };
    c.setTimeout(timeoutMs, () => fail(`no answer from ${path} within ${timeoutMs / 1000} s`));
    c.once('connect', () => c.write(`${request}\n`));
    c.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_REPLY) return fail(`answer from ${path} too large`);
      chunks.push(d);
    });
    c.once('end', () => {
      c.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    c.once('error', (e: NodeJS.ErrnoException) => fail(`${path}: ${e.code ?? e.message}`));
  });
}
