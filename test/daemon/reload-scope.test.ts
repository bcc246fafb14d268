// What a reload concerns (lib/daemon/reload-scope.ts): the virtuals it adds, drops or
// edits, never one that only moved to other lines; unchanged virtuals keep their objects,
// and the check runner's incremental update ends where a rebuild from nothing would.
import { describe, expect, it } from 'vitest';
import type { Config } from '../../lib/config/model.js';
import { CheckRunner, type RealEntry } from '../../lib/daemon/check-runner.js';
import { realId } from '../../lib/daemon/real-id.js';
import { planReload, sameConfigValue } from '../../lib/daemon/reload-scope.js';
import { parse } from '../config/parse-helpers.js';
import { scriptedCheckers } from './helpers/scripted-checker.js';

async function config(text: string): Promise<Config> {
  const r = await parse(text);
  if (!r.config) throw new Error(JSON.stringify(r.diagnostics));
  return r.config;
}

const BASE = `checkinterval=5
quiescent=yes
virtual=192.0.2.1:80
    real=10.0.0.1:80 masq 1
    real=10.0.0.2:80 masq 1
    service=http
    request="/health"
    receive="OK"
virtual=192.0.2.2:80
    real=10.0.0.3:80 masq 1
    emailalert="ops@example.org"
virtual=192.0.2.3:80
    real=10.0.0.1:80 masq 1
    service=http
    request="/health"
    receive="OK"
`;

describe('sameConfigValue', () => {
  it('ignores line numbers, nothing else', () => {
    expect(sameConfigValue({ a: 1, line: 3, b: [{ c: 'x', line: 4 }] }, { a: 1, line: 9, b: [{ c: 'x', line: 10 }] })).toBe(true);
    expect(sameConfigValue({ a: 1, b: [{ c: 'x' }] }, { a: 1, b: [{ c: 'y' }] })).toBe(false);
    expect(sameConfigValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameConfigValue([1, 2], [1, 2, 3])).toBe(false);
  });
  it('compares sets by their members and anything else by identity', () => {
    expect(sameConfigValue(new Set(['running', 'stopping']), new Set(['stopping', 'running']))).toBe(true);
    expect(sameConfigValue(new Set(['running']), new Set(['stopping']))).toBe(false);
    expect(sameConfigValue(/a/, /a/)).toBe(false);
    expect(sameConfigValue(new Map(), new Map())).toBe(false);
  });
});

describe('planReload', () => {
  it('one weight edited: only that virtual is in scope; the others keep their objects', async () => {
    const old = await config(BASE);
    const plan = planReload(old, await config(BASE.replace('10.0.0.3:80 masq 1', '10.0.0.3:80 masq 7')));
    expect(plan.scope).toEqual(new Set(['tcp:192.0.2.2:80']));
    expect(plan.config.virtuals[0]).toBe(old.virtuals[0]);
    expect(plan.config.virtuals[1]).not.toBe(old.virtuals[1]);
    expect(plan.config.virtuals[1]!.reals[0]!.weight).toBe(7);
    expect(plan.config.virtuals[2]).toBe(old.virtuals[2]);
  });

  it('lines moved by an edit elsewhere change nothing', async () => {
    const old = await config(BASE);
    const plan = planReload(old, await config(`# a comment\n\n${BASE}`));
    expect(plan.scope).toEqual(new Set());
    plan.config.virtuals.forEach((v, i) => expect(v).toBe(old.virtuals[i]));
  });

  it('an edit that does not touch the table still gives the new settings (not the kept object)', async () => {
    const old = await config(BASE);
    const plan = planReload(old, await config(BASE.replace('ops@example.org', 'noc@example.org')));
    expect(plan.config.virtuals[1]!.email.emailalert).toEqual(['noc@example.org']);
    expect(plan.scope).toEqual(new Set(['tcp:192.0.2.2:80']));
  });

  it('added and dropped virtuals are in scope', async () => {
    const old = await config(BASE);
    const next = await config(BASE.replace('virtual=192.0.2.2:80', 'virtual=192.0.2.9:80'));
    expect(planReload(old, next).scope).toEqual(new Set(['tcp:192.0.2.2:80', 'tcp:192.0.2.9:80']));
  });

  it("a global that shapes every virtual's entries makes the scope everything", async () => {
    const old = await config(BASE);
    expect(planReload(old, await config(`readdquiescent=yes\n${BASE}`)).scope).toBe('all');
    expect(planReload(old, await config(`fallback=127.0.0.1:80\n${BASE}`)).scope).toBe('all');
    // ... while a default the virtuals inherit shows up in the virtuals themselves
    const plan = planReload(old, await config(BASE.replace('checkinterval=5', 'checkinterval=6')));
    expect(plan.scope).toEqual(new Set(['tcp:192.0.2.1:80', 'tcp:192.0.2.2:80', 'tcp:192.0.2.3:80']));
  });
});

/** A small PRNG, so that a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The lines of one virtual drawing its reals from a small pool, so that reals are shared. */
function randomVirtual(rand: () => number, address: string): string[] {
  const out = [`virtual=${address}:80`];
  const reals = 1 + Math.floor(rand() * 3);
  for (let r = 0; r < reals; r++) out.push(`    real=10.0.0.${1 + Math.floor(rand() * 5)}:80 masq ${1 + Math.floor(rand() * 2)}`);
  if (rand() < 0.3) out.push('    request="/x"', '    receive="y"');
  return out;
}

const textOf = (blocks: string[][]): string => `${['checkinterval=5', ...blocks.flat()].join('\n')}\n`;

const view = (runner: CheckRunner): unknown[] =>
  [...runner.all()]
    .map((e: RealEntry) => ({
      id: e.id,
      realId: realId(e.target.virtual, e.target.real),
      members: e.members.map((m) => `${m.virtual.id}/${m.real.ip}:${m.real.port}:${m.real.weight}`),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));

describe('CheckRunner.update after a planned reload', () => {
  it('ends as a rebuild from nothing would, keeping the entries of ids that stay', async () => {
    const rand = prng(7);
    const probe = async (): Promise<{ ok: boolean; message: string; durationMs: number }> => ({ ok: true, message: '', durationMs: 0 });
    const incremental = new CheckRunner({ checkers: scriptedCheckers(probe), onTransition: () => undefined });
    let running = await config(textOf(Array.from({ length: 8 }, (_, i) => randomVirtual(rand, `192.0.2.${i + 1}`))));
    incremental.update(running);
    let sawIncremental = 0;
    for (let step = 0; step < 40; step++) {
      // Mostly one virtual edited, added or dropped; sometimes everything new.
      const text =
        rand() < 0.85 ? mutateOne(running, rand) : textOf(Array.from({ length: 8 }, (_, i) => randomVirtual(rand, `192.0.2.${i + 11}`)));
      const plan = planReload(running, await config(text));
      const before = new Map([...incremental.all()].map((e) => [e.id, e]));
      incremental.update(plan.config);
      const fresh = new CheckRunner({ checkers: scriptedCheckers(probe), onTransition: () => undefined });
      fresh.update(plan.config);
      expect(view(incremental), `step ${step}`).toEqual(view(fresh));
      for (const e of incremental.all()) if (before.has(e.id)) expect(e).toBe(before.get(e.id));
      if (plan.scope !== 'all' && plan.scope.size <= 2) sawIncremental++;
      running = plan.config;
    }
    // The incremental path was taken, not only the rebuild.
    expect(sawIncremental).toBeGreaterThan(10);
  });
});

/** The running config's text with one virtual edited, added or dropped. */
function mutateOne(running: Config, rand: () => number): string {
  const blocks = running.virtuals.map((v) => [
    `virtual=${v.ip}:${v.port}`,
    ...v.reals.map((r) => `    real=${r.ip}:${r.port} masq ${r.weight}`),
    ...(v.request === '/x' ? ['    request="/x"', '    receive="y"'] : []),
  ]);
  const used = new Set(running.virtuals.map((v) => v.ip));
  const free = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`).filter((a) => !used.has(a));
  const k = Math.floor(rand() * blocks.length);
  const pick = rand();
  if (pick < 0.5) blocks[k] = randomVirtual(rand, running.virtuals[k]!.ip!);
  else if (pick < 0.75 || blocks.length < 3) blocks.splice(k, 0, randomVirtual(rand, free[Math.floor(rand() * free.length)]!));
  else blocks.splice(k, 1);
  return textOf(blocks);
}
