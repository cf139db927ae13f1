// A file error inside the rootless namespace that comes from what the namespace cannot see,
// turned into one line that says so and how to fix it.
import { CliError } from '../errors.js';
import { unseenMount } from '../rootless/mount-view.js';
import { inUserNamespace } from '../rootless/rootful.js';

// Returns the error to report for `error`: a CliError naming `skiff system migrate` when a path
// it failed on lies under a mount made after the namespace was; else `error` itself.
export const explainError = (error: unknown): unknown => {
  const e = error as NodeJS.ErrnoException;
  if (!(e instanceof Error) || (e.code !== 'EACCES' && e.code !== 'ENOENT') || !e.path || !inUserNamespace()) return error;
  const mount = unseenMount(e.path);
  if (!mount) return error;
  return new CliError(
    'EUSERNS',
    `the store is on ${mount}, a file system mounted after skiff's rootless namespace was made, which does not see it: run \`skiff system migrate\` to make a new one`,
    { cause: error },
  );
};
