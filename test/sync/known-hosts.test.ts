import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fingerprint,
  hostKeyName,
  hostsFieldMatches,
  keyTypeOf,
  knownAlgorithms,
  loadKnownHosts,
  parseKnownHosts,
  verifyHostKey,
} from '../../lib/sync/known-hosts.js';

let dir = '';
/** Public key lines ("type base64 comment") made by ssh-keygen. */
const pub: Record<'ed1' | 'ed2' | 'rsa', string> = { ed1: '', ed2: '', rsa: '' };
const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1]!, 'base64');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'known-hosts-'));
  const make = (name: keyof typeof pub, type: string): void => {
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', join(dir, name)]);
    pub[name] = readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
  };
  make('ed1', 'ed25519');
  make('ed2', 'ed25519');
  make('rsa', 'rsa');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILES = ['/k'];

describe('known_hosts', () => {
  it('names hosts as ssh does: [host]:port unless the port is 22', () => {
    expect(hostKeyName('Peer.Example', 22)).toBe('peer.example');
    expect(hostKeyName('127.0.90.1', 2222)).toBe('[127.0.90.1]:2222');
    expect(hostKeyName('::1', 22)).toBe('::1');
  });

  it('matches pattern lists with wildcards; a negation vetoes', () => {
    expect(hostsFieldMatches('a.example,b.example', 'b.example')).toBe(true);
    expect(hostsFieldMatches('*.example', 'b.example')).toBe(true);
    expect(hostsFieldMatches('*.example,!bad.example', 'bad.example')).toBe(false);
    expect(hostsFieldMatches('10.0.0.?', '10.0.0.7')).toBe(true);
    expect(hostsFieldMatches('10.0.0.?', '10.0.0.17')).toBe(false);
    expect(hostsFieldMatches('[127.0.90.1]:2222', '[127.0.90.1]:2222')).toBe(true);
    expect(hostsFieldMatches('127.0.90.1', '[127.0.90.1]:2222')).toBe(false);
    expect(hostsFieldMatches('a.b', 'axb')).toBe(false);
  });

  it('accepts the listed key, also from a file hashed by ssh-keygen -H', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `[127.0.90.1]:2222 ${pub.ed1}\npeer.example ${pub.rsa}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('127.0.90.1');
    const lines = loadKnownHosts([file], true);
    expect(lines.every((l) => l.hosts.startsWith('|1|'))).toBe(true);
    expect(verifyHostKey(lines, '127.0.90.1', 2222, blob(pub.ed1), [file]).ok).toBe(true);
    expect(verifyHostKey(lines, 'PEER.example', 22, blob(pub.rsa), [file]).ok).toBe(true);
    // The same key under another port is another host.
    expect(verifyHostKey(lines, '127.0.90.1', 22, blob(pub.ed1), [file])).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('refuses an unknown host, saying how to add it (no trust on first use)', () => {
    const v = verifyHostKey(parseKnownHosts(`other ${pub.ed1}\n`, '/k'), '127.0.90.3', 2201, blob(pub.ed2), FILES);
    expect(v).toMatchObject({ ok: false, reason: 'unknown' });
    if (!v.ok) {
      expect(v.message).toContain('[127.0.90.3]:2201');
      expect(v.message).toContain(fingerprint(blob(pub.ed2)));
      expect(v.message).toContain('ssh-keyscan -p 2201 -t ed25519 127.0.90.3 >> /k');
    }
  });

  it('refuses a changed key loudly', () => {
    const v = verifyHostKey(parseKnownHosts(`# comment\n\npeer ${pub.ed1}\n`, '/k'), 'peer', 22, blob(pub.ed2), FILES);
    expect(v).toMatchObject({ ok: false, reason: 'changed' });
    if (!v.ok) expect(v.message).toMatch(/^HOST KEY OF peer HAS CHANGED.*\/k:3/);
  });

  it('refuses a @revoked key even when another line lists it for the host', () => {
    const lines = parseKnownHosts(`peer ${pub.ed1}\n@revoked * ${pub.ed1}\n`, '/k');
    expect(verifyHostKey(lines, 'peer', 22, blob(pub.ed1), FILES)).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('skips @cert-authority, unknown markers and malformed lines', () => {
    const text = [
      `@cert-authority peer ${pub.ed1}`,
      `@weird peer ${pub.ed1}`,
      'peer ssh-ed25519 !!!',
      `peer ssh-rsa ${pub.ed1.split(' ')[1]}`,
      'peer',
    ].join('\n');
    expect(parseKnownHosts(text, '/k').map((l) => l.marker ?? 'plain')).toEqual(['cert-authority']);
    expect(verifyHostKey(parseKnownHosts(text, '/k'), 'peer', 22, blob(pub.ed1), FILES)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('offers the known key types first; reads the key type from the blob', () => {
    const lines = parseKnownHosts(`peer ${pub.rsa}\npeer ${pub.ed1}\n`, '/k');
    expect(knownAlgorithms(lines, 'peer', 22)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(keyTypeOf(blob(pub.ed1))).toBe('ssh-ed25519');
    expect(keyTypeOf(Buffer.alloc(2))).toBeUndefined();
  });

  it('skips a missing default file but not a missing file that was asked for', () => {
    expect(loadKnownHosts([join(dir, 'nope')], false)).toEqual([]);
    expect(() => loadKnownHosts([join(dir, 'nope')], true)).toThrow('cannot read known_hosts file');
  });
});
