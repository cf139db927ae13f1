// A failure of a system call that comes from a limit of the host (open files, processes,
// namespaces), turned into one line that names the limit and how to raise it.
import { CliError } from '../errors.js';
import { limitHint } from '../rootless/host-limits.js';

// Returns the error to report for `error`: when it, or an error it wraps, is a system call's that
// failed at a limit (EMFILE, ENFILE, EAGAIN from spawning, ENOSPC from a namespace), a CliError
// with the hint after its message; else `error` itself. (A runtime's error line gets its hint
// where it is read: monitor.ts.)
export const explainLimit = (error: unknown): unknown => {
  if (!(error instanceof Error)) return error;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof CliError) continue;
    const { code = '', syscall = '' } = e as NodeJS.ErrnoException;
    const hint = limitHint(`${syscall} ${e.message} ${code}`);
    if (hint) return new CliError('ELIMIT', `${error.message}: ${hint}`, { cause: error, exitCode: error instanceof CliError ? error.exitCode : 125 });
  }
  return error;
};
