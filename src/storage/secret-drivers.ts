// Where a secret's data lives, by its driver (Podman's): file (the default: one 0600 file per secret
// in a 0700 directory of skiff's store, or driver-opts path=DIR) or shell (the user's own commands,
// run by /bin/sh with SECRET_ID set: store= reads the data on stdin, lookup= prints it, delete=
// removes it; list= is required as Podman requires it). pass is refused: Podman's talks to gpg
// directly, and a shell driver whose commands call `pass` does the same job.
import { closeSync, constants, mkdirSync, openSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { readBoundedFd, tooLargeError } from '../util/bounded-read.js';
import { HelperError, runHelper } from '../util/exec.js';
import { writeFileAtomic } from '../util/fs.js';
import { SECRET_DATA_MAX } from '../util/limits.js';

export type SecretDriverName = 'file' | 'shell';

/** One secret store. Ids are skiff's own (hex): never a path of the user's choosing. */
export interface SecretDriver {
  /** Keeps `data` under `id`, a new id each time (a replaced secret gets a new one). */
  store(id: string, data: Buffer): Promise<void>;
  /** The data kept under `id`; ENOSECRET when there is none. */
  lookup(id: string): Promise<Buffer>;
  /** Forgets `id`'s data; no error when it is gone already. */
  delete(id: string): Promise<void>;
}

const SHELL_KEYS = ['list', 'lookup', 'store', 'delete'];

// The driver's options as they are recorded: checked, with the file driver's directory filled in.
export const checkDriverOptions = (driver: string, options: Record<string, string>, defaultPath: string): Record<string, string> => {
  if (driver === 'pass')
    throw new CliError(
      'EUSAGE',
      'secret driver pass is not supported by skiff: use --driver file (the default), or --driver shell with --driver-opts commands that call pass (list=,lookup=,store=,delete=)',
    );
  if (driver === 'file') {
    const unknown = Object.keys(options).find((k) => k !== 'path');
    if (unknown) throw new CliError('EUSAGE', `invalid driver option "${unknown}" for secret driver file: it takes only path=DIRECTORY`);
    if (options.path !== undefined && !isAbsolute(options.path))
      throw new CliError('EUSAGE', `invalid driver option path="${options.path}" for secret driver file: give an absolute directory`);
    return { path: options.path ?? defaultPath };
  }
  if (driver === 'shell') {
    const unknown = Object.keys(options).find((k) => !SHELL_KEYS.includes(k));
    if (unknown) throw new CliError('EUSAGE', `invalid driver option "${unknown}" for secret driver shell: it takes list=, lookup=, store= and delete=`);
    const missing = SHELL_KEYS.filter((k) => !options[k]);
    if (missing.length)
      throw new CliError(
        'EUSAGE',
        `secret driver shell needs the commands ${missing.map((k) => `${k}=`).join(', ')} in --driver-opts (run by /bin/sh with SECRET_ID set)`,
      );
    return { ...options };
  }
  throw new CliError('EUSAGE', `invalid secret driver "${driver}": use file (the default) or shell`);
};

const noData = (id: string, why: string): CliError => new CliError('ENOSECRET', `no data for secret ${id}: ${why}`);

// file: DIR/ID, written to a temp file and renamed (never half there), read without following a link.
const fileDriver = (dir: string): SecretDriver => ({
  async store(id, data) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, id), data, 0o600);
  },
  async lookup(id) {
    let fd: number;
    try {
      fd = openSync(join(dir, id), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      throw noData(id, (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${join(dir, id)} is gone` : messageOf(error));
    }
    try {
      return readBoundedFd(fd, { what: `the data of secret ${id}`, limit: SECRET_DATA_MAX, code: 'EUSAGE' });
    } finally {
      closeSync(fd);
    }
  },
  async delete(id) {
    rmSync(join(dir, id), { force: true });
  },
});

// shell: each command through /bin/sh -c, SECRET_ID in its environment; a failure names the command.
const shellDriver = (options: Record<string, string>): SecretDriver => {
  const run = async (key: 'store' | 'lookup' | 'delete', id: string, input?: Buffer): Promise<Buffer> => {
    try {
      return (await runHelper('/bin/sh', ['-c', options[key]], { env: { SECRET_ID: id }, ...(input ? { input } : {}) })).stdoutBytes;
    } catch (error) {
      const detail = error instanceof HelperError ? error.stderr.trim().split('\n').pop() || `exit code ${error.helperExitCode}` : messageOf(error);
      throw new CliError('EHELPER', `secret driver shell: the ${key} command failed for secret ${id}: ${detail}`, { cause: error });
    }
  };
  return {
    async store(id, data) {
      await run('store', id, data);
    },
    async lookup(id) {
      const data = await run('lookup', id);
      if (data.length > SECRET_DATA_MAX) throw tooLargeError({ what: `the data of secret ${id}`, limit: SECRET_DATA_MAX, code: 'EUSAGE' });
      return data;
    },
    async delete(id) {
      await run('delete', id);
    },
  };
};

// The driver a secret was recorded with (its options checked at create).
export const secretDriver = (driver: string, options: Record<string, string>): SecretDriver =>
  driver === 'shell' ? shellDriver(options) : fileDriver(options.path);
