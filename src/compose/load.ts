// Finds, reads, interpolates, checks and merges a project's compose files as Docker Compose does.
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { isValidName, NAME_MAX } from '../util/names.js';
import { COMPOSE_FILE_MAX, ENV_FILE_MAX, INTERPOLATED_MAX } from '../util/limits.js';
import { type Budget, InterpolationError, interpolate, parseEnvFile } from './interpolate.js';
import { mergeFiles, mergeService } from './merge.js';
import { type FileModel, normalizeFile, normalizeProject, type Project, type ServiceConfig } from './model.js';
import { readProjectText } from './read.js';
import { ComposeFileError, child, readSource, type Value } from './source.js';
import { validateSource } from './validate.js';

export interface LoadOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  /** --profile flags (COMPOSE_PROFILES when none). */
  profiles?: string[];
  /** false: variables are left as written (config --no-interpolate). */
  interpolate?: boolean;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export interface Loaded {
  project: Project;
  files: string[];
  warnings: string[];
  /** The variables interpolation used: .env (or --env-file) under the shell's. */
  environment: Record<string, string | undefined>;
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
      dotenv = { ...dotenv, ...parseEnvFile(readProjectText(f, `env file ${f}`, ENV_FILE_MAX), f, { ...dotenv, ...osEnv }) };
    } catch (e) {
      if (e instanceof InterpolationError) throw new ComposeFileError(e.message);
      throw e;
    }
  }
  const env: Record<string, string | undefined> = { ...dotenv, ...osEnv };

  const unset = new Set<string>();
  const normalized = files.map((file) =>
    loadFile(file, workingDir, env, {
      osEnv,
      unset,
      chain: [],
      reads: { count: 0 },
      budget: { left: INTERPOLATED_MAX },
      interpolate: options.interpolate !== false,
    }),
  );
  for (const name of unset) warnings.push(`The "${name}" variable is not set. Defaulting to a blank string.`);
  const merged = mergeFiles(normalized);

  let name: string;
  if (options.projectName) name = checkProjectName(options.projectName, '-p');
  else if (env.COMPOSE_PROJECT_NAME) name = checkProjectName(env.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME');
  else if (typeof merged.name === 'string' && merged.name) name = checkProjectName(merged.name, 'name:');
  else name = normalizeProjectName(basename(workingDir));
  if (!name) throw new ComposeFileError(`the directory ${workingDir} gives no project name: give one with -p or name:`);
  const profiles = options.profiles?.length ? options.profiles : (env.COMPOSE_PROFILES ?? '').split(',').filter(Boolean);
  const project = normalizeProject(merged, name, workingDir, profiles);
  checkNames(project);
  // Secrets and configs from a variable: its value now (docker compose reads it when it loads).
  for (const section of [project.secrets, project.configs])
    for (const o of Object.values(section ?? {})) if (o.environment !== undefined && env[o.environment] !== undefined) o.content = env[o.environment];
  return { project: { ...project, configFiles: files }, files, warnings, environment: env };
};

// The names the project will give its containers, networks and volumes, checked before anything is
// made (the engine would refuse one halfway through an up): valid, and no container_name taken twice
// or equal to a name PROJECT-SERVICE-N the project gives a replica.
const checkNames = (project: Project): void => {
  const all = { ...project.services, ...project.disabled };
  const replicas = (s: ServiceConfig) => s.scale ?? s.deploy?.replicas ?? 1;
  const given = new Map<string, string>();
  for (const [service, s] of Object.entries(all)) {
    const name = s.container_name ?? `${project.name}-${service}-1`;
    if (!isValidName(name))
      throw new ComposeFileError(
        `services.${service}: its container would be named ${JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name)}, not a valid container name (letters, digits, _ . -, at most ${NAME_MAX} characters): rename it${s.container_name ? '' : ' or give it a container_name'}`,
      );
    if (!s.container_name) continue;
    const other = given.get(name);
    if (other) throw new ComposeFileError(`services.${service}.container_name: "${name}" is already the container name of service ${other}: give each its own`);
    given.set(name, service);
    const generated = name.startsWith(`${project.name}-`) ? /^(.+)-(\d+)$/.exec(name.slice(project.name.length + 1)) : null;
    const owner = generated && all[generated[1]];
    if (owner && !owner.container_name && Number(generated[2]) >= 1 && Number(generated[2]) <= replicas(owner))
      throw new ComposeFileError(`services.${service}.container_name: "${name}" is the name of service ${generated[1]}'s container: give it another`);
  }
  for (const [kind, section] of [
    ['network', project.networks],
    ['volume', project.volumes],
  ] as const)
    for (const [key, o] of Object.entries(section))
      if (o.name !== undefined && !isValidName(o.name))
        throw new ComposeFileError(
          `${kind}s.${key}: ${JSON.stringify(o.name)} is not a valid ${kind} name (letters, digits, _ . -, starting with a letter or digit)`,
        );
};

// Includes and extends of includes and extends: each read anew, so a few files including each
// other twice over would be read 2^N times.
export const FILE_READS_MAX = 1000;

interface LoadContext {
  osEnv: Record<string, string | undefined>;
  unset: Set<string>;
  /** The files being read (includes and extends), their real paths, to refuse a cycle. */
  chain: string[];
  /** How many files were read for the project (a file included or extended twice counts twice). */
  reads: { count: number };
  /** What interpolation may still make, for all the project's files together. */
  budget: Budget;
  interpolate: boolean;
}

// One file read, interpolated, checked and normalized (relative paths from `base`), its includes
// added and its services' extends resolved.
const loadFile = (file: string, base: string, env: Record<string, string | undefined>, ctx: LoadContext): FileModel => {
  if (!existsSync(file)) throw new ComposeFileError(`${file}: no such file`);
  // By its real path: through a symbolic link (to the file, or to a directory above it) it is the same file.
  const real = realpathSync(file);
  if (ctx.chain.includes(real)) throw new ComposeFileError(`${file}: includes or extends itself: ${[...ctx.chain, real].join(' → ')}`);
  if (++ctx.reads.count > FILE_READS_MAX)
    throw new ComposeFileError(`${file}: the project reads more than ${FILE_READS_MAX} compose files (includes and extends, counted each time): refusing it`);
  const source = readSource(readProjectText(file, `compose file ${file}`, COMPOSE_FILE_MAX), file);
  if (ctx.interpolate)
    source.value = interpolateTree(
      source.value,
      '',
      (path, e) => {
        const line = source.lines.get(path);
        return new ComposeFileError(`${file}${line ? `:${line}` : ''}: ${path}: ${e.message}`);
      },
      env,
      ctx.unset,
      ctx.budget,
    );
  validateSource(source);
  const model = normalizeFile(source, base, env);
  const inner = { ...ctx, chain: [...ctx.chain, real] };
  const at = (path: string) => `${file}${source.lines.get(path) ? `:${source.lines.get(path)}` : ''}: ${path}`;
  const includes = ((source.value as { include?: Value[] }).include ?? []) as Value[];
  for (const [i, entry] of includes.entries()) {
    const o = (typeof entry === 'string' ? { path: entry } : entry) as { path: string | string[]; project_directory?: string; env_file?: string | string[] };
    const paths = (typeof o.path === 'string' ? [o.path] : o.path).map((p) => resolve(dirname(file), p));
    const dir = o.project_directory ? resolve(dirname(file), o.project_directory) : dirname(paths[0]);
    const envFiles = o.env_file
      ? (typeof o.env_file === 'string' ? [o.env_file] : o.env_file).map((f) => resolve(dirname(file), f))
      : [join(dir, '.env')].filter((f) => existsSync(f));
    let dotenv: Record<string, string> = {};
    for (const f of envFiles) {
      if (!existsSync(f)) throw new ComposeFileError(`${at(child('include', i))}: env_file ${f}: no such file`);
      try {
        dotenv = { ...dotenv, ...parseEnvFile(readProjectText(f, `env_file ${f}`, ENV_FILE_MAX), f, { ...dotenv, ...ctx.osEnv }) };
      } catch (e) {
        if (e instanceof InterpolationError) throw new ComposeFileError(`${at(child('include', i))}: ${e.message}`);
        throw e;
      }
    }
    const included = mergeFiles(paths.map((p) => loadFile(p, dir, envFiles.length ? { ...dotenv, ...ctx.osEnv } : env, inner)));
    model.origins = { ...included.origins, ...model.origins };
    // What an include brings may not differ from what the including file (or an earlier include) has.
    for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
      const mine = (model[section] ??= {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(included[section] ?? {})) {
        if (Object.hasOwn(mine, k) && JSON.stringify(mine[k]) !== JSON.stringify(v))
          throw new ComposeFileError(`${at(child(section, k))} conflicts with the one ${paths.join(', ')} includes: rename one of them`);
        mine[k] = v;
      }
    }
  }
  // extends: the base service (of this file, or of file:, read from its own directory), then this one over it.
  const resolved = new Map<string, ServiceConfig>();
  const resolveService = (name: string, chain: string[]): ServiceConfig => {
    const done = resolved.get(name);
    if (done) return done;
    const s = model.services[name];
    if (!s.extends) return s;
    const path = child(child('services', name), 'extends');
    if (chain.includes(name)) throw new ComposeFileError(`${at(path)}: extends itself: ${[...chain, name].join(' → ')}`);
    const { extends: ext, ...local } = s;
    let base: ServiceConfig | undefined;
    if (ext.file) {
      const other = resolve(dirname(file), ext.file);
      base = loadFile(other, dirname(other), env, inner).services[ext.service];
      if (!base) throw new ComposeFileError(`${at(path)}: no service "${ext.service}" in ${other}`);
    } else {
      if (!model.services[ext.service]) throw new ComposeFileError(`${at(path)}: no service "${ext.service}" in this file`);
      base = resolveService(ext.service, [...chain, name]);
    }
    const out = mergeService(base, local);
    resolved.set(name, out);
    return out;
  };
  for (const name of Object.keys(model.services)) model.services[name] = resolveService(name, []);
  return model;
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
  budget: Budget,
): Value => {
  if (typeof v === 'string') {
    try {
      const out = interpolate(v, env, (n) => unset.add(n), budget);
      return out !== v ? cast(out, path) : out;
    } catch (e) {
      if (e instanceof InterpolationError) throw fail(path, e);
      throw e;
    }
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolateTree(x, child(path, i), fail, env, unset, budget));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolateTree(x, child(path, k), fail, env, unset, budget)]));
  return v;
};

export const absolute = (base: string, p: string): string => (isAbsolute(p) ? p : resolve(base, p));
