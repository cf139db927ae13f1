// containers-registries.conf(5), as Podman reads it: the user's ~/.config/containers/registries.conf
// (else /etc/containers/registries.conf; $CONTAINERS_REGISTRIES_CONF names another), then the
// registries.conf.d drop-ins in name order, each overriding what it sets: the search list, the
// short-name mode, [[registry]] tables by prefix, [aliases] by name ("" erases one). The aliases
// Podman records after a prompt (~/.cache/containers/short-name-aliases.conf) win over all.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { log } from '../util/log.js';
import { dropInFiles, expectBool, expectString, expectStrings, isTable, readTomlFile, type TomlDoc } from './toml-files.js';

export interface MirrorConfig {
  location: string;
  insecure: boolean;
  /** pull-from-mirror: which references the mirror serves (default all). */
  pullFromMirror?: 'all' | 'digest-only' | 'tag-only';
}

export interface RegistryConfig {
  /** What image names it applies to: host[:port][/path…], or *.domain (subdomains). */
  prefix: string;
  /** Where the prefix's images really are; "" for a wildcard prefix (names are used as they are). */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorConfig[];
  mirrorByDigestOnly?: boolean;
  /** The file that set it (for messages: "blocked by FILE"). */
  origin?: string;
}

export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';

export interface ShortNameAlias {
  /** A fully qualified name without tag or digest ("docker.io/library/busybox"). */
  value: string;
  origin: string;
}

// The registry settings of one file or of several merged; undefined: the file(s) said nothing.
export interface RegistrySettings {
  search?: { registries: string[]; origin: string };
  shortNameMode?: ShortNameMode;
  /** By prefix. */
  registries: Map<string, RegistryConfig>;
  /** By short name; a null value erases an alias set by an earlier file. */
  aliases: Map<string, ShortNameAlias | null>;
}

export const emptySettings = (): RegistrySettings => ({ registries: new Map(), aliases: new Map() });

const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;
const PATH_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const SHORT_NAME_MODES: ShortNameMode[] = ['enforcing', 'permissive', 'disabled'];

const invalid = (file: string, why: string): CliError => new CliError('ECONFIG', `${file}: ${why}`);

// A prefix or location: host[:port][/path], no URL scheme, no trailing slash.
const parseLocation = (value: string, key: string, file: string): string => {
  const trimmed = value.replace(/\/+$/, '');
  if (/^[a-z]+:\/\//i.test(trimmed)) throw invalid(file, `${key} "${value}": URL schemes are not supported (write host[:port][/path])`);
  return trimmed;
};

// A short name as an alias's key: a repository path without registry, tag or digest.
const checkAliasName = (name: string, file: string): void => {
  const first = name.split('/')[0];
  if (name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    throw invalid(file, `alias "${name}" is not a short name: it names a registry`);
  if (!PATH_RE.test(name)) throw invalid(file, `alias "${name}" is not a short name (a repository path without tag or digest)`);
};

// An alias's value: registry/path, no tag or digest.
const checkAliasValue = (name: string, value: string, file: string): void => {
  const slash = value.indexOf('/');
  const host = slash > 0 ? value.slice(0, slash) : '';
  const qualified = host.includes('.') || host.includes(':') || host === 'localhost';
  const lastSlash = value.lastIndexOf('/');
  if (!qualified || !HOST_RE.test(host) || !PATH_RE.test(value.slice(slash + 1)) || value.indexOf(':', lastSlash) > lastSlash || value.includes('@'))
    throw invalid(file, `alias "${name}" = "${value}": the value must be a fully qualified name without tag or digest (registry.example/path/name)`);
};

const parseMirror = (m: unknown, file: string, registryDigestOnly: boolean): MirrorConfig => {
  if (!isTable(m)) throw invalid(file, 'use [[registry.mirror]] tables');
  const location = parseLocation(expectString(m.location, 'registry.mirror.location', file), 'registry.mirror.location', file);
  if (!location) throw invalid(file, 'a [[registry.mirror]] needs a location');
  const mirror: MirrorConfig = { location, insecure: m.insecure === undefined ? false : expectBool(m.insecure, 'registry.mirror.insecure', file) };
  if (m['pull-from-mirror'] !== undefined && m['pull-from-mirror'] !== '') {
    const value = m['pull-from-mirror'];
    if (value !== 'all' && value !== 'digest-only' && value !== 'tag-only')
      throw invalid(file, `pull-from-mirror must be "all", "digest-only" or "tag-only", not ${JSON.stringify(value)}`);
    if (registryDigestOnly) throw invalid(file, `mirror ${location}: pull-from-mirror cannot be set with the registry's mirror-by-digest-only`);
    mirror.pullFromMirror = value;
  }
  return mirror;
};

const parseRegistry = (entry: unknown, file: string): RegistryConfig => {
  if (!isTable(entry)) throw invalid(file, 'use [[registry]] tables');
  const location = entry.location === undefined ? '' : parseLocation(expectString(entry.location, 'registry.location', file), 'registry.location', file);
  const prefix =
    entry.prefix === undefined || entry.prefix === '' ? location : parseLocation(expectString(entry.prefix, 'registry.prefix', file), 'registry.prefix', file);
  if (!prefix) throw invalid(file, 'each [[registry]] needs a prefix or a location');
  const wildcard = prefix.startsWith('*.');
  if (wildcard && /[/@:]/.test(prefix)) throw invalid(file, `prefix "${prefix}": a wildcard prefix is *.domain, without port or path`);
  const digestOnly = entry['mirror-by-digest-only'] === undefined ? false : expectBool(entry['mirror-by-digest-only'], 'registry.mirror-by-digest-only', file);
  const mirrors = entry.mirror === undefined ? [] : Array.isArray(entry.mirror) ? entry.mirror.map((m) => parseMirror(m, file, digestOnly)) : [];
  if (entry.mirror !== undefined && !Array.isArray(entry.mirror)) throw invalid(file, 'use [[registry.mirror]] tables');
  return {
    prefix,
    // A prefix alone (not a wildcard) is its own location (skiff.conf has always allowed that).
    location: location || (wildcard ? '' : prefix),
    insecure: entry.insecure === undefined ? false : expectBool(entry.insecure, 'registry.insecure', file),
    blocked: entry.blocked === undefined ? false : expectBool(entry.blocked, 'registry.blocked', file),
    mirrors,
    ...(digestOnly ? { mirrorByDigestOnly: true } : {}),
    origin: file,
  };
};

// The deprecated version 1 tables ([registries.search] registries = [...], .insecure, .block).
const fromV1 = (v1: TomlDoc, file: string, settings: RegistrySettings): void => {
  const list = (key: string): string[] => {
    const table = v1[key];
    return isTable(table) && table.registries !== undefined ? expectStrings(table.registries, `registries.${key}.registries`, file) : [];
  };
  const search = list('search');
  if (search.length) settings.search = { registries: search, origin: file };
  const entry = (host: string): RegistryConfig => {
    const existing = settings.registries.get(host) ?? { prefix: host, location: host, insecure: false, blocked: false, mirrors: [], origin: file };
    settings.registries.set(host, existing);
    return existing;
  };
  for (const host of list('insecure')) entry(host).insecure = true;
  for (const host of list('block')) entry(host).blocked = true;
};

// One file's settings; `dropIn`: version 1 tables are refused there (as Podman does).
export const parseRegistriesDoc = (doc: TomlDoc, file: string, dropIn: boolean): RegistrySettings => {
  const settings = emptySettings();
  if (isTable(doc.registries)) {
    if (dropIn) throw invalid(file, 'a drop-in file must use the version 2 format ([[registry]] tables), not [registries.search]');
    if (doc.registry !== undefined || doc['unqualified-search-registries'] !== undefined)
      throw invalid(file, 'mixes the version 1 format ([registries.search]) with version 2 ([[registry]]): use one');
    fromV1(doc.registries, file, settings);
  }
  const search = doc['unqualified-search-registries'];
  if (search !== undefined) {
    if (!Array.isArray(search)) throw invalid(file, 'unqualified-search-registries must be a list');
    const registries = search.map((s) => parseLocation(expectString(s, 'unqualified-search-registries entries', file), 'unqualified-search-registries', file));
    for (const r of registries) if (!HOST_RE.test(r)) throw invalid(file, `unqualified-search-registries entry "${r}" is not a registry host[:port]`);
    settings.search = { registries, origin: file };
  }
  const mode = doc['short-name-mode'];
  if (mode !== undefined && mode !== '') {
    if (!SHORT_NAME_MODES.includes(mode as ShortNameMode)) throw invalid(file, `short-name-mode must be "enforcing", "permissive" or "disabled"`);
    settings.shortNameMode = mode as ShortNameMode;
  }
  if (doc.registry !== undefined) {
    if (!Array.isArray(doc.registry)) throw invalid(file, 'use [[registry]] tables');
    // Of several tables with one prefix the first counts (as Podman's).
    for (const entry of doc.registry.map((e) => parseRegistry(e, file)))
      if (!settings.registries.has(entry.prefix)) settings.registries.set(entry.prefix, entry);
  }
  if (doc.aliases !== undefined) {
    if (!isTable(doc.aliases)) throw invalid(file, 'use an [aliases] table of "name" = "registry/path" entries');
    for (const [name, value] of Object.entries(doc.aliases)) {
      checkAliasName(name, file);
      const text = expectString(value, `aliases."${name}"`, file);
      if (text !== '') checkAliasValue(name, text, file);
      settings.aliases.set(name, text === '' ? null : { value: text, origin: file });
    }
  }
  const helpers = doc['credential-helpers'];
  if (Array.isArray(helpers) && helpers.some((h) => h !== 'containers-auth.json'))
    log.debug(`${file}: credential-helpers: skiff reads auth files only (containers-auth.json); the helpers are not run`);
  return settings;
};

// `update` over `base`: what it sets wins, tables by prefix, aliases by name.
export const mergeRegistrySettings = (base: RegistrySettings, update: RegistrySettings): RegistrySettings => ({
  search: update.search ?? base.search,
  shortNameMode: update.shortNameMode ?? base.shortNameMode,
  registries: new Map([...base.registries, ...update.registries]),
  aliases: new Map([...base.aliases, ...update.aliases]),
});

export interface RegistriesSources {
  /** The main file and whether it must exist ($CONTAINERS_REGISTRIES_CONF must). */
  main: string;
  required: boolean;
  dropInDirs: string[];
  /** Aliases Podman recorded after prompting: they win over registries.conf's. */
  aliasCache: string;
}

// Which files Podman would read, for this environment (`root`: a prefix for /etc, for tests).
export const registriesSources = (env: NodeJS.ProcessEnv, root = ''): RegistriesSources => {
  const home = env.HOME ?? '/';
  const userFile = join(home, '.config/containers/registries.conf');
  const userDir = join(home, '.config/containers/registries.conf.d');
  const systemDir = join(root, '/etc/containers/registries.conf.d');
  const aliasCache = join(env.XDG_CACHE_HOME || join(home, '.cache'), 'containers/short-name-aliases.conf');
  if (env.CONTAINERS_REGISTRIES_CONF) return { main: env.CONTAINERS_REGISTRIES_CONF, required: true, dropInDirs: [systemDir, userDir], aliasCache };
  // The user's own file replaces the system's, drop-ins included.
  if (existsSync(userFile)) return { main: userFile, required: false, dropInDirs: [userDir], aliasCache };
  return { main: join(root, '/etc/containers/registries.conf'), required: false, dropInDirs: [systemDir, userDir], aliasCache };
};

// Reads and merges the registries.conf files of `sources`.
export const loadRegistriesConf = (sources: RegistriesSources): RegistrySettings => {
  const main = readTomlFile(sources.main, sources.required);
  let settings = main ? parseRegistriesDoc(main, sources.main, false) : emptySettings();
  for (const file of sources.dropInDirs.flatMap(dropInFiles)) {
    const doc = readTomlFile(file);
    if (doc) settings = mergeRegistrySettings(settings, parseRegistriesDoc(doc, file, true));
  }
  const cache = readTomlFile(sources.aliasCache);
  if (cache) {
    const recorded = parseRegistriesDoc({ aliases: cache.aliases ?? {} }, sources.aliasCache, true);
    settings = mergeRegistrySettings(settings, { registries: new Map(), aliases: recorded.aliases });
  }
  return settings;
};
