// skiff.conf: one TOML file with registries.conf's registry settings and skiff's own storage settings.
//
//   unqualified-search-registries = ["docker.io"]
//   short-name-mode = "permissive"   # or "enforcing", "disabled" (containers-registries.conf(5))
//   [[registry]]
//   prefix = "localhost:5000"        # or location = ..., matched against the reference's registry/path
//   insecure = true                  # plain HTTP or unverified TLS allowed
//   [[registry.mirror]]
//   location = "mirror.example:5000"
//   [aliases]
//   "app" = "registry.example/team/app"
//   [storage]
//   userns = "auto"                  # "single": map only the user's own uid (no /etc/subuid range)
//   rootfs = "auto"                  # or "overlay", "fuse-overlayfs", "copy": how container roots are made
//   [engine]
//   runtime = "crun"                 # or "runc", or a path to either
//   cgroup_manager = "auto"          # or "systemd", "cgroupfs", "none": who makes containers' cgroups
//   events_logfile_max_size = "1m"   # the events log moves to events.log.1 past this size (0: never)
//   [network]
//   backend = "auto"                 # or "bridge", "pasta", "slirp4netns": a container's default network
//
// A Podman user's configuration carries over where skiff.conf says nothing: registries.conf and
// its drop-ins (search registries, [[registry]] tables, aliases: see registries-conf.ts) and
// containers.conf (container defaults, runtime, hooks, events: see containers-conf.ts).
// Precedence, highest first: a command-line flag, skiff.conf, containers.conf / registries.conf,
// skiff's default. skiff.conf's [[registry]] tables and aliases merge over registries.conf's (by
// prefix, by name), as one more drop-in would.
import { CliError } from '../errors.js';
import { type ContainerDefaults, containersConfFiles, loadContainersConf } from './containers-conf.js';
import {
  emptySettings,
  loadRegistriesConf,
  mergeRegistrySettings,
  parseRegistriesDoc,
  type RegistryConfig,
  type RegistrySettings,
  registriesSources,
  type ShortNameAlias,
  type ShortNameMode,
} from './registries-conf.js';
import { readTomlFile } from './toml-files.js';

export type { MirrorConfig, RegistryConfig, ShortNameAlias, ShortNameMode } from './registries-conf.js';
export type { ContainerDefaults } from './containers-conf.js';

export interface SkiffConfig {
  unqualifiedSearchRegistries: string[];
  /** The file that set the search list (undefined: skiff's default, docker.io). */
  searchOrigin?: string;
  shortNameMode: ShortNameMode;
  /** Short name → fully qualified name (registries.conf's [aliases], skiff.conf's over them). */
  aliases: Record<string, ShortNameAlias>;
  registries: RegistryConfig[];
  storage: { userns: 'auto' | 'single'; rootfs: RootfsDriverSetting };
  engine: {
    runtime: string;
    cgroupManager: CgroupManagerSetting;
    /** containers.conf [engine.runtimes]: a runtime's name → the paths it may be at. */
    runtimes: Record<string, string[]>;
    /** containers.conf hooks_dir (the global --hooks-dir replaces it). */
    hooksDir?: string[];
    eventsLogfilePath?: string;
    eventsLogger?: 'file' | 'none';
    /** containers.conf tmp_dir: TMPDIR, unless --tmpdir or TMPDIR say otherwise. */
    tmpDir?: string;
    /** [engine] events_logfile_max_size (skiff.conf): the events log rotates past it (0: never). */
    eventsLogfileMaxSize: number;
  };
  network: { backend: NetworkBackendSetting; defaultNetwork?: string };
  /** containers.conf [containers]: defaults below the create/run flags. */
  containers: ContainerDefaults;
  /** The containers.conf files read (for messages). */
  containersConfFiles: string[];
}

export type CgroupManagerSetting = 'auto' | 'systemd' | 'cgroupfs' | 'none';
export const CGROUP_MANAGERS: CgroupManagerSetting[] = ['auto', 'systemd', 'cgroupfs', 'none'];

export type NetworkBackendSetting = 'auto' | 'bridge' | 'pasta' | 'slirp4netns';
const NETWORK_BACKENDS: NetworkBackendSetting[] = ['auto', 'bridge', 'pasta', 'slirp4netns'];

export type RootfsDriverSetting = 'auto' | 'overlay' | 'fuse-overlayfs' | 'copy';
const ROOTFS_SETTINGS: RootfsDriverSetting[] = ['auto', 'overlay', 'fuse-overlayfs', 'copy'];

export const defaultConfig = (): SkiffConfig => ({
  unqualifiedSearchRegistries: ['docker.io'],
  shortNameMode: 'permissive',
  aliases: {},
  registries: [],
  storage: { userns: 'auto', rootfs: 'auto' },
  engine: { runtime: 'crun', cgroupManager: 'auto', runtimes: {}, eventsLogfileMaxSize: 1_000_000 },
  network: { backend: 'auto' },
  containers: {},
  containersConfFiles: [],
});

const asString = (value: unknown, what: string, file: string): string => {
  if (typeof value !== 'string') throw new CliError('ECONFIG', `${file}: ${what} must be a string`);
  return value;
};

// Podman's sizes in containers.conf: bytes, or a number with b, k, m or g (decimal: "1m" is 1,000,000).
const asSize = (value: unknown, what: string, file: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)$/i.exec(String(value).trim());
  if ((typeof value !== 'string' && typeof value !== 'number') || !m)
    throw new CliError('ECONFIG', `${file}: ${what} must be a size such as "1m", "512k" or 0`);
  return Math.floor(Number(m[1]) * { '': 1, b: 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g']);
};

const oneOf = <T extends string>(value: unknown, allowed: T[], what: string, file: string): T => {
  if (!allowed.includes(value as T)) throw new CliError('ECONFIG', `${file}: ${what} must be one of ${allowed.map((d) => `"${d}"`).join(', ')}`);
  return value as T;
};

export interface ConfigSources {
  /** Where HOME, XDG_CONFIG_HOME, CONTAINERS_CONF and CONTAINERS_REGISTRIES_CONF are read (process.env). */
  env?: NodeJS.ProcessEnv;
  /** A prefix for /etc and /usr/share (tests). */
  root?: string;
}

// Podman's files under skiff.conf: registries.conf's settings (skiff.conf's merged over them), then containers.conf's.
const applyPodmanFiles = (config: SkiffConfig, skiffRegistries: RegistrySettings, sources: ConfigSources): void => {
  const env = sources.env ?? process.env;
  const podman = loadRegistriesConf(registriesSources(env, sources.root));
  const registries = mergeRegistrySettings(podman, skiffRegistries);
  if (registries.search) {
    config.unqualifiedSearchRegistries = registries.search.registries;
    config.searchOrigin = registries.search.origin;
  }
  if (registries.shortNameMode) config.shortNameMode = registries.shortNameMode;
  config.registries = [...registries.registries.values()];
  for (const [name, alias] of registries.aliases) if (alias) config.aliases[name] = alias;

  const conf = loadContainersConf(containersConfFiles(env, sources.root));
  const e = conf.engine;
  config.containers = conf.containers;
  config.containersConfFiles = conf.files;
  config.engine = {
    ...config.engine,
    ...(e.runtime ? { runtime: e.runtime } : {}),
    ...(e.cgroupManager ? { cgroupManager: e.cgroupManager } : {}),
    runtimes: e.runtimes,
    ...(e.hooksDir ? { hooksDir: e.hooksDir } : {}),
    ...(e.eventsLogfilePath ? { eventsLogfilePath: e.eventsLogfilePath } : {}),
    ...(e.eventsLogger ? { eventsLogger: e.eventsLogger } : {}),
    ...(e.tmpDir ? { tmpDir: e.tmpDir } : {}),
  };
  if (conf.network.backend) config.network.backend = conf.network.backend;
  if (conf.network.defaultNetwork) config.network.defaultNetwork = conf.network.defaultNetwork;
};

// skiff.conf's own settings over `config` (a bad value is an error naming the file).
const applySkiffConf = (config: SkiffConfig, doc: Record<string, unknown>, file: string): void => {
  const storage = doc.storage as Record<string, unknown> | undefined;
  if (storage?.userns !== undefined) {
    if (storage.userns !== 'auto' && storage.userns !== 'single') throw new CliError('ECONFIG', `${file}: storage.userns must be "auto" or "single"`);
    config.storage.userns = storage.userns;
  }
  if (storage?.rootfs !== undefined) config.storage.rootfs = oneOf(storage.rootfs, ROOTFS_SETTINGS, 'storage.rootfs', file);
  const engine = doc.engine as Record<string, unknown> | undefined;
  if (engine?.runtime !== undefined) config.engine.runtime = asString(engine.runtime, 'engine.runtime', file);
  if (engine?.cgroup_manager !== undefined) config.engine.cgroupManager = oneOf(engine.cgroup_manager, CGROUP_MANAGERS, 'engine.cgroup_manager', file);
  if (engine?.events_logfile_max_size !== undefined)
    config.engine.eventsLogfileMaxSize = asSize(engine.events_logfile_max_size, 'engine.events_logfile_max_size', file);
  const network = doc.network as Record<string, unknown> | undefined;
  if (network?.backend !== undefined) config.network.backend = oneOf(network.backend, NETWORK_BACKENDS, 'network.backend', file);
};

// Reads (and checks) skiff.conf now, so a malformed one fails every command; returns what reads
// the whole configuration, skiff.conf over Podman's registries.conf and containers.conf, the first
// time a value is needed (parsing Podman's files costs a command ~2 ms; `ps` and `images` need
// none of it), the same object after. Missing files mean the defaults; a malformed one is a clear
// error naming it. The TOML parser is loaded only when a file sets something.
export const configLoader = (file: string, sources: ConfigSources = {}): (() => SkiffConfig) => {
  const doc = readTomlFile(file) ?? {};
  const skiffRegistries = Object.keys(doc).length ? parseRegistriesDoc(doc, file, false) : emptySettings();
  applySkiffConf(defaultConfig(), doc, file);
  let config: SkiffConfig | undefined;
  return () => {
    if (config) return config;
    const loading = defaultConfig();
    applyPodmanFiles(loading, skiffRegistries, sources);
    applySkiffConf(loading, doc, file);
    config = loading;
    return config;
  };
};

// The whole configuration at once (see configLoader).
export const loadConfig = async (file: string, sources: ConfigSources = {}): Promise<SkiffConfig> => configLoader(file, sources)();

// A runtime named as containers.conf's [engine.runtimes] has it: the first of its paths that
// exists; any other name ("crun", "runc", a path) as it is.
export const runtimeByName = (config: SkiffConfig, name: string, exists: (path: string) => boolean): string =>
  name.includes('/') ? name : (config.engine.runtimes[name]?.find(exists) ?? name);

// Whether `name` ("host:5000/app/x:1") falls under `prefix` ("host:5000/app", or "*.example.com").
const underPrefix = (name: string, prefix: string): boolean => {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0].replace(/:\d+$/, '');
    return host.endsWith(prefix.slice(1));
  }
  return name === prefix || name.startsWith(`${prefix}/`) || name.startsWith(`${prefix}:`) || name.startsWith(`${prefix}@`);
};

// The [[registry]] entry with the longest prefix matching `name` (e.g. "localhost:5000/app").
export const findRegistryConfig = (config: SkiffConfig, name: string): RegistryConfig | undefined => {
  let best: RegistryConfig | undefined;
  for (const entry of config.registries) {
    if (underPrefix(name, entry.prefix) && (!best || entry.prefix.length > best.prefix.length)) best = entry;
  }
  return best;
};
