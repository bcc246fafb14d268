// The command line: same options, commands, streams and exit codes as the
// original (spec §1), plus -t to test a config.
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { locateConfig } from './config-path.js';
import { COMMANDS, EXIT, USAGE_TEXT, VERSION_TEXT, configDiagnostic, configNotFound, unknownOption, type Command } from './texts.js';
import { parseConfig, formatDiagnostic } from '../config/parse.js';
import type { ParseResult } from '../config/model.js';
import { translateReceive } from '../config/receive.js';

const MAN_PAGE = fileURLToPath(new URL('../../../man/ldirectord.8', import.meta.url));

function usage(): number {
  process.stdout.write(USAGE_TEXT);
  return EXIT.usage;
}

function showManual(): number {
  if (existsSync(MAN_PAGE)) {
    const r = spawnSync('man', ['-l', MAN_PAGE], { stdio: 'inherit' });
    if (r.status === 0) return EXIT.ok;
  }
  process.stdout.write(USAGE_TEXT);
  return EXIT.ok;
}

export async function loadConfig(path: string, debug: boolean): Promise<ParseResult> {
  const text = readFileSync(path, 'utf8');
  return parseConfig(text, { file: path, debug, validateReceive: translateReceive });
}

/** `-t` on one file: the exit code and the diagnostic lines it prints to stderr. */
export async function checkConfigFile(given: string | undefined): Promise<{ code: number; stderr: string[] }> {
  const loc = locateConfig(given);
  if (!loc.path) return { code: EXIT.generic, stderr: [configNotFound(loc.config)] };
  const result = await loadConfig(loc.path, false);
  return { code: result.config ? EXIT.ok : EXIT.configError, stderr: result.diagnostics.map(formatDiagnostic) };
}

async function testConfig(given: string | undefined): Promise<number> {
  const r = await checkConfigFile(given);
  for (const line of r.stderr) process.stderr.write(`${line}\n`);
  return r.code;
}

export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`${unknownOption(parsed.unknown)}\n`);
    return usage();
  }
  const { args } = parsed;
  if (args.help) return showManual();
  if (args.version) {
    process.stdout.write(VERSION_TEXT);
    return EXIT.ok;
  }
  if (args.test) return testConfig(args.positional[0]);

  const pos = args.positional;
  if (pos.length === 0) return usage();
  const [given, cmd] = pos.length >= 2 ? [pos[0], pos[1]!] : [undefined, pos[0]!];
  if (!(COMMANDS as readonly string[]).includes(cmd)) return usage();
  const command = cmd as Command;

  const loc = locateConfig(given);
  if (!loc.path) {
    if (!args.debug) process.stderr.write(`${configNotFound(loc.path ?? loc.config)}\n`);
    return EXIT.generic;
  }
  const result = await loadConfig(loc.path, args.debug);
  for (const d of result.diagnostics) {
    process.stderr.write(`${configDiagnostic(d.severity, process.pid, loc.path, d.line, d.message)}\n`);
  }
  if (!result.config) return EXIT.configError;

  process.stderr.write(`ldirectord-ts: the "${command}" command is not available in this build yet\n`);
  return EXIT.generic;
}
