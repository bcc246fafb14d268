// fallbackcommand and callback are command lines written by the admin. The
// original hands them to /bin/sh; here they are split into words the way the
// shell would for the common cases (quotes, backslash escapes) and run without
// a shell, so that no config value is ever interpreted as shell syntax.
import { describeEnd, runBounded } from '../proc/run-bounded.js';

/** Splits a command line into words: whitespace separates, '…' and "…" group, \ escapes. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else cur += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) cur += line[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * Runs `<command line> <args…>` in the background, as its own process group killed whole
 * after `timeoutMs`; failures are logged as the original does. What the command leaves
 * running once it exited (a service it started) is left alone.
 */
export function runFallbackCommand(commandLine: string, args: readonly string[], log: (m: string) => void, timeoutMs = 60_000): void {
  const words = splitCommandLine(commandLine);
  const shown = [commandLine, ...args].join(' ');
  if (words.length === 0) return;
  void runBounded(words[0]!, [...words.slice(1), ...args], {
    stderr: 'collect',
    maxOutputBytes: 64 * 1024,
    timeoutMs,
    leaveHolders: true,
  }).then((r) => {
    if (r.end === 'exited' && r.exitCode === 0) return;
    const why = r.end === 'exited' && r.exitCode !== null ? r.stderr.trim() || describeEnd(r) : describeEnd(r, timeoutMs);
    log(`system(${shown}) failed: ${why}`);
  });
}
