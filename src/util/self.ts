// skiff's own command, for what runs it later from elsewhere (systemd units, the Quadlet
// generator, auto-update): the launcher bin/skiff beside the dist/ this Node runs (dist/main.js),
// by its absolute path (not what a link to it points at).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError } from '../errors.js';

export const skiffPath = (): string => {
  const launcher = resolve(dirname(process.argv[1] ?? ''), '..', 'bin', 'skiff');
  if (!existsSync(launcher)) throw new CliError('EINTERNAL', `cannot find skiff's launcher at ${launcher} (beside ${process.argv[1]})`);
  return launcher;
};
