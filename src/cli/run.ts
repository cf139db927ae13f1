// Runs one command: builds the command tree, parses argv, and turns every failure into one
// "Error: …" line and Podman's exit codes (125 for skiff's own errors and bad usage).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { CliError } from '../errors.js';
import { explainError } from '../engine/namespace-errors.js';
import { explainLimit } from '../engine/limit-errors.js';
import { setLogLevel, type LogLevel } from '../util/log.js';
import { exitCodeOf, printError } from './errors.js';
import { silenceStdout, watchStdout } from './output/stdout.js';
import { buildProgram, firstCommand } from './program.js';

// The global options that act before any command: the log level (Podman's trace is debug, its
// fatal and panic error), TMPDIR, the monitor's path, --noout; Podman's remote options refused.
const applyGlobals = (globals: {
  logLevel?: string;
  tmpdir?: string;
  conmon?: string;
  noout?: boolean;
  url?: string;
  connection?: string;
  identity?: string;
  remote?: boolean;
  namespace?: string;
}): void => {
  const level = globals.logLevel === 'trace' ? 'debug' : globals.logLevel === 'fatal' || globals.logLevel === 'panic' ? 'error' : globals.logLevel;
  if (level) setLogLevel(level as LogLevel);
  const remote = (['url', 'connection', 'identity', 'remote'] as const).find((k) => globals[k] !== undefined);
  if (remote) throw new CliError('EUSAGE', `--${remote}: skiff has no remote service; run skiff on the machine itself (ssh there)`);
  // Podman's libpod namespaces (separate views of one store) are a store each in skiff.
  if (globals.namespace)
    throw new CliError('EUSAGE', `--namespace ${globals.namespace}: skiff has one namespace per store: use --root DIR and --runroot DIR for a separate set`);
  if (globals.tmpdir !== undefined) process.env.TMPDIR = resolve(globals.tmpdir);
  if (globals.conmon !== undefined) {
    if (!existsSync(globals.conmon)) throw new CliError('EUSAGE', `--conmon ${globals.conmon}: no such file (skiff's monitor is native/build/skiff-monitor)`);
    process.env.SKIFF_MONITOR = resolve(globals.conmon);
  }
  if (globals.noout) silenceStdout();
};

const findCommand = (group: Command, word: string): Command | undefined => group.commands.find((c) => c.name() === word || c.aliases().includes(word));

// A group's command word (`skiff image WORD`) that names none of its commands is Podman's
// "unrecognized command" (with --help too, as an unknown top-level command); no word at all prints
// the group's help and fails, as Podman's "missing command".
const checkGroupCommand = (program: Command, args: string[]): void => {
  const first = firstCommand(args);
  let group = first ? findCommand(program, first) : undefined;
  if (!group) return;
  const path = [first!];
  for (let i = args.indexOf(first!) + 1; group.commands.length; i++) {
    // (A group's own options may take values: `compose -f FILE up`.)
    const takesValue = (a: string) => !a.includes('=') && group!.options.some((o) => (o.required || o.optional) && (o.long === a || o.short === a));
    const word = args.slice(i).find((a, j, rest) => !a.startsWith('-') && !(j > 0 && takesValue(rest[j - 1])));
    const where = ['skiff', ...path].join(' ');
    if (word === undefined) {
      if (args.includes('--help') || args.includes('-h')) return;
      group.outputHelp();
      throw new CliError('EUSAGE', `missing command '${where} COMMAND'`);
    }
    if (word === 'help') return;
    const next = findCommand(group, word);
    if (!next) throw new CliError('EUSAGE', `unrecognized command \`${where} ${word}\`\nTry '${where} --help' for more information`);
    i = args.indexOf(word, i);
    path.push(word);
    group = next;
  }
};

export const run = async (argv: string[]): Promise<void> => {
  // A reader that stops early (`skiff export x | head`) ends the output, not with a stack trace.
  watchStdout();
  const program = buildProgram(argv);
  const quiet = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: () => {} });
    cmd.commands.forEach(quiet);
  };
  quiet(program);
  program.hook('preAction', (_root, action) => applyGlobals(action.optsWithGlobals()));
  // `skiff nosuch --help` is an unknown command, not a request for the top-level help.
  const named = firstCommand(argv.slice(2));
  if (named && named !== 'help' && !program.commands.some((c) => c.name() === named || c.aliases().includes(named)))
    argv = argv.filter((a) => a !== '--help' && a !== '-h');
  try {
    checkGroupCommand(program, argv.slice(2));
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return;
      process.stderr.write(`Error: ${error.message.replace(/^error: /, '')}\nSee 'skiff --help'.\n`);
      process.exitCode = 125;
      return;
    }
    const reported = explainLimit(explainError(error));
    printError(reported instanceof Error ? reported : new Error(String(reported)));
    process.exitCode = exitCodeOf(reported);
  }
};
