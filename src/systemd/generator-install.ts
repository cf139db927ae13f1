// Installs the generator: a two-line shell script that runs this checkout's `skiff systemd generate`
// with the directories systemd passes. It carries a mark line, so skiff replaces or removes only a
// script it wrote itself.
//
// systemd runs user generators only from the system's directories (USER_GENERATOR_DIRS), never
// from a home directory. Installed as root into /etc/systemd/user-generators, the script runs in
// every user's manager, for that user. Without root (installUserUnits), two user units do its work:
// skiff-quadlet.path watches ~/.config/containers/systemd and runs skiff-quadlet.service, which
// writes the units into ~/.local/share/systemd/user (a lasting unit dir, so that their [Install]
// links hold at the next boot before anything runs) and reloads the manager.
import { chmodSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { configHome } from './generator.js';
import { systemdCommand, systemdWord } from './units.js';

export const GENERATOR_NAME = 'skiff-generator';

const MARK = '# Written by skiff systemd install-generator';

// Where systemd looks for user generators (systemd.generator(7): the same four dirs from 249 to 257).
export const USER_GENERATOR_DIRS = [
  '/run/systemd/user-generators',
  '/etc/systemd/user-generators',
  '/usr/local/lib/systemd/user-generators',
  '/usr/lib/systemd/user-generators',
];

// Whether systemd runs the user generators in `dir`.
export const runsGenerators = (dir: string): boolean => USER_GENERATOR_DIRS.includes(dir.replace(/\/+$/, ''));

// One shell word, single-quoted ('it'\''s').
const shellQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

export const generatorScript = (skiffPath: string): string =>
  `#!/bin/sh\n${MARK}: the systemd user generator for Quadlet files (see skiff systemd generate --help).\nexec ${shellQuote(skiffPath)} systemd generate "$@"\n`;

// The default place: root's goes where systemd runs it for every user; a user's in their own config.
export const defaultGeneratorDir = (env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string =>
  uid === 0 ? '/etc/systemd/user-generators' : join(configHome(env), 'systemd/user-generators');

// Whether the file at `path` is one skiff wrote: false when there is none, an error when it is someone else's.
const ownedScript = (path: string): boolean => {
  let isFile: boolean;
  try {
    isFile = lstatSync(path).isFile();
  } catch {
    return false;
  }
  if (
    !isFile ||
    !readFileSync(path, 'utf8')
      .split('\n')
      .slice(0, 3)
      .some((line) => line.startsWith(MARK))
  )
    throw new CliError('EUSAGE', `${path} exists and skiff did not write it: move it away first, or install elsewhere with --dir`);
  return true;
};

export const QUADLET_UNITS = ['skiff-quadlet.path', 'skiff-quadlet.service'];

// The two units of the rootless install (see the top), for the user whose dirs these are.
export const quadletUserUnits = (skiffPath: string, quadletDir: string, outDir: string): Record<string, string> => ({
  'skiff-quadlet.path': [
    `${MARK}: regenerates units when a Quadlet file changes.`,
    '[Unit]',
    `Description=skiff: watch ${quadletDir} for Quadlet files`,
    '',
    '[Path]',
    `PathChanged=${systemdWord(quadletDir, false)}`,
    'MakeDirectory=yes',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n'),
  'skiff-quadlet.service': [
    `${MARK}: the units of Quadlet files, for a user who cannot install a systemd generator.`,
    '[Unit]',
    `Description=skiff: services from the Quadlet files in ${quadletDir}`,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${systemdCommand([skiffPath, 'systemd', 'generate', '--sync', outDir])}`,
    'ExecStartPost=systemctl --user --no-block daemon-reload',
    '',
  ].join('\n'),
});

// Writes the two units into `unitDir` (~/.config/systemd/user) and the path unit's
// default.target.wants link; a file there that skiff did not write is an error. Returns their paths.
export const installUserUnits = (unitDir: string, units: Record<string, string>): string[] => {
  const paths = Object.keys(units).map((name) => join(unitDir, name));
  for (const path of paths) ownedScript(path);
  for (const [name, text] of Object.entries(units)) writeFileAtomic(join(unitDir, name), text, 0o644);
  const wants = join(unitDir, 'default.target.wants', 'skiff-quadlet.path');
  mkdirSync(dirname(wants), { recursive: true });
  rmSync(wants, { force: true });
  symlinkSync('../skiff-quadlet.path', wants);
  return paths;
};

// Removes them (only files skiff wrote) and the link; the paths removed.
export const uninstallUserUnits = (unitDir: string): string[] => {
  const removed = QUADLET_UNITS.map((name) => join(unitDir, name)).filter((path) => ownedScript(path));
  for (const path of removed) rmSync(path);
  if (removed.length) rmSync(join(unitDir, 'default.target.wants', 'skiff-quadlet.path'), { force: true });
  return removed;
};

export interface GeneratorReport {
  path: string;
  /** Whether systemd runs generators from that directory. */
  searched: boolean;
  /** install: whether it replaced an older script of skiff's; uninstall: whether there was one. */
  existed: boolean;
}

// A generator installed as root runs in every user's manager: the skiff it runs must be root's
// alone (it and every directory above it, and what it runs: dist/, the native build), or any user
// who can change it runs code as every other. Throws what is not.
export const checkRootOwned = (skiffPath: string): void => {
  const root = dirname(dirname(skiffPath));
  const paths = [skiffPath, join(root, 'dist'), join(root, 'dist', 'main.js'), join(root, 'dist', 'skiff.cjs'), join(root, 'native', 'build')];
  for (let dir = root; ; dir = dirname(dir)) {
    paths.push(dir);
    if (dir === dirname(dir)) break;
  }
  for (const path of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.uid !== 0 || (st.mode & 0o022) !== 0)
      throw new CliError(
        'EUSAGE',
        `${path} is not root's alone (owner uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): a generator for every user must run a skiff no user can change; install skiff under /usr/local or /opt as root`,
      );
  }
};

// Writes the script (mode 0755, atomically) into `dir`.
export const installGenerator = (dir: string, skiffPath: string): GeneratorReport => {
  const path = join(dir, GENERATOR_NAME);
  const existed = ownedScript(path);
  writeFileAtomic(path, generatorScript(skiffPath), 0o755);
  // (Against a umask that took bits off the mode the file was made with.)
  chmodSync(path, 0o755);
  return { path, searched: runsGenerators(dir), existed };
};

// Removes the script from `dir`, if skiff wrote it.
export const uninstallGenerator = (dir: string): GeneratorReport => {
  const path = join(dir, GENERATOR_NAME);
  const existed = ownedScript(path);
  if (existed) rmSync(path);
  return { path, searched: runsGenerators(dir), existed };
};
