// How errors reach the user: one "Error: …" line on stderr; the cause chain and stack only at
// --log-level=debug; internal errors ask to be reported.
import { CliError, InternalError } from '../errors.js';
import { isDebug } from '../util/log.js';

export const printError = (error: Error): void => {
  let text = `Error: ${error.message}`;
  if (error instanceof InternalError) text += '\nThis is a bug in skiff: please report it with the output of `skiff --log-level=debug …`.';
  if (isDebug()) {
    text += `\n${error.stack ?? ''}`;
    for (let cause = error.cause; cause; cause = (cause as Error).cause) text += `\ncaused by: ${(cause as Error).stack ?? String(cause)}`;
  }
  process.stderr.write(`${text}\n`);
};

// The exit code for a thrown value: a CliError's own, else 125.
export const exitCodeOf = (error: unknown): number => (error instanceof CliError ? error.exitCode : 125);
