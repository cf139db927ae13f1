// skiff's own command, for what runs it later from elsewhere (systemd units, the Quadlet
// generator): the launcher bin/skiff beside the dist/ this Node runs (dist/main.js), by its
// absolute path.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const skiffPath = (): string => {
  const launcher = resolve(dirname(process.argv[1] ?? ''), '..', 'bin', 'skiff');
  return existsSync(launcher) ? launcher : join('/usr/bin', 'skiff');
};
