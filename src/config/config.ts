// skiff.conf: one TOML file with registries.conf's registry settings and skiff's own storage settings.
//
//   unqualified-search-registries = ["docker.io"]
//   [[registry]]
//   prefix = "localhost:5000"        # or location = ..., matched against the reference's registry/path
//   insecure = true                  # plain HTTP or unverified TLS allowed
//   [[registry.mirror]]
//   location = "mirror.example:5000"
//   [storage]
//   userns = "auto"                  # "single": map only the user's own uid (no /etc/subuid range)
//   rootfs = "auto"                  # or "overlay", "fuse-overlayfs", "copy": how container roots are made
//   [engine]
//   runtime = "crun"                 # or "runc", or a path to either
//   cgroup_manager = "auto"          # or "systemd", "cgroupfs", "none": who makes containers' cgroups
//   events_logfile_max_size = "1m"   # the events log moves to events.log.1 past this size (0: never)
//   [network]
//   backend = "auto"                 # or "pasta", "slirp4netns": a container's default network
import { CliError, messageOf } from '../errors.js';
import { readBoundedFile } from '../util/bounded-read.js';
import { CONFIG_FILE_MAX } from '../util/limits.js';

export interface MirrorConfig {
  location: string;
  insecure: boolean;
}

export interface RegistryConfig {
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrors: MirrorConfig[];
}

export interface SkiffConfig {
  unqualifiedSearchRegistries: string[];
  registries: RegistryConfig[];
  storage: { userns: 'auto' | 'single'; rootfs: RootfsDriverSetting };
  engine: { runtime: string; cgroupManager: CgroupManagerSetting; eventsLogfileMaxSize: number };
  network: { backend: NetworkBackendSetting };
}

export type CgroupManagerSetting = 'auto' | 'systemd' | 'cgroupfs' | 'none';
export const CGROUP_MANAGERS: CgroupManagerSetting[] = ['auto', 'systemd', 'cgroupfs', 'none'];

export type NetworkBackendSetting = 'auto' | 'pasta' | 'slirp4netns';
const NETWORK_BACKENDS: NetworkBackendSetting[] = ['auto', 'pasta', 'slirp4netns'];

export type RootfsDriverSetting = 'auto' | 'overlay' | 'fuse-overlayfs' | 'copy';
const ROOTFS_SETTINGS: RootfsDriverSetting[] = ['auto', 'overlay', 'fuse-overlayfs', 'copy'];

export const defaultConfig = (): SkiffConfig => ({
  unqualifiedSearchRegistries: ['docker.io'],
  registries: [],
  storage: { userns: 'auto', rootfs: 'auto' },
  engine: { runtime: 'crun', cgroupManager: 'auto', eventsLogfileMaxSize: 1_000_000 },
  network: { backend: 'auto' },
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

// Reads the config file; a missing file means the defaults, a malformed one is a clear error.
// The TOML parser is loaded only when there is a file to parse.
export const loadConfig = async (file: string): Promise<SkiffConfig> => {
  let text: string;
  try {
    text = readBoundedFile(file, { what: `config file ${file}`, limit: CONFIG_FILE_MAX, code: 'ECONFIG' }).toString('utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig();
    throw new CliError('ECONFIG', `cannot read ${file}: ${messageOf(error)}`);
  }
  const { parse } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new CliError('ECONFIG', `${file} is not valid TOML: ${messageOf(error).split('\n')[0]}`);
  }
  const config = defaultConfig();
  const search = doc['unqualified-search-registries'];
  if (search !== undefined) {
    if (!Array.isArray(search)) throw new CliError('ECONFIG', `${file}: unqualified-search-registries must be a list`);
    config.unqualifiedSearchRegistries = search.map((s) => asString(s, 'unqualified-search-registries entries', file));
  }
  const registries = (doc.registry ?? []) as Record<string, unknown>[];
  if (!Array.isArray(registries)) throw new CliError('ECONFIG', `${file}: use [[registry]] tables`);
  for (const entry of registries) {
    const location = entry.location === undefined ? undefined : asString(entry.location, 'registry.location', file);
    const prefix = entry.prefix === undefined ? location : asString(entry.prefix, 'registry.prefix', file);
    if (!prefix) throw new CliError('ECONFIG', `${file}: each [[registry]] needs a prefix or a location`);
    const mirrors = ((entry.mirror ?? []) as Record<string, unknown>[]).map((m) => ({
      location: asString(m.location, 'registry.mirror.location', file),
      insecure: m.insecure === true,
    }));
    config.registries.push({ prefix, location: location ?? prefix, insecure: entry.insecure === true, blocked: entry.blocked === true, mirrors });
  }
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
  return config;
};

// The [[registry]] entry with the longest prefix matching `name` (e.g. "localhost:5000/app").
export const findRegistryConfig = (config: SkiffConfig, name: string): RegistryConfig | undefined => {
  let best: RegistryConfig | undefined;
  for (const entry of config.registries) {
    const p = entry.prefix;
    const matches = name === p || name.startsWith(`${p}/`) || name.startsWith(`${p}:`) || name.startsWith(`${p}@`);
    if (matches && (!best || p.length > best.prefix.length)) best = entry;
  }
  return best;
};
