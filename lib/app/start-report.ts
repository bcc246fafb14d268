// The one line a detached daemon writes to the `start` command that launched it
// ("ready", "locked", "error: …") on the fd it was given, then closes it.
import { closeSync, writeSync } from 'node:fs';

export function reportToLauncher(fd: number | undefined, text: string): void {
  if (fd === undefined) return;
  try {
    writeSync(fd, text);
    closeSync(fd);
  } catch {
    // the launcher is gone: nobody to tell
  }
}
