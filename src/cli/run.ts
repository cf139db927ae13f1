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
}): void => {
  const level = globals.logLevel === 'trace' ? 'debug' : globals.logLevel === 'fatal' || globals.logLevel === 'panic' ? 'error' : globals.logLevel;
  if (level) setLogLevel(level as LogLevel);
  const remote = (['url', 'connection', 'identity', 'remote'] as const).find((k) => globals[k] !== undefined);
  if (remote) throw new CliError('EUSAGE', `--${remote}: skiff has no remote service; run skiff on the machine itself (ssh there)`);
  if (globals.tmpdir !== undefined) process.env.TMPDIR = resolve(globals.tmpdir);
  if (globals.conmon !== undefined) {
    if (!existsSync(globals.conmon)) throw new CliError('EUSAGE', `--conmon ${globals.conmon}: no such file (skiff's monitor is native/build/skiff-monitor)`);
    process.env.SKIFF_MONITOR = resolve(globals.conmon);
  }
  if (globals.noout) silenceStdout();
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
