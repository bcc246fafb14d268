// The checkers' client libraries are loaded by the first check that needs them
// (checks/lazy-module.ts), not with the registry: a daemon whose config names none of
// their services does not carry them (each weighs MBs of a process's memory).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PROJECT = fileURLToPath(new URL('../..', import.meta.url));

/** The CommonJS packages a fresh node has loaded after importing `module` of the build. */
function packagesLoadedBy(module: string): string[] {
  const script = `
    await import(${JSON.stringify(join(PROJECT, module))});
    const { createRequire } = await import('node:module');
    const cache = createRequire(import.meta.url)('module')._cache;
    const names = Object.keys(cache).map((k) => /node_modules\\/((@[^/]+\\/)?[^/]+)\\//.exec(k)?.[1]).filter(Boolean);
    console.log(JSON.stringify([...new Set(names)]));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('client libraries of the checkers', () => {
  it('are not loaded by the registry (a config without ftp, ssh, http, smtp... carries none of them)', () => {
    const loaded = packagesLoadedBy('dist/checks/registry.js');
    for (const lib of ['basic-ftp', 'ssh2', 'nodemailer', 'undici', 'ldapts']) expect(loaded).not.toContain(lib);
  });

  it('ftp loads basic-ftp on its first check', () => {
    const script = `
      const { probeFtp } = await import(${JSON.stringify(join(PROJECT, 'dist/checks/ftp.js'))});
      const { createRequire } = await import('node:module');
      const cache = createRequire(import.meta.url)('module')._cache;
      const has = () => Object.keys(cache).some((k) => k.includes('/node_modules/basic-ftp/'));
      const before = has();
      const signal = AbortSignal.abort();
      await probeFtp({ host: '127.0.154.1', port: 1, request: '/', receive: '' }, { login: '', passwd: '' }, signal).catch(() => undefined);
      console.log(JSON.stringify({ before, after: has() }));`;
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
      before: boolean;
      after: boolean;
    };
    expect(r).toEqual({ before: false, after: true });
  });
});

/** Which of `builtins` a fresh node has loaded after importing `module` of the build. */
function builtinsLoadedBy(module: string, builtins: readonly string[]): string[] {
  const script = `
    await import(${JSON.stringify(join(PROJECT, module))});
    console.log(JSON.stringify(${JSON.stringify(builtins)}.filter((m) => process.moduleLoadList.includes('NativeModule ' + m))));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe("Node's own modules that only some configs use", () => {
  // tls: TLS checks; http: statusaddress= and reason-less http status lines; zlib: the
  // status page's gzip; worker_threads: the regex worker pool. Each is resident memory.
  const optional = ['tls', 'http', 'https', 'zlib', 'worker_threads'];

  it('are not loaded by the daemon with its checkers and status endpoints', () => {
    expect(builtinsLoadedBy('dist/lib/app/run-daemon.cjs', optional)).toEqual([]);
  });

  it('are there once asked for: a TLS dial loads node:tls', () => {
    const script = `
      const { dial } = await import(${JSON.stringify(join(PROJECT, 'dist/checks/io/dial.js'))});
      const before = process.moduleLoadList.includes('NativeModule tls');
      const c = new AbortController();
      const p = dial({ host: '127.0.165.1', port: 1, signal: c.signal, tls: {} }).catch((e) => e.message);
      console.log(JSON.stringify({ before, after: process.moduleLoadList.includes('NativeModule tls'), refused: /refused/.test(await p) }));`;
    const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Record<
      string,
      boolean
    >;
    expect(r).toEqual({ before: false, after: true, refused: true });
  });
});

describe('the daemon as the CLI loads it', () => {
  // Our modules run as ES modules would start Node's ESM loader in the daemon: about 2 MB
  // of RSS, and each module's record (bench/RESULTS.md, "ninth pass").
  it('is one CommonJS bundle, required when the process becomes the daemon', () => {
    expect(readFileSync(join(PROJECT, 'dist/lib/cli/main.cjs'), 'utf8')).toContain('require("../app/run-daemon.cjs")');
    const script = `
      require(${JSON.stringify(join(PROJECT, 'dist/lib/app/run-daemon.cjs'))});
      console.log(JSON.stringify(process.moduleLoadList.includes('NativeModule internal/modules/esm/module_job')));`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))).toBe(false);
  });

  it('is ASCII, as main.cjs is: V8 keeps a source with one character beyond Latin-1 at two bytes a character', () => {
    for (const f of ['dist/lib/cli/main.cjs', 'dist/lib/app/run-daemon.cjs']) {
      const text = readFileSync(join(PROJECT, f), 'utf8');
      expect({ f, outside: /[^\p{ASCII}]/u.exec(text)?.[0] }).toEqual({ f, outside: undefined });
    }
  });
});
