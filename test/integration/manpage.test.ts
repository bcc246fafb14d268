// man/ldirectord.8: it renders without warnings (groff -ww, man -l), has the sections an
// admin looks for, documents every directive the parser knows (the lists below, checked
// against the parser's source so a new directive cannot go undocumented), and its
// configuration examples pass `ldirectord -t`.
//
// Needs groff and man (Debian: groff-base, man-db; .ci/install.d/50-man.sh). Without them
// the rendering tests are skipped, except in CI (CI set), where that is a failure.

import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES } from '../../lib/config/model.js';

const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAN = join(PROJECT, 'man/ldirectord.8');
const OUR_BIN = join(PROJECT, 'bin/ldirectord');
const OUR_MAIN = join(PROJECT, 'dist/lib/cli/main.js');
const inCI = Boolean(process.env.CI);

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

const GROFF = onPath('groff');
const MANCMD = onPath('man');
const LEXGROG = onPath('lexgrog');
const haveTools = GROFF !== undefined && MANCMD !== undefined;
const missingTools = `groff/man not installed (Debian: groff-base man-db; see .ci/install.d/50-man.sh)`;

/** Spec §2.2: every global directive. */
const GLOBAL_DIRECTIVES = [
  'checktimeout',
  'negotiatetimeout',
  'connecttimeout',
  'timeout',
  'checkinterval',
  'checkcount',
  'failurecount',
  'fallback',
  'fallback6',
  'fallbackcommand',
  'autoreload',
  'callback',
  'logfile',
  'execute',
  'fork',
  'supervised',
  'quiescent',
  'readdquiescent',
  'emailalert',
  'emailalertfreq',
  'emailalertstatus',
  'emailalertfrom',
  'smtp',
  'cleanstop',
  'maintenancedir',
  'virtual',
  'virtual6',
  // ldirectord-ts additions
  'successcount',
  'slowstart',
  'statusaddress',
] as const;

/** Spec §2.3: every directive of a virtual= / virtual6= block. */
const VIRTUAL_DIRECTIVES = [
  'real',
  'real6',
  'request',
  'receive',
  'checktype',
  'checkcommand',
  'checktimeout',
  'negotiatetimeout',
  'connecttimeout',
  'checkcount',
  'failurecount',
  'checkinterval',
  'checkport',
  'login',
  'passwd',
  'database',
  'secret',
  'load',
  'scheduler',
  'persistent',
  'schedflags',
  'netmask',
  'protocol',
  'ops',
  'service',
  'httpmethod',
  'virtualhost',
  'fallback',
  'fallback6',
  'fallbackcommand',
  'quiescent',
  'emailalert',
  'emailalertfreq',
  'emailalertstatus',
  'cleanstop',
  'smtp',
  'monitorfile',
  'servicename',
  'comment',
  // ldirectord-ts additions
  'successcount',
  'slowstart',
] as const;

const CHECKTYPES = ['connect', 'negotiate', 'ping', 'external', 'external-perl', 'on', 'off'] as const;

const SECTIONS = [
  'NAME',
  'SYNOPSIS',
  'DESCRIPTION',
  'OPTIONS',
  'COMMANDS',
  'CONFIGURATION FILE',
  'CHECKS',
  'IPVS',
  'E-MAIL ALERTS',
  'LOGGING',
  'SIGNALS',
  'FILES',
  'HEARTBEAT AND PACEMAKER',
  'DIFFERENCES FROM THE ORIGINAL',
  'EXAMPLES',
  'SEE ALSO',
] as const;

/**
 * Directive names as the parser's source matches them: `directive(text, 'x')`,
 * `quotedDirective(text, 'x')`, `quotedNonEmpty(text, 'x', …)`, and regexes `/^x…`,
 * `/^(x(6)?…` (which also names x6).
 */
function parserDirectives(file: string): Set<string> {
  const source = readFileSync(join(PROJECT, file), 'utf8');
  const names = new Set<string>();
  for (const m of source.matchAll(/\b(?:directive|quotedDirective|quotedNonEmpty)\(text, '([a-z0-9]+)'/g)) names.add(m[1]!);
  for (const m of source.matchAll(/\/\^\(?([a-z]+)(\(6\)\?)?/g)) {
    names.add(m[1]!);
    if (m[2]) names.add(`${m[1]}6`);
  }
  return names;
}

const roff = readFileSync(MAN, 'utf8');

/** The roff source of one `.SH` section (up to the next `.SH`). */
function section(name: string): string {
  const start = roff.indexOf(`\n.SH ${name}\n`);
  if (start < 0) throw new Error(`no .SH ${name}`);
  const end = roff.indexOf('\n.SH ', start + 1);
  return roff.slice(start, end < 0 ? undefined : end);
}

/** The roff source of one `.SS` subsection (up to the next `.SS` or `.SH`). */
function subsection(name: string): string {
  const start = roff.indexOf(`\n.SS ${name}\n`);
  if (start < 0) throw new Error(`no .SS ${name}`);
  const rest = roff.slice(start + 1);
  const end = rest.search(/\n\.S[SH] /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Directives that have their own tagged entry (`.TP`/`.TQ` then `\fBname\fR …`). */
function taggedEntries(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^\.T[PQ]\n\\fB([a-z0-9]+)\\f/gm)) names.add(m[1]!);
  return names;
}

/** Roff escapes of the EXAMPLES blocks back to plain text. */
function unroff(s: string): string {
  return s
    .replace(/\\f[BIRP]/g, '')
    .replace(/\\\(dq/g, '"')
    .replace(/\\-/g, '-')
    .replace(/\\e/g, '\\')
    .replace(/\\&/g, '');
}

function render(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(args[0]!, args.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C.UTF-8', MANPAGER: 'cat', PAGER: 'cat', ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe('man/ldirectord.8 renders cleanly', () => {
  if (!haveTools) {
    if (inCI) {
      it('has groff and man available', () => {
        throw new Error(`${missingTools}: .ci/install.d/50-man.sh should have installed them`);
      });
    } else {
      it.skip(`rendering (${missingTools})`, () => undefined);
    }
    return;
  }

  it('groff -man -ww -z: no warnings', () => {
    const r = render([GROFF!, '-man', '-ww', '-z', MAN]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each([65, 80, 100])('groff -man -ww -z -Tutf8 at %i columns: no warnings', (columns) => {
    const r = render([GROFF!, '-man', '-ww', '-z', '-Tutf8', `-rLL=${columns}n`, MAN]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('man --warnings=w -l: exit 0, the whole page, no troff warnings', () => {
    const r = render([MANCMD!, '--warnings=w', '-l', MAN], { MANWIDTH: '80' });
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter((l) => /troff|warning/i.test(l))).toEqual([]);
    expect(r.stdout.length).toBeGreaterThan(20_000);
    expect(r.stdout).toMatch(/^LDIRECTORD\(8\)/);
    for (const s of SECTIONS) expect(r.stdout).toContain(`\n${s}\n`);
  });

  it.runIf(LEXGROG !== undefined)('lexgrog reads the NAME section (whatis/apropos)', () => {
    const out = execFileSync(LEXGROG!, [MAN], { encoding: 'utf8' });
    expect(out).toContain('"ldirectord - ');
  });
});

describe('man/ldirectord.8 content', () => {
  it('has every section, in order', () => {
    const found = [...roff.matchAll(/^\.SH (.+)$/gm)].map((m) => m[1]!.replace(/^"|"$/g, ''));
    const positions = SECTIONS.map((s) => found.indexOf(s));
    expect(positions.filter((p) => p < 0)).toEqual([]);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('the directive lists match the parser', () => {
    // scan.ts recognises the block starts (global level) and, as a fast path, real= lines.
    const scan = [...parserDirectives('lib/config/scan.ts')];
    const global = new Set([...parserDirectives('lib/config/global-directives.ts'), ...scan.filter((d) => d.startsWith('virtual'))]);
    const virtual = new Set([...parserDirectives('lib/config/virtual-directives.ts'), ...scan.filter((d) => !d.startsWith('virtual'))]);
    // A directive the parser knows but this test (and so the man page) does not: add it to both.
    expect([...global].filter((d) => !(GLOBAL_DIRECTIVES as readonly string[]).includes(d))).toEqual([]);
    expect([...virtual].filter((d) => !(VIRTUAL_DIRECTIVES as readonly string[]).includes(d))).toEqual([]);
  });

  it('documents every global directive in its own entry', () => {
    const entries = taggedEntries(subsection('Global directives'));
    expect(GLOBAL_DIRECTIVES.filter((d) => !entries.has(d))).toEqual([]);
  });

  it('documents every virtual-block directive in its own entry', () => {
    const entries = taggedEntries(subsection('Virtual service directives'));
    expect(VIRTUAL_DIRECTIVES.filter((d) => !entries.has(d))).toEqual([]);
  });

  it('documents every service and check type in its own entry', () => {
    /** Words of the `.TP` tags (`.B http`, `.BR pop ", " pops`) of a subsection. */
    const tags = (name: string): Set<string> => {
      const words = new Set<string>();
      for (const m of subsection(name)
        .replace(/\\-/g, '-')
        .matchAll(/^\.TP\n\.BR? (.*)$/gm)) {
        for (const w of m[1]!.split(/[\s",]+/)) if (w) words.add(w);
      }
      return words;
    };
    const services = tags('Services');
    expect(SERVICES.filter((s) => !services.has(s))).toEqual([]);
    const types = tags('Check types');
    expect(CHECKTYPES.filter((t) => !types.has(t))).toEqual([]);
  });

  it('states the facts the original manual gets wrong', () => {
    const globals = subsection('Global directives');
    const quiescent = globals.slice(globals.indexOf('\\fBquiescent\\fR'), globals.indexOf('\\fBreaddquiescent\\fR'));
    expect(quiescent).toMatch(/Default:\n\.B no\n/);
    expect(section('COMMANDS')).toContain('/var/run/ldirectord. name .pid');
    expect(roff).toMatch(/^\.BR \\-t ", " \\-\\-test$/m);
    expect(section('LOGGING')).toContain('[\\fIdate\\fP] [\\fIpid\\fP] \\fIcheck\\fP \\fIreal\\fP [up|down] \\fImessage\\fP');
    expect(section('SIGNALS')).toContain('SIGUSR1');
  });
});

describe('man/ldirectord.8 EXAMPLES', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ldts-man-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const blocks = [...section('EXAMPLES').matchAll(/^\.EX\n([\s\S]*?)^\.EE$/gm)]
    .map((m) => unroff(m[1]!))
    .filter((b) => /^virtual6?\s*=/m.test(b));

  it('has the three example configurations', () => {
    expect(blocks).toHaveLength(3);
  });

  const built = existsSync(OUR_MAIN);
  it.runIf(built || inCI).each(blocks.map((b, i) => [i + 1, b] as const))(
    'example %i passes ldirectord -t without errors or warnings',
    (i, block) => {
      // -t test-opens an absolute logfile for append (the default is /var/log/ldirectord.log):
      // point it into the temp dir.
      const logfile = `logfile="${join(dir, 'ldirectord.log')}"`;
      const text = /^logfile=/m.test(block) ? block.replace(/^logfile=.*$/m, logfile) : `${logfile}\n${block}`;
      const file = join(dir, `example-${i}.cf`);
      writeFileSync(file, text);
      const r = spawnSync(process.execPath, [OUR_BIN, '-t', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );
});
