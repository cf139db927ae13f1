// The one place that runs helper binaries (newuidmap, nsenter, crun, pasta, ...). Every call resolves
// the binary through findHelperBinary, logs its argv at debug level and turns a failure into a
// HelperError that carries the command line and the helper's stderr.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Options } from 'execa';
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

// Runs a helper to completion and returns its output; throws HelperError when it fails.
export const runHelper = async (bin: string, argv: string[], options: Options = {}): Promise<RunResult> => {
  log.debug(`exec: ${bin} ${argv.join(' ')}`);
  // execa is loaded on first use: commands that run no helper never pay for parsing it.
  const { execa } = await import('execa');
  try {
    const result = await execa(bin, argv, { stdin: 'ignore', ...options, reject: true });
    return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
  } catch (error) {
    const e = error as { exitCode?: number; stderr?: unknown };
    throw new HelperError(bin, argv, e.exitCode, typeof e.stderr === 'string' ? e.stderr : '', error);
  }
};
