// The one place that runs helper binaries (newuidmap, nsenter, crun, pasta, ...). Every call resolves
// the binary through findHelperBinary, logs its argv at debug level and turns a failure into a
// HelperError that carries the command line and the helper's stderr.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CliError } from '../errors.js';
import { log } from './log.js';

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

// Finds a helper: $SKIFF_HELPER_BINARY_DIR first (used in testing), then the usual sbin dirs, then $PATH.
export const findHelperBinary = (name: string): string | undefined => {
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
}

// Runs a helper to completion and returns its output; throws HelperError when it fails. Plain
// child_process: container start-up runs several helpers, and every millisecond here is in it.
// `input` goes to the helper's stdin (which is /dev/null without it).
export const runHelper = async (bin: string, argv: string[], options: { cwd?: string; input?: string } = {}): Promise<RunResult> => {
  log.debug(`exec: ${bin} ${argv.join(' ')}`);
  // Loaded on first use: commands that run no helper never load node:child_process.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.input !== undefined) child.stdin!.end(options.input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (error) => reject(new HelperError(bin, argv, undefined, '', error)));
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr });
      else reject(new HelperError(bin, argv, code ?? undefined, stderr || (signal ? `killed by ${signal}` : '')));
    });
  });
};
