// Runs one command: builds the command tree, parses argv, and turns every failure into one
// "Error: …" line and Podman's exit codes (125 for skiff's own errors and bad usage).
import { CommanderError, type Command } from 'commander';
import { explainError } from '../engine/namespace-errors.js';
import { setLogLevel, type LogLevel } from '../util/log.js';
import { exitCodeOf, printError } from './errors.js';
import { watchStdout } from './output/stdout.js';
import { buildProgram, firstCommand } from './program.js';

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
  program.hook('preAction', (_root, action) => {
    const level = action.optsWithGlobals().logLevel as LogLevel | undefined;
    if (level) setLogLevel(level);
  });
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
    const reported = explainError(error);
    printError(reported instanceof Error ? reported : new Error(String(reported)));
    process.exitCode = exitCodeOf(reported);
  }
};
