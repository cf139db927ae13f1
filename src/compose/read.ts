// The files a project names (compose files, .env and env_file files, secret and config sources),
// read whole with a cap: only a regular file (a directory, a FIFO or /dev/zero is refused before a
// byte is read, and opening never waits for a FIFO's writer), at most `limit` bytes.
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { CliError, messageOf } from '../errors.js';
import { readBoundedFd } from '../util/bounded-read.js';

// `what` names the file in messages: "compose file /p/compose.yaml", "env_file /p/.env".
export const readProjectFile = (path: string, what: string, limit: number): Buffer => {
  const kind = (s: { isFile(): boolean; isDirectory(): boolean }) =>
    s.isFile() ? undefined : s.isDirectory() ? 'not a regular file (a directory)' : 'not a regular file (a FIFO, socket or device)';
  let fd: number;
  try {
    const not = kind(statSync(path));
    if (not) throw new CliError('ECONFIG', `${what} is ${not}: give a file`);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('ECONFIG', `cannot read ${what}: ${messageOf(e)}`);
  }
  try {
    const not = kind(fstatSync(fd));
    if (not) throw new CliError('ECONFIG', `${what} is ${not}: give a file`);
    return readBoundedFd(fd, { what, limit, code: 'ECONFIG' });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('ECONFIG', `cannot read ${what}: ${messageOf(e)}`);
  } finally {
    closeSync(fd);
  }
};

export const readProjectText = (path: string, what: string, limit: number): string => readProjectFile(path, what, limit).toString('utf8');
