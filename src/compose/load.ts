// Finds, reads, interpolates, checks and merges a project's compose files as Docker Compose does.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { InterpolationError, interpolate, parseEnvFile } from './interpolate.js';
import { mergeFiles } from './merge.js';
import { normalizeFile, normalizeProject, type Project } from './model.js';
import { ComposeFileError, child, readSource, type Value } from './source.js';
import { validateSource } from './validate.js';

export interface LoadOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export interface Loaded {
  project: Project;
  files: string[];
  warnings: string[];
}

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
export const OVERRIDE_FILES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

// Compose looks in the working directory, then in each parent, for the first directory with a file.
export const findFiles = (cwd: string, warnings: string[]): string[] => {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const found = DEFAULT_FILES.filter((f) => existsSync(join(dir, f)));
    if (found.length) {
      if (found.length > 1) warnings.push(`Found multiple config files with supported names: ${found.map((f) => join(dir, f)).join(', ')}; using ${found[0]}`);
      const override = OVERRIDE_FILES.find((f) => existsSync(join(dir, f)));
      return [join(dir, found[0]), ...(override ? [join(dir, override)] : [])];
    }
    if (dirname(dir) === dir) break;
  }
  throw new ComposeFileError(`no configuration file provided: no ${DEFAULT_FILES.join(', ')} in ${cwd} or its parents (give one with -f)`);
};

// Compose's rule for a name from a directory: lower case, only a-z 0-9 _ -, starting with a letter or digit.
export const normalizeProjectName = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^-_a-z0-9]+/g, '')
    .replace(/^[^a-z0-9]+/, '');

const checkProjectName = (name: string, from: string): string => {
  if (!/^[a-z0-9][-_a-z0-9]*$/.test(name))
    throw new ComposeFileError(
      `${from} "${name}" is not a valid project name: use lower-case letters, digits, dashes and underscores, starting with a letter or digit`,
    );
  return name;
};

export const loadProject = (options: LoadOptions = {}): Loaded => {
  const cwd = options.cwd ?? process.cwd();
  const osEnv = options.env ?? process.env;
  const warnings: string[] = [];
  let fileNames = options.files?.length ? options.files : undefined;
  if (!fileNames && osEnv.COMPOSE_FILE) fileNames = osEnv.COMPOSE_FILE.split(osEnv.COMPOSE_PATH_SEPARATOR ?? ':').filter(Boolean);
  if (fileNames?.includes('-')) throw new ComposeFileError('-f -: reading a compose file from standard input is not supported yet: give a file');
  const files = fileNames ? fileNames.map((f) => resolve(cwd, f)) : findFiles(cwd, warnings);
  const workingDir = options.projectDirectory ? resolve(cwd, options.projectDirectory) : dirname(files[0]);

  // .env of the project directory (or --env-file), under the shell's environment, which wins.
  const envFiles = options.envFiles?.length ? options.envFiles.map((f) => resolve(cwd, f)) : [join(workingDir, '.env')].filter((f) => existsSync(f));
  let dotenv: Record<string, string> = {};
  for (const f of envFiles) {
    if (!existsSync(f)) throw new ComposeFileError(`--env-file ${f}: no such file`);
    try {
      dotenv = { ...dotenv, ...parseEnvFile(readFileSync(f, 'utf8'), f, { ...dotenv, ...osEnv }) };
    } catch (e) {
      throw new ComposeFileError((e as Error).message);
    }
  }
  const env: Record<string, string | undefined> = { ...dotenv, ...osEnv };

  const unset = new Set<string>();
  const normalized = files.map((file) => {
    if (!existsSync(file)) throw new ComposeFileError(`${file}: no such file`);
    const source = readSource(readFileSync(file, 'utf8'), file);
    source.value = interpolateTree(
      source.value,
      '',
      (path, e) => {
        const line = source.lines.get(path);
        return new ComposeFileError(`${file}${line ? `:${line}` : ''}: ${path}: ${e.message}`);
      },
      env,
      unset,
    );
    validateSource(source);
    return normalizeFile(source, workingDir, env);
  });
  for (const name of unset) warnings.push(`The "${name}" variable is not set. Defaulting to a blank string.`);
  const merged = mergeFiles(normalized);

  let name: string;
  if (options.projectName) name = checkProjectName(options.projectName, '-p');
  else if (env.COMPOSE_PROJECT_NAME) name = checkProjectName(env.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME');
  else if (typeof merged.name === 'string' && merged.name) name = checkProjectName(merged.name, 'name:');
  else name = normalizeProjectName(basename(workingDir));
  if (!name) throw new ComposeFileError(`the directory ${workingDir} gives no project name: give one with -p or name:`);
  return { project: normalizeProject(merged, name, workingDir), files, warnings };
};

// Compose-go's casts after interpolation: `init: ${INIT}` is a boolean, `retries: ${N}` a number.
const BOOLEAN_PATHS = [
  /^services\.[^.]+\.(init|read_only)$/,
  /^services\.[^.]+\.healthcheck\.disable$/,
  /^services\.[^.]+\.volumes\[\d+\]\.read_only$/,
  /^services\.[^.]+\.depends_on\.[^.]+\.(required|restart)$/,
  /^(networks|volumes)\.[^.]+\.(external|internal)$/,
];
const NUMBER_PATHS = [/^services\.[^.]+\.healthcheck\.retries$/, /^services\.[^.]+\.ports\[\d+\]\.target$/];
const cast = (value: string, path: string): Value => {
  if (BOOLEAN_PATHS.some((r) => r.test(path))) {
    if (/^(true|yes|y|on)$/i.test(value)) return true;
    if (/^(false|no|n|off)$/i.test(value)) return false;
  }
  if (NUMBER_PATHS.some((r) => r.test(path)) && /^\d+$/.test(value)) return Number(value);
  return value;
};

// Interpolates every string value (not keys) of a file, errors naming the path.
const interpolateTree = (
  v: Value,
  path: string,
  fail: (path: string, e: Error) => Error,
  env: Record<string, string | undefined>,
  unset: Set<string>,
): Value => {
  if (typeof v === 'string') {
    try {
      const out = interpolate(v, env, (n) => unset.add(n));
      return out !== v ? cast(out, path) : out;
    } catch (e) {
      if (e instanceof InterpolationError) throw fail(path, e);
      throw e;
    }
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolateTree(x, child(path, i), fail, env, unset));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateTree(x, child(path, k), fail, env, unset)]));
  return v;
};

export const absolute = (base: string, p: string): string => (isAbsolute(p) ? p : resolve(base, p));
