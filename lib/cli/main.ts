// The command line: same options, commands, streams and exit codes as the
// original (spec §1), plus -t to test a config.
//
// Node modules that only some paths need (child_process here, net, dns/promises
// elsewhere) are taken with process.getBuiltinModule where they are used: `status` runs
// every few seconds, and each Node module it loads costs start-up time, all the more as
// the V8 option on bin/ldirectord's #! line voids Node's code cache (bench/RESULTS.md, status).
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import { locateConfig } from './config-path.js';
import { COMMANDS, EXIT, USAGE_TEXT, configNotFound, unknownOption, type Command } from './texts.js';
import { VERSION_TEXT } from '../version.js';
import { digestText } from '../content-digest.js';
import { configDiagnostic } from '../config/messages.js';
import { parseConfig, formatDiagnostic } from '../config/parse.js';
import type { ParseResult } from '../config/model.js';
import { translateReceive } from '../config/receive.js';
import { locateIpvsadm } from '../ipvs/locate.js';
import { Logger } from '../log/log.js';
import type { DaemonOptions } from '../app/run-daemon.js';
import { DAEMON_ENV, STARTING_COMMANDS, runCommand } from './commands.js';
import { controlSocketPath, pidFilePath } from '../app/pidfile.js';

const MAN_PAGE = fileURLToPath(new URL('../../../man/ldirectord.8', import.meta.url));

function usage(): number {
  process.stdout.write(USAGE_TEXT);
  return EXIT.usage;
}

function showManual(): number {
  if (existsSync(MAN_PAGE)) {
    const r = process.getBuiltinModule('node:child_process').spawnSync('man', ['-l', MAN_PAGE], { stdio: 'inherit' });
    if (r.status === 0) return EXIT.ok;
  }
  process.stdout.write(USAGE_TEXT);
  return EXIT.ok;
}

/**
 * The daemon (checks, undici, the SQL drivers, execa, chokidar, ...) is loaded only
 * when this process becomes the daemon: `status`, which heartbeat runs every few
 * seconds, `stop`, `reload` and `-t` never pay for it (bench/RESULTS.md, status).
 */
async function runDaemonLazily(opts: DaemonOptions): Promise<number> {
  const { runDaemon } = await import('../app/run-daemon.js');
  const code = await runDaemon(opts);
  // A daemon that has stopped ends here, whatever timer or socket a check or a
  // library left open: its lock and the name `pgrep` finds go with the process.
  process.exit(code);
}

export async function loadConfig(path: string, debug: boolean): Promise<ParseResult> {
  return parseConfigText(readFileSync(path, 'utf8'), path, debug);
}

function parseConfigText(text: string, path: string, debug: boolean): Promise<ParseResult> {
  return parseConfig(text, { file: path, debug, validateReceive: translateReceive });
}

/**
 * The config file parsed, and with `withSum` the digest of its text, which the daemon's
 * autoreload compares with: the daemon keeps the sum, not the text (~40 bytes per real).
 * Undefined when the file cannot be read (said on stderr).
 */
async function readConfig(path: string, debug: boolean, withSum: boolean): Promise<{ result: ParseResult; sum?: number } | undefined> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    // A directory or an unreadable file where the config should be: as a missing one.
    process.stderr.write(`Can not read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return undefined;
  }
  const result = await parseConfigText(text, path, debug);
  if (!withSum) return { result };
  return { result, sum: digestText(text) };
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

/**
 * `[configfile] sync ...`: the config and the arguments after the word `sync`, or
 * undefined when this is not a sync. A config file named "sync" keeps working with the
 * original's commands (`ldirectord sync start`).
 */
export function syncInvocation(pos: readonly string[]): { given?: string; rest: readonly string[] } | undefined {
  if (pos.length >= 2 && pos[1] === 'sync') return { given: pos[0]!, rest: pos.slice(2) };
  if (pos[0] === 'sync' && !(pos.length >= 2 && (COMMANDS as readonly string[]).includes(pos[1]!))) return { rest: pos.slice(1) };
  return undefined;
}

async function sync(given: string | undefined, rest: readonly string[]): Promise<number> {
  const loc = locateConfig(given);
  if (!loc.path) {
    process.stderr.write(`${configNotFound(loc.config)}\n`);
    return EXIT.generic;
  }
  // Loaded only here: ssh2 would slow down every `status` call of heartbeat and Pacemaker.
  const { runSync } = await import('../sync/sync-command.js');
  return runSync(
    {
      configPath: loc.path,
      argv: rest,
      validate: async (path) => {
        const r = await loadConfig(path, false);
        return { valid: r.config !== undefined, diagnostics: r.diagnostics.map(formatDiagnostic) };
      },
    },
    { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) },
  );
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
  // Before the ipvsadm lookup: sync only talks to other directors.
  const syncCall = syncInvocation(pos);
  if (syncCall) return sync(syncCall.given, syncCall.rest);
  if (pos.length === 0) return usage();
  const [given, cmd] = pos.length >= 2 ? [pos[0], pos[1]!] : [undefined, pos[0]!];
  if (!(COMMANDS as readonly string[]).includes(cmd)) return usage();
  const command = cmd as Command;
  // --json changes what status prints; with any other command it is a mistake.
  if (args.json && command !== 'status') return usage();

  const ipvsadmPath = locateIpvsadm({ debug: args.debug });
  if (!ipvsadmPath) {
    process.stderr.write('Can not find ipvsadm\n');
    return EXIT.usage;
  }

  const loc = locateConfig(given);
  if (!loc.path) {
    // As the original's init_error: to stderr and to the (default) log; with -d the
    // log is stderr itself.
    process.stderr.write(`${configNotFound(loc.config)}\n`);
    if (!args.debug) {
      const fallbackLog = new Logger({ debug: false, supervised: false, logfile: '/var/log/ldirectord.log', cfgname: loc.cfgName });
      fallbackLog.log(configNotFound(loc.config));
      fallbackLog.log(`Exiting with exit_status ${EXIT.generic}: ${configNotFound(loc.config)}`);
      await fallbackLog.close();
    }
    return EXIT.generic;
  }
  const configPath = loc.path.startsWith('/') ? loc.path : resolve(loc.path);
  const read = await readConfig(loc.path, args.debug, STARTING_COMMANDS.has(command));
  if (!read) return EXIT.generic;
  const { result } = read;
  for (const d of result.diagnostics) {
    process.stderr.write(`${configDiagnostic(d.severity, process.pid, loc.path, d.line, d.message)}\n`);
  }
  if (!result.config) return EXIT.configError;
  const config = result.config;

  const logger = new Logger({
    debug: args.debug,
    supervised: config.globals.supervised,
    logfile: config.globals.logfile,
    cfgname: loc.cfgName,
  });
  const log = (m: string) => logger.log(m);
  const daemonOptions = (reportFd: number | undefined, foreground: boolean): DaemonOptions => ({
    config,
    configPath,
    cfgName: loc.cfgName,
    debug: args.debug,
    foreground,
    pidFile: pidFilePath(loc.cfgName),
    controlSocket: controlSocketPath(loc.cfgName),
    ipvsadmPath,
    ...(reportFd !== undefined ? { reportFd } : {}),
    parse: (text) => parseConfigText(text, configPath, args.debug),
    ...(read.sum !== undefined ? { configSum: read.sum } : {}),
    selfCommand: [process.execPath, process.argv[1]!],
  });

  // The detached daemon that `start` launched: the launcher did the pid-file checks.
  if (process.env[DAEMON_ENV] !== undefined && command === 'start') {
    const fd = Number(process.env[DAEMON_ENV]);
    delete process.env[DAEMON_ENV];
    await logger.close();
    return runDaemonLazily(daemonOptions(fd, false));
  }

  log(`Invoking ldirectord invoked as: ${process.argv[1]} ${argv.join(' ')} `);
  const code = await runCommand({
    command,
    configPath: loc.path,
    cfgName: loc.cfgName,
    argv: given !== undefined ? [given, 'start'] : ['start'],
    debug: args.debug,
    json: args.json,
    supervised: config.globals.supervised,
    log,
    runForeground: async () => {
      await logger.close();
      return runDaemonLazily(daemonOptions(undefined, true));
    },
    statusOfChildren: async () => {
      for (const name of config.globals.execute) {
        process
          .getBuiltinModule('node:child_process')
          .spawnSync(process.execPath, [process.argv[1]!, name, 'status'], { stdio: 'inherit' });
      }
    },
  });
  if (code !== EXIT.ok || args.debug) log(`Exiting with exit_status ${code}: Exiting from ldirectord ${command}`);
  await logger.close();
  return code;
}
