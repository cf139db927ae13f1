// The one place that runs helper binaries (newuidmap, nsenter, crun, pasta, ...). Every call resolves
// the binary through findHelperBinary, logs its argv at debug level and turns a failure into a
// HelperError that carries the command line and the helper's stderr.
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CliError } from '../errors.js';
import { log } from './log.js';
import { native } from './native.js';

export class HelperError extends CliError {
  readonly bin: string;
  readonly argv: string[];
  readonly helperExitCode: number | undefined;
  readonly stderr: string;

  constructor(bin: string, argv: string[], helperExitCode: number | undefined, stderr: string, cause?: unknown) {
    const detail = stderr.trim().split('\n').pop() || (cause instanceof Error ? cause.message : `exit code ${helperExitCode}`);
    super('EHELPER', `${bin} ${argv.join(' ')}: ${detail}`, { cause });
    this.name = 'HelperError';
    this.bin = bin;
    this.argv = argv;
    this.helperExitCode = helperExitCode;
    this.stderr = stderr;
  }
}

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

// Finds a helper: $SKIFF_HELPER_BINARY_DIR first (used in testing), then $PATH, then the usual bin
// and sbin dirs. Looked up once per process and search path (a `run` asks for pasta twice).
const found = new Map<string, string | undefined>();

export const findHelperBinary = (name: string): string | undefined => {
  // --network-cmd-path (Podman's): the slirp4netns to run.
  if (name === 'slirp4netns' && process.env.SKIFF_NETWORK_CMD_PATH) return process.env.SKIFF_NETWORK_CMD_PATH;
  const key = `${name}\0${process.env.SKIFF_HELPER_BINARY_DIR ?? ''}\0${process.env.PATH ?? ''}`;
  if (!found.has(key)) found.set(key, lookUpHelper(name));
  return found.get(key);
};

const lookUpHelper = (name: string): string | undefined => {
  const dirs = [
    ...(process.env.SKIFF_HELPER_BINARY_DIR?.split(delimiter) ?? []),
    ...(process.env.PATH?.split(delimiter) ?? []),
    '/usr/local/bin',
    '/usr/bin',
    '/usr/sbin',
    '/sbin',
    '/usr/libexec/podman',
  ].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
};

// Resolves a helper or fails with a message that names the package to install.
export const requireHelperBinary = (name: string, debianPackage: string): string => {
  const path = findHelperBinary(name);
  if (!path) throw new CliError('EHELPER', `${name} not found: install it (Debian/Ubuntu: apt-get install ${debianPackage})`, { exitCode: 127 });
  return path;
};

export interface RunResult {
  stdout: string;
  stderr: string;
  /** stdout as bytes (a secret's data may be any bytes). */
  stdoutBytes: Buffer;
}

// A pipe's whole content, read without the thread pool (node:net is loaded on first use).
export const readPipe = async (fd: number): Promise<Buffer> => {
  const { Socket } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
};

export interface Spawned {
  pid: number;
  /** The exit code, or 128 + the signal that ended it. */
  exited: Promise<number>;
}

export interface SpawnOptions {
  cwd?: string;
  /** The file executed in place of `bin` (which stays argv[0]). */
  exe?: string;
  /** A session of its own: a helper that outlives this command, away from its terminal's signals. */
  setsid?: boolean;
  /** Variables set (a value) or removed (undefined) in the child's environment. */
  env?: Record<string, string | undefined>;
}

// Starts a process through the addon's posix_spawn (Node's child_process forks, which costs
// milliseconds at Node's size: see native/addon) and returns its pid; the caller reaps it. Every
// child process skiff starts goes through here. `fds[i]` becomes the child's fd i; null gives it
// /dev/null. The caller closes its own copies of the descriptors it passed. A `bin` without a
// slash is looked up in PATH.
export const startHelper = (bin: string, argv: string[], fds: (number | null)[], options: SpawnOptions = {}): number => {
  const devnull = openSync('/dev/null', 'r+');
  // posix_spawn passes this process's environment: changed for the call, and put back.
  const saved = Object.entries(options.env ?? {}).map(([key, value]) => {
    const old = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
    return [key, old] as const;
  });
  try {
    return native().spawn(
      options.exe ?? bin,
      [bin, ...argv],
      fds.map((fd) => fd ?? devnull),
      options.cwd ?? null,
      options.setsid ?? false,
    );
  } finally {
    closeSync(devnull);
    for (const [key, old] of saved) {
      if (old === undefined) delete process.env[key];
      else process.env[key] = old;
    }
  }
};

// Sends a signal to a process that may be gone already.
export const signalQuietly = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
};

// The exit code of a raw wait status: the code, or 128 + the signal that ended it.
const exitCodeOf = (status: number): number => (status < 0 ? 128 : (status & 0x7f) === 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));

// startHelper, reaped in the background (on libuv's thread pool: only for a process this command
// outlives or waits for; a long-lived helper is left to be reaped by whoever inherits it).
export const spawnHelper = (bin: string, argv: string[], fds: (number | null)[], options: SpawnOptions = {}): Spawned => {
  const pid = startHelper(bin, argv, fds, options);
  return { pid, exited: native().waitpid(pid).then(exitCodeOf) };
};

// Runs a helper to completion and returns its output; throws HelperError when it fails.
// `input` goes to the helper's stdin (which is /dev/null without it); `env` as spawnHelper's.
export const runHelper = async (
  bin: string,
  argv: string[],
  options: { cwd?: string; input?: string | Buffer; exe?: string; env?: Record<string, string | undefined> } = {},
): Promise<RunResult> => {
  log.debug(`exec: ${bin} ${argv.join(' ')}`);
  const n = native();
  const [outRead, outWrite] = n.pipe();
  const [errRead, errWrite] = n.pipe();
  const [inRead, inWrite] = options.input === undefined ? [null, null] : n.pipe();
  let child: Spawned;
  try {
    child = spawnHelper(bin, argv, [inRead, outWrite, errWrite], { cwd: options.cwd, exe: options.exe, env: options.env });
  } catch (error) {
    for (const fd of [outRead, errRead, inWrite]) if (fd !== null) closeSync(fd);
    throw new HelperError(bin, argv, undefined, '', error);
  } finally {
    for (const fd of [outWrite, errWrite, inRead]) if (fd !== null) closeSync(fd);
  }
  if (inWrite !== null) {
    const { Socket } = await import('node:net');
    new Socket({ fd: inWrite, readable: false, writable: true }).on('error', () => undefined).end(options.input ?? '');
  }
  const [out, err, code] = await Promise.all([readPipe(outRead), readPipe(errRead), child.exited]);
  const stdout = out.toString();
  const stderr = err.toString();
  if (code === 0) return { stdout, stderr, stdoutBytes: out };
  throw new HelperError(bin, argv, code, stderr || (code > 128 ? `killed by signal ${code - 128}` : ''));
};
