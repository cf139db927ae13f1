// Errors from work on a container's files (cp, diff, export, commit) say the container's paths, as
// the user wrote them, not where the store keeps them (…/containers/<id>/merged/etc/passwd).
import { CliError, messageOf } from '../errors.js';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// `text` with every path under one of `roots` (the mounted root, the upper dir) as the container's.
export const toContainerPaths = (text: string, roots: string[]): string =>
  roots.reduce((out, root) => out.replace(new RegExp(`${escapeRegExp(root)}(/|(?![^\\s'"\`,:;)]))`, 'g'), '/'), text);

// The error `error` in the container's terms: a file system error (ENOTDIR, EACCES, …) on one of its
// paths becomes one line naming that path and the container; other errors keep their own words.
export const inContainerTerms = (error: unknown, roots: string[], container: string): unknown => {
  const message = messageOf(error);
  if (!roots.some((root) => message.includes(root))) return error;
  const fsError = error as NodeJS.ErrnoException & { dest?: string };
  if (!(error instanceof CliError) && fsError.syscall && fsError.path) {
    // Node's message is "CODE: description, syscall 'path'[ -> 'dest']": keep the description.
    const description = /^[A-Z0-9_]+: ([^,]+),/.exec(message)?.[1] ?? fsError.code ?? message;
    const paths = [fsError.path, fsError.dest]
      .filter(Boolean)
      .map((p) => toContainerPaths(p!, roots))
      .join(' -> ');
    return new CliError('EUSAGE', `${fsError.syscall} ${paths} in container ${container}: ${description}`, { cause: error });
  }
  const code = error instanceof CliError ? error.code : 'EINTERNAL';
  const exitCode = error instanceof CliError ? error.exitCode : undefined;
  return new CliError(code, `${toContainerPaths(message, roots)} (in container ${container})`, { cause: error, exitCode });
};
