// The systemd user generator's work: find the user's Quadlet files, translate them all, write the
// units and their [Install] symlinks. It runs at every `systemctl --user daemon-reload`, often
// before anything else of the user's session, so it reads only these files and never the
// container store, and one bad file never stops the others.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { isQuadletFile, quadletRef, translateQuadlet, type QuadletError, type QuadletRef, type QuadletUnit } from './quadlet.js';

// One Quadlet file found: its text, or why it could not be read.
export interface QuadletSource {
  path: string;
  name: string;
  text?: string;
  readError?: string;
}

// The user's home: $HOME, else (a generator's environment may lack it) the passwd entry's.
export const homeDir = (env: NodeJS.ProcessEnv = process.env): string => {
  if (env.HOME) return env.HOME;
  try {
    return userInfo().homedir;
  } catch {
    return '/';
  }
};

// $XDG_CONFIG_HOME, else ~/.config.
export const configHome = (env: NodeJS.ProcessEnv = process.env): string => env.XDG_CONFIG_HOME || join(homeDir(env), '.config');

// Where a user's Quadlet files are, the first the strongest (a name found in one hides it in the
// others): their own, then the administrator's for that uid, then the administrator's for all users.
export const quadletDirs = (env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string[] => [
  join(configHome(env), 'containers/systemd'),
  `/etc/containers/systemd/users/${uid}`,
  '/etc/containers/systemd/users',
];

// A search dir and its subdirectories, parents first, as Podman walks them: drop-in dirs (NAME.d)
// are not units, and under users/ a numeric dir is some uid's own (searched on its own, first).
const walkDir = (root: string, seen: Set<string>): string[] => {
  let real: string;
  try {
    real = realpathSync(root);
    if (seen.has(real) || !statSync(real).isDirectory()) return [];
  } catch {
    return [];
  }
  seen.add(real);
  const subdirs = namesIn(real).filter((name) => !name.endsWith('.d') && !(basename(real) === 'users' && /^\d+$/.test(name)));
  return [real, ...subdirs.flatMap((name) => walkDir(join(real, name), seen))];
};

// The Quadlet files in the search dirs, each name once (the first found wins), sorted by name.
export const findQuadletFiles = (dirs: string[]): QuadletSource[] => {
  const seen = new Set<string>();
  const found = new Map<string, QuadletSource>();
  for (const dir of dirs.flatMap((d) => walkDir(d, seen)))
    for (const name of namesIn(dir)) {
      const path = join(dir, name);
      if (found.has(name) || !isQuadletFile(name) || !isFile(path)) continue;
      found.set(name, readSource(path));
    }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
};

// A directory's entries, sorted; none when it cannot be read.
const namesIn = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

// Reads one Quadlet file, keeping why it could not be read.
export const readSource = (path: string): QuadletSource => {
  try {
    return { path, name: basename(path), text: readFileSync(path, 'utf8') };
  } catch (error) {
    return { path, name: basename(path), readError: (error as NodeJS.ErrnoException).code ?? messageOf(error) };
  }
};

// What each file makes, for the others' references to it (Volume=data.volume:/data).
export const quadletRefs = (sources: QuadletSource[]): Map<string, QuadletRef> => {
  const refs = new Map<string, QuadletRef>();
  for (const source of sources) {
    const ref = source.text !== undefined && quadletRef(source.name, source.text);
    if (ref && !refs.has(source.name)) refs.set(source.name, ref);
  }
  return refs;
};

export interface TranslateReport {
  units: QuadletUnit[];
  errors: QuadletError[];
}

// Translates each of `sources` (references resolved against `refs`); a file with an error makes no
// unit, and two files that would make the same unit are an error for the second.
export const translateSources = (sources: QuadletSource[], refs: Map<string, QuadletRef>, skiffPath: string): TranslateReport => {
  const report: TranslateReport = { units: [], errors: [] };
  const made = new Map<string, string>();
  for (const source of sources) {
    if (source.text === undefined) {
      report.errors.push({ file: source.path, line: 0, message: `cannot read the file: ${source.readError}` });
      continue;
    }
    let result: ReturnType<typeof translateQuadlet>;
    try {
      result = translateQuadlet(source.path, source.text, skiffPath, { refs, exists: existsSync });
    } catch (error) {
      // (One file's failure, even a bug of skiff's, must not cost the user the others' units.)
      result = { errors: [{ file: source.path, line: 0, message: messageOf(error) }] };
    }
    if ('errors' in result) report.errors.push(...result.errors);
    else if (made.has(result.unitName))
      report.errors.push({ file: source.path, line: 1, message: `it would make ${result.unitName}, which ${made.get(result.unitName)} makes already` });
    else {
      made.set(result.unitName, source.path);
      report.units.push(result);
    }
  }
  return report;
};

// Writes the units and their symlinks into the generator's output dir. A unit that cannot be
// written is reported and the others go on; an output dir that cannot be made stops everything.
// `sync` (a lasting dir that others' units share: the rootless install): what skiff wrote there
// before and does not write now is removed, by the list it keeps in SYNC_LIST.
export const writeUnits = (outDir: string, units: QuadletUnit[], sync = false): string[] => {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new CliError('EUSAGE', `cannot make the output directory ${outDir}: ${messageOf(error)}`);
  }
  const failures: string[] = [];
  const list = join(outDir, SYNC_LIST);
  // (Only plain relative names: a list edited to point elsewhere touches nothing outside.)
  const before =
    sync && existsSync(list)
      ? readFileSync(list, 'utf8')
          .split('\n')
          .filter((n) => n && !n.startsWith('/') && !n.split('/').includes('..'))
      : [];
  // A file there that skiff did not write (a unit of the user's own) is neither replaced nor removed.
  const foreign = (name: string) => sync && !before.includes(name) && lstatExists(join(outDir, name));
  const planned = units.filter((u) => {
    if (!foreign(u.unitName)) return true;
    failures.push(`${join(outDir, u.unitName)} exists and skiff did not write it: leaving it, and not making ${u.unitName} from a Quadlet file`);
    return false;
  });
  const names = planned.flatMap((u) => [u.unitName, ...u.links.map((l) => l.path).filter((p) => !foreign(p))]);
  // Recorded before anything is written: a kill midway leaves nothing skiff would not know to remove.
  if (sync) writeFileAtomic(list, `${[...new Set([...before, ...names])].join('\n')}\n`, 0o644);
  const written: string[] = [];
  for (const unit of planned) {
    try {
      // (The generator's output dir is a tmpfs systemd rebuilds at each reload: no fsync there.)
      writeFileAtomic(join(outDir, unit.unitName), unit.unitText, 0o644, sync);
      written.push(unit.unitName);
      for (const link of unit.links) {
        if (foreign(link.path)) continue;
        const path = join(outDir, link.path);
        mkdirSync(dirname(path), { recursive: true });
        rmSync(path, { force: true });
        symlinkSync(link.target, path);
        written.push(link.path);
      }
    } catch (error) {
      failures.push(`cannot write ${unit.unitName} in ${outDir}: ${messageOf(error)}`);
    }
  }
  if (sync) {
    for (const old of before) if (!written.includes(old)) rmSync(join(outDir, old), { force: true });
    writeFileAtomic(list, `${written.join('\n')}\n`, 0o644);
  }
  return failures;
};

const lstatExists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

// The list of what `generate --sync` wrote into its directory.
export const SYNC_LIST = '.skiff-quadlet-units';

// The generator: every Quadlet file of the user's, translated into `outDir`. Returns the problems
// to report, one line each (bad files, units that could not be written).
export const generate = (
  outDir: string,
  skiffPath: string,
  env: NodeJS.ProcessEnv = process.env,
  sync = false,
): { written: string[]; errors: QuadletError[]; failures: string[] } => {
  const sources = findQuadletFiles(quadletDirs(env));
  const { units, errors } = translateSources(sources, quadletRefs(sources), skiffPath);
  const failures = writeUnits(resolve(outDir), units, sync);
  return { written: units.map((u) => u.unitName), errors, failures };
};

// Checks files as the generator would translate them: references resolve against the user's
// Quadlet files, the files beside each one and the files given (those last win).
export const checkFiles = (paths: string[], skiffPath: string, env: NodeJS.ProcessEnv = process.env): TranslateReport => {
  const given = paths.map((p) => readSource(resolve(p)));
  const beside = findQuadletFiles([...new Set(given.map((s) => dirname(s.path)))]);
  const refs = quadletRefs([...given, ...beside, ...findQuadletFiles(quadletDirs(env))]);
  return translateSources(given, refs, skiffPath);
};
