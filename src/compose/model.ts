// The resolved model: each file's values in Compose's canonical forms (maps for environment, labels,
// depends_on and networks; long syntax for ports and volumes; lists for commands), then the project.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import { ENV_FILE_MAX } from '../util/limits.js';
import { InterpolationError, parseEnvFile } from './interpolate.js';
import { readProjectText } from './read.js';
import { ComposeFileError, type SourceFile, type Value } from './source.js';
import { splitShell } from './shell-words.js';

export interface PortConfig {
  name?: string;
  mode: string;
  host_ip?: string;
  target: number;
  published?: string;
  protocol: string;
  app_protocol?: string;
}

export interface VolumeConfig {
  type: 'volume' | 'bind' | 'tmpfs';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number | string };
}

export interface HealthcheckConfig {
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

export interface BuildConfig {
  context: string;
  dockerfile?: string;
  args?: Record<string, string | null>;
  labels?: Record<string, string>;
  no_cache?: boolean;
  pull?: boolean;
  network?: string;
  target?: string;
}

// A service's secret or config: its top-level name, where the file goes (secrets: absolute, under
// /run/secrets by default; configs: as given, /<source> when absent), its owner and mode.
export interface ServiceFileReference {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface ResourceConfig {
  cpus?: number;
  /** Bytes, as docker compose prints them. */
  memory?: string;
  pids?: number;
}

export interface DeployConfig {
  mode?: string;
  replicas?: number;
  labels?: Record<string, string>;
  resources?: { limits?: ResourceConfig; reservations?: ResourceConfig };
  restart_policy?: { condition?: string; delay?: string; max_attempts?: number; window?: string };
}

export interface ServiceConfig {
  build?: BuildConfig;
  /** Only until the file is loaded: the service this one extends. */
  extends?: { service: string; file?: string };
  cap_add?: string[];
  configs?: ServiceFileReference[];
  container_name?: string;
  deploy?: DeployConfig;
  dns?: string[];
  extra_hosts?: string[];
  profiles?: string[];
  pull_policy?: string;
  scale?: number;
  secrets?: ServiceFileReference[];
  security_opt?: string[];
  cap_drop?: string[];
  command?: string[] | null;
  depends_on?: Record<string, { condition: string; required: boolean; restart?: boolean }>;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  env_file?: { path: string; required: boolean }[];
  expose?: string[];
  healthcheck?: HealthcheckConfig;
  hostname?: string;
  image?: string;
  init?: boolean;
  labels?: Record<string, string>;
  networks?: Record<string, { aliases?: string[]; ipv4_address?: string } | null>;
  ports?: PortConfig[];
  read_only?: boolean;
  restart?: string;
  stop_grace_period?: string;
  stop_signal?: string;
  tmpfs?: string[];
  user?: string;
  volumes?: VolumeConfig[];
  working_dir?: string;
}

export interface IpamPool {
  subnet?: string;
  gateway?: string;
  ip_range?: string;
}

export interface NetworkConfig {
  name?: string;
  driver?: string;
  ipam?: { driver?: string; config?: IpamPool[] };
  external?: boolean;
  internal?: boolean;
  labels?: Record<string, string>;
}

export interface VolumeTopConfig {
  name?: string;
  external?: boolean;
  labels?: Record<string, string>;
  driver?: string;
}

// A top-level secret or config: a file on the host (environment and content sources are read into a file).
export interface FileObjectConfig {
  name?: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  labels?: Record<string, string>;
}

export interface FileModel {
  name?: string;
  services: Record<string, ServiceConfig>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeTopConfig>;
  secrets?: Record<string, FileObjectConfig>;
  configs?: Record<string, FileObjectConfig>;
  /** "FILE:LINE" of each service and each of its keys (services.web.secrets), for messages after the merge. */
  origins?: Record<string, string>;
}

export interface Project {
  name: string;
  workingDir: string;
  /** The compose files it was read from (labelled on its containers: `compose ls` shows them). */
  configFiles?: string[];
  services: Record<string, ServiceConfig>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeTopConfig>;
  secrets?: Record<string, FileObjectConfig>;
  configs?: Record<string, FileObjectConfig>;
  // Services left out because none of their profiles is active (compose up/ps ignore them).
  disabled?: Record<string, ServiceConfig>;
}

type Obj = { [key: string]: Value };
const asString = (v: Value): string => (v === null ? '' : String(v));

// KEY=VALUE lists and mappings to one mapping; a bare KEY takes its value from `env` (null if unset).
const toMap = (v: Value | undefined, env?: Record<string, string | undefined>): Record<string, string | null> => {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v))
    for (const item of v as string[]) {
      const eq = item.indexOf('=');
      if (eq >= 0) out[item.slice(0, eq)] = item.slice(eq + 1);
      else out[item] = env?.[item] ?? null;
    }
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out[k] = x === null ? (env?.[k] ?? null) : asString(x);
  return out;
};

const command = (v: Value, file: string): string[] | null => {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(asString);
  try {
    return splitShell(String(v));
  } catch (e) {
    throw new ComposeFileError(`${file}: ${String(v)}: ${(e as Error).message}`);
  }
};

// "[[ip:]host:]container[/proto]" and numbers to the long syntax (ranges to one entry per port).
export const parsePort = (v: Value): PortConfig[] => {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Obj;
    return [
      {
        ...(o.name !== undefined ? { name: asString(o.name) } : {}),
        mode: o.mode ? asString(o.mode) : 'ingress',
        ...(o.host_ip !== undefined ? { host_ip: asString(o.host_ip) } : {}),
        target: Number(o.target),
        ...(o.published !== undefined ? { published: asString(o.published) } : {}),
        protocol: o.protocol ? asString(o.protocol) : 'tcp',
        ...(o.app_protocol !== undefined ? { app_protocol: asString(o.app_protocol) } : {}),
      },
    ];
  }
  let spec = String(v);
  let protocol = 'tcp';
  const slash = spec.lastIndexOf('/');
  if (slash >= 0) {
    protocol = spec.slice(slash + 1);
    spec = spec.slice(0, slash);
  }
  let hostIp: string | undefined;
  const ipMatch = /^(\[[^\]]*\]|[0-9.]+):(.*:.*)$/.exec(spec);
  if (ipMatch) {
    hostIp = ipMatch[1].replace(/^\[|\]$/g, '');
    spec = ipMatch[2];
  }
  const parts = spec.split(':');
  const container = parts[parts.length - 1];
  const host = parts.length > 1 ? parts[0] : undefined;
  const range = (r: string): number[] => {
    const [a, b] = r.split('-').map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  };
  const targets = range(container);
  const hosts = host ? range(host) : [];
  if (hosts.length > 1 && hosts.length !== targets.length && targets.length !== 1)
    throw new ComposeFileError(`port ${String(v)}: the host and container ranges differ in length`);
  return targets.map((target, i) => ({
    mode: 'ingress',
    ...(hostIp !== undefined ? { host_ip: hostIp } : {}),
    target,
    ...(host !== undefined ? { published: hosts.length > 1 ? String(hosts[i]) : host } : {}),
    protocol,
  }));
};

const hostPath = (p: string, base: string): string => (p.startsWith('~') ? resolve(homedir(), `.${p.slice(1)}`) : isAbsolute(p) ? p : resolve(base, p));

// "[source:]target[:mode]" and the long syntax, bind sources made absolute from the project directory.
export const parseVolume = (v: Value, base: string): VolumeConfig => {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as unknown as VolumeConfig;
    const out: VolumeConfig = {
      type: o.type,
      ...(o.source !== undefined ? { source: o.type === 'bind' ? hostPath(o.source, base) : o.source } : {}),
      target: o.target,
    };
    if (o.read_only !== undefined) out.read_only = o.read_only;
    if (o.bind) out.bind = o.bind;
    if (o.volume) out.volume = o.volume;
    if (o.tmpfs) out.tmpfs = o.tmpfs;
    if (o.type === 'volume' && !out.volume) out.volume = {};
    return out;
  }
  const parts = String(v).split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0], volume: {} };
  const [source, target, mode = ''] = parts;
  const modes = mode.split(',').filter(Boolean);
  const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
  const out: VolumeConfig = bind ? { type: 'bind', source: hostPath(source, base), target } : { type: 'volume', source, target };
  if (modes.includes('ro')) out.read_only = true;
  if (bind) {
    const selinux = modes.find((m) => m === 'z' || m === 'Z');
    const propagation = modes.find((m) => /^r?(shared|slave|private)$/.test(m));
    out.bind = { ...(propagation ? { propagation } : {}), create_host_path: true, ...(selinux ? { selinux } : {}) };
  } else out.volume = { ...(modes.includes('nocopy') ? { nocopy: true } : {}) };
  return out;
};

// Go's units.RAMInBytes, as compose reads memory sizes: 512, "50m", "1.5GB" (binary units).
export const ramBytes = (v: Value): number | undefined => {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(String(v).trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * 1024 ** ' kmgtp'.indexOf(m[2].toLowerCase() || ' '));
};

const fileRefs = (v: Value, secrets: boolean): ServiceFileReference[] =>
  (v as Value[]).map((x) => {
    const o: Obj = typeof x === 'string' ? { source: x } : (x as Obj);
    const ref: ServiceFileReference = { source: asString(o.source) };
    if (o.target !== undefined) ref.target = asString(o.target);
    else if (secrets) ref.target = `/run/secrets/${ref.source}`;
    if (o.uid !== undefined) ref.uid = asString(o.uid);
    if (o.gid !== undefined) ref.gid = asString(o.gid);
    if (o.mode !== undefined) ref.mode = typeof o.mode === 'number' ? o.mode : Number.parseInt(String(o.mode), 8);
    return ref;
  });

// extra_hosts as compose-go keeps them: host=ip, one per address, sorted ("host:ip" and maps read too).
const hostList = (v: Value): string[] => {
  const pairs: string[] = [];
  const add = (host: string, ip: string) => {
    for (const one of ip.split(',')) pairs.push(`${host}=${one.replace(/^\[(.*)\]$/, '$1')}`);
  };
  if (Array.isArray(v))
    for (const x of v) {
      const text = asString(x);
      const sep = text.includes('=') ? text.indexOf('=') : text.indexOf(':');
      add(text.slice(0, sep), text.slice(sep + 1));
    }
  else for (const [host, ip] of Object.entries(v as Obj)) for (const one of Array.isArray(ip) ? ip : [ip]) add(host, asString(one));
  return pairs.sort();
};

const resources = (v: Value | undefined): ResourceConfig | undefined => {
  if (!v) return undefined;
  const o = v as Obj;
  const out: ResourceConfig = {};
  if (o.cpus !== undefined) out.cpus = Number(o.cpus);
  if (o.memory !== undefined) out.memory = String(ramBytes(o.memory));
  if (o.pids !== undefined) out.pids = Number(o.pids);
  return out;
};

const deploy = (v: Obj): DeployConfig => {
  const out: DeployConfig = {};
  if (v.mode !== undefined) out.mode = asString(v.mode);
  if (v.replicas !== undefined) out.replicas = Number(v.replicas);
  if (v.labels !== undefined) out.labels = toMap(v.labels) as Record<string, string>;
  if (v.resources) {
    const r = v.resources as Obj;
    const limits = resources(r.limits);
    const reservations = resources(r.reservations);
    out.resources = { ...(limits ? { limits } : {}), ...(reservations ? { reservations } : {}) };
  }
  if (v.restart_policy) {
    const r = v.restart_policy as Obj;
    out.restart_policy = {
      ...(r.condition !== undefined ? { condition: asString(r.condition) } : {}),
      ...(r.delay !== undefined ? { delay: goDuration(String(r.delay)) } : {}),
      ...(r.max_attempts !== undefined ? { max_attempts: Number(r.max_attempts) } : {}),
      ...(r.window !== undefined ? { window: goDuration(String(r.window)) } : {}),
    };
  }
  return out;
};

// A build context: a directory made absolute from `base`, or a Git URL as it is.
const buildContext = (context: string, base: string): string =>
  /^(https?:\/\/|git@|git:\/\/|github\.com\/)/.test(context) ? context : hostPath(context, base);

const build = (v: Value, base: string, env: Record<string, string | undefined>): BuildConfig => {
  if (typeof v === 'string') return { context: buildContext(v, base), dockerfile: 'Dockerfile' };
  const o = v as Obj;
  const out: BuildConfig = { context: buildContext(o.context === undefined ? '.' : asString(o.context), base) };
  out.dockerfile = o.dockerfile === undefined ? 'Dockerfile' : asString(o.dockerfile);
  if (o.args !== undefined) out.args = sortedMap(toMap(o.args, env));
  if (o.labels !== undefined) out.labels = sortedMap(toMap(o.labels) as Record<string, string>);
  if (o.no_cache !== undefined) out.no_cache = o.no_cache === true;
  if (o.pull !== undefined) out.pull = o.pull === true;
  if (o.network !== undefined) out.network = asString(o.network);
  if (o.target !== undefined) out.target = asString(o.target);
  return out;
};

const service = (s: Obj, base: string, env: Record<string, string | undefined>, file: string): ServiceConfig => {
  const out: ServiceConfig = {};
  if (s.build !== undefined) out.build = build(s.build, base, env);
  if (s.configs) out.configs = fileRefs(s.configs, false);
  if (s.container_name !== undefined) out.container_name = asString(s.container_name);
  if (s.deploy) out.deploy = deploy(s.deploy as Obj);
  if (s.dns !== undefined) out.dns = typeof s.dns === 'string' ? [s.dns] : (s.dns as Value[]).map(asString);
  if (s.extends !== undefined)
    out.extends =
      typeof s.extends === 'string'
        ? { service: s.extends }
        : { service: asString((s.extends as Obj).service), ...((s.extends as Obj).file !== undefined ? { file: asString((s.extends as Obj).file) } : {}) };
  if (s.extra_hosts !== undefined) out.extra_hosts = hostList(s.extra_hosts);
  if (s.profiles) out.profiles = (s.profiles as Value[]).map(asString);
  if (s.pull_policy !== undefined) out.pull_policy = asString(s.pull_policy);
  if (s.scale !== undefined) out.scale = Number(s.scale);
  if (s.secrets) out.secrets = fileRefs(s.secrets, true);
  if (s.security_opt) out.security_opt = (s.security_opt as Value[]).map(asString);
  for (const k of ['cap_add', 'cap_drop'] as const) if (s[k]) out[k] = (s[k] as string[]).map(String);
  if (s.command !== undefined) out.command = command(s.command, file);
  if (s.depends_on !== undefined) {
    const d = s.depends_on;
    out.depends_on = Object.fromEntries(
      Array.isArray(d)
        ? d.map((n) => [String(n), { condition: 'service_started', required: true }])
        : Object.entries(d as Obj).map(([n, c]) => {
            const o = c as Obj;
            return [n, { condition: String(o.condition), required: o.required !== false, ...(o.restart !== undefined ? { restart: o.restart === true } : {}) }];
          }),
    );
  }
  if (s.entrypoint !== undefined) out.entrypoint = command(s.entrypoint, file);
  if (s.environment !== undefined) out.environment = toMap(s.environment, env);
  if (s.env_file !== undefined) {
    const list = typeof s.env_file === 'string' ? [s.env_file] : (s.env_file as Value[]);
    out.env_file = list.map((e) =>
      typeof e === 'string'
        ? { path: hostPath(e, base), required: true }
        : { path: hostPath(String((e as Obj).path), base), required: (e as Obj).required !== false },
    );
  }
  if (s.expose) out.expose = (s.expose as Value[]).map(asString);
  if (s.healthcheck) {
    const h = s.healthcheck as Obj;
    const hc: HealthcheckConfig = {};
    if (h.test !== undefined) hc.test = typeof h.test === 'string' ? ['CMD-SHELL', h.test] : (h.test as Value[]).map(asString);
    for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) if (h[k] !== undefined) hc[k] = goDuration(String(h[k]));
    if (h.retries !== undefined) hc.retries = Number(h.retries);
    if (h.disable !== undefined) hc.disable = h.disable === true;
    out.healthcheck = hc;
  }
  if (s.hostname !== undefined) out.hostname = asString(s.hostname);
  if (s.image !== undefined) out.image = asString(s.image);
  if (s.init !== undefined) out.init = s.init === true;
  if (s.labels !== undefined) out.labels = toMap(s.labels) as Record<string, string>;
  if (s.networks !== undefined) {
    const n = s.networks;
    out.networks = Array.isArray(n) ? Object.fromEntries(n.map((x) => [String(x), null])) : (n as ServiceConfig['networks']);
  }
  if (s.ports) out.ports = (s.ports as Value[]).flatMap(parsePort);
  if (s.read_only !== undefined) out.read_only = s.read_only === true;
  if (s.restart !== undefined) out.restart = asString(s.restart);
  if (s.stop_grace_period !== undefined) out.stop_grace_period = goDuration(String(s.stop_grace_period));
  if (s.stop_signal !== undefined) out.stop_signal = asString(s.stop_signal);
  if (s.tmpfs !== undefined) out.tmpfs = typeof s.tmpfs === 'string' ? [s.tmpfs] : (s.tmpfs as Value[]).map(asString);
  if (s.user !== undefined) out.user = asString(s.user);
  if (s.volumes) out.volumes = (s.volumes as Value[]).map((v) => parseVolume(v, base));
  if (s.working_dir !== undefined) out.working_dir = asString(s.working_dir);
  return out;
};

// Go's time.Duration.String() form, as docker compose prints durations: 90s → 1m30s.
export const goDuration = (text: string): string => {
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(m[1]) * unit[m[2]];
  if (seconds === 0) return '0s';
  if (seconds < 1) return seconds >= 1e-3 ? `${+(seconds * 1e3).toFixed(6)}ms` : `${Math.round(seconds * 1e9)}ns`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = +(seconds % 60).toFixed(9);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
};

export const secondsOf = (duration: string): number => {
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  for (const m of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(m[1]) * unit[m[2]];
  return seconds;
};

// One validated file in canonical forms (the merge works on these).
export const normalizeFile = (source: SourceFile, base: string, env: Record<string, string | undefined>): FileModel => {
  const top = (source.value ?? {}) as Obj;
  const services: Record<string, ServiceConfig> = {};
  const origins: Record<string, string> = {};
  for (const [name, s] of Object.entries((top.services ?? {}) as Obj)) {
    services[name] = service((s ?? {}) as Obj, base, env, source.file);
    for (const path of [`services.${name}`, ...Object.keys((s ?? {}) as Obj).map((k) => `services.${name}.${k}`)]) {
      const line = source.lines.get(path);
      if (line) origins[path] = `${source.file}:${line}`;
    }
  }
  const section = <T>(v: Value | undefined, each: (o: Obj) => void = () => {}): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries((v ?? {}) as Obj)) {
      const o = { ...((x ?? {}) as Obj) };
      if (o.labels !== undefined) o.labels = toMap(o.labels) as unknown as Value;
      if (o.external && typeof o.external === 'object') {
        // The legacy external: {name: x}.
        const legacy = (o.external as Obj).name;
        if (legacy !== undefined && o.name === undefined) o.name = legacy;
        o.external = true;
      }
      each(o);
      out[k] = o as T;
    }
    return out;
  };
  // File sources made absolute from the directory of the file that names them.
  const fileObject = (o: Obj) => {
    if (typeof o.file === 'string') o.file = hostPath(o.file, base);
  };
  return {
    ...(typeof top.name === 'string' ? { name: top.name } : {}),
    services,
    networks: section<NetworkConfig>(top.networks),
    volumes: section<VolumeTopConfig>(top.volumes),
    ...(top.secrets ? { secrets: section<FileObjectConfig>(top.secrets, fileObject) } : {}),
    ...(top.configs ? { configs: section<FileObjectConfig>(top.configs, fileObject) } : {}),
    origins,
  };
};

// Profiles that are active: --profile flags and COMPOSE_PROFILES (comma-separated); "*" is all.
export const isEnabled = (s: ServiceConfig, active: string[]): boolean =>
  !s.profiles?.length || active.includes('*') || s.profiles.some((p) => active.includes(p));

// The merged files as one project: env files read into environment, the default network, names;
// services none of whose profiles is active go to `disabled`.
export const normalizeProject = (merged: FileModel, name: string, workingDir: string, profiles: string[] = []): Project => {
  const services: Record<string, ServiceConfig> = {};
  const networks: Record<string, NetworkConfig> = { ...merged.networks };
  const secrets = merged.secrets ?? {};
  const configs = merged.configs ?? {};
  let usesDefault = false;
  // "FILE:LINE: PATH: message", the line of the key (or of the service) where the merged value came from.
  const fail = (path: string, message: string): ComposeFileError => {
    const service = path.split('.').slice(0, 2).join('.');
    const origin = merged.origins?.[path.split('.').slice(0, 3).join('.')] ?? merged.origins?.[service];
    return new ComposeFileError(`${origin ? `${origin}: ` : ''}${path}: ${message}`);
  };
  for (const [svcName, s] of Object.entries(merged.services)) {
    const out = { ...s };
    if (s.env_file) {
      let vars: Record<string, string> = {};
      for (const f of s.env_file) {
        if (!existsSync(f.path)) {
          if (f.required) throw fail(`services.${svcName}.env_file`, `${f.path}: no such file (set required: false to allow that)`);
          continue;
        }
        try {
          vars = { ...vars, ...parseEnvFile(readProjectText(f.path, `env_file ${f.path}`, ENV_FILE_MAX), f.path) };
        } catch (e) {
          if (e instanceof InterpolationError) throw fail(`services.${svcName}.env_file`, e.message);
          throw e;
        }
      }
      out.environment = { ...vars, ...(s.environment ?? {}) };
    }
    if (!s.networks || Object.keys(s.networks).length === 0) {
      out.networks = { default: null };
      usesDefault = true;
    } else if ('default' in s.networks) usesDefault = true;
    for (const n of Object.keys(out.networks ?? {}))
      if (n !== 'default' && !Object.hasOwn(networks, n)) throw fail(`services.${svcName}.networks.${n}`, `no network "${n}" in the top-level networks`);
    for (const v of out.volumes ?? [])
      if (v.type === 'volume' && v.source && !Object.hasOwn(merged.volumes, v.source))
        throw fail(`services.${svcName}.volumes`, `no volume "${v.source}" in the top-level volumes: declare it there`);
    for (const d of Object.keys(out.depends_on ?? {}))
      if (!Object.hasOwn(merged.services, d)) throw fail(`services.${svcName}.depends_on`, `no service "${d}" in the project`);
    for (const [key, top] of [
      ['secrets', secrets],
      ['configs', configs],
    ] as const)
      for (const r of out[key] ?? [])
        if (!Object.hasOwn(top, r.source))
          throw fail(`services.${svcName}.${key}`, `no ${key.slice(0, -1)} "${r.source}" in the top-level ${key}: declare it there`);
    if (!s.image && !s.build) throw fail(`services.${svcName}`, `needs "image" or "build"`);
    if (s.pull_policy === 'build' && !s.build) throw fail(`services.${svcName}.pull_policy`, `build needs "build"`);
    if (s.container_name && (s.scale ?? s.deploy?.replicas ?? 1) > 1)
      throw fail(`services.${svcName}.container_name`, `"${s.container_name}" names one container: it cannot have ${s.scale ?? s.deploy?.replicas} replicas`);
    if (s.scale !== undefined && s.deploy?.replicas !== undefined && s.scale !== s.deploy.replicas)
      throw fail(`services.${svcName}.scale`, `scale (${s.scale}) and deploy.replicas (${s.deploy.replicas}) differ: give one of them`);
    if (out.environment) out.environment = sortedMap(out.environment);
    if (out.labels) out.labels = sortedMap(out.labels);
    if (out.profiles?.length === 0) delete out.profiles;
    // Go prints maps sorted, and compose-go orders a service's networks by priority, then name: the first is the primary.
    if (out.networks) out.networks = sortedMap(out.networks);
    services[svcName] = sortDeep(out);
  }
  if (usesDefault && !networks.default) networks.default = {};
  const named = <T extends { name?: string; external?: boolean }>(section: Record<string, T>, order: string[]): Record<string, T> =>
    Object.fromEntries(Object.entries(section).map(([k, v]) => [k, sortKeys({ ...v, name: v.name ?? (v.external ? k : `${name}_${k}`) }, order)]));
  const enabled: Record<string, ServiceConfig> = {};
  const disabled: Record<string, ServiceConfig> = {};
  for (const [n, s] of Object.entries(sortedMap(services))) (isEnabled(s, profiles) ? enabled : disabled)[n] = s;
  for (const [n, s] of Object.entries(enabled))
    for (const [d, dep] of Object.entries(s.depends_on ?? {}))
      if (dep.required && disabled[d])
        throw fail(
          `services.${n}.depends_on`,
          `service "${d}" is required by "${n}" but is disabled: enable one of its profiles (${disabled[d].profiles?.join(', ')}) with --profile or COMPOSE_PROFILES`,
        );
  return {
    name,
    workingDir,
    services: enabled,
    networks: sortedMap(named(networks, NETWORK_ORDER)),
    volumes: sortedMap(named(merged.volumes, VOLUME_ORDER)),
    ...(merged.secrets ? { secrets: sortedMap(named(secrets, FILE_ORDER)) } : {}),
    ...(merged.configs ? { configs: sortedMap(named(configs, FILE_ORDER)) } : {}),
    ...(Object.keys(disabled).length ? { disabled } : {}),
  };
};

// Moves the disabled services named (as on `up SVC…` or `run SVC`) and what they depend on into
// services, as docker compose enables a service named on its command line whatever its profiles.
// An unknown name is an error.
export const enableServices = (project: Project, names: string[]): Project => {
  const services = { ...project.services };
  const disabled = { ...(project.disabled ?? {}) };
  const enable = (n: string, from?: string) => {
    if (Object.hasOwn(services, n)) return;
    const s = Object.hasOwn(disabled, n) ? disabled[n] : undefined;
    if (!s) throw new ComposeFileError(from ? `service "${n}" that "${from}" depends on is not in the project` : `no such service: ${n}`);
    services[n] = s;
    delete disabled[n];
    for (const d of Object.keys(s.depends_on ?? {})) enable(d, n);
  };
  for (const n of names) enable(n);
  const { disabled: _, ...rest } = project;
  return { ...rest, services: sortedMap(services), ...(Object.keys(disabled).length ? { disabled } : {}) };
};

// Go maps print sorted: services, networks, volumes, environment and labels come out in key order.
const sortedMap = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

// Keys in the order docker compose prints them: compose-go's struct field order.
const SERVICE_ORDER = (
  'profiles annotations attach build develop blkio_config cap_add cap_drop cgroup_parent cgroup command configs container_name ' +
  'depends_on deploy dns dns_opt dns_search domainname entrypoint environment env_file expose extends external_links extra_hosts ' +
  'group_add hostname healthcheck image init ipc labels links logging networks pid pids_limit platform ports privileged ' +
  'pull_policy read_only restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal sysctls tmpfs ' +
  'tty ulimits user userns_mode uts volumes volumes_from working_dir'
).split(' ');
const NETWORK_ORDER = ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels'];
const VOLUME_ORDER = ['name', 'driver', 'driver_opts', 'external', 'labels'];
const FILE_ORDER = ['name', 'file', 'environment', 'content', 'external', 'labels'];
const NESTED_ORDER: Record<string, string[]> = {
  build: ['context', 'dockerfile', 'args', 'labels', 'no_cache', 'pull', 'network', 'target'],
  deploy: ['mode', 'replicas', 'labels', 'resources', 'restart_policy'],
  restart_policy: ['condition', 'delay', 'max_attempts', 'window'],
  limits: ['cpus', 'memory', 'pids'],
  reservations: ['cpus', 'memory', 'pids'],
  healthcheck: ['test', 'timeout', 'interval', 'retries', 'start_period', 'start_interval', 'disable'],
};

export const sortKeys = <T extends object>(o: T, order: string[] = SERVICE_ORDER): T =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))) as T;

// A service's keys and its nested mappings' keys in compose-go's order.
const sortDeep = (s: ServiceConfig): ServiceConfig => {
  const out = sortKeys(s) as Record<string, unknown>;
  const nested = (o: Record<string, unknown>, key: string) => {
    if (o[key] && typeof o[key] === 'object') o[key] = sortKeys(o[key] as object, NESTED_ORDER[key]);
  };
  nested(out, 'build');
  nested(out, 'healthcheck');
  if (out.deploy) {
    nested(out, 'deploy');
    const d = out.deploy as Record<string, unknown>;
    nested(d, 'restart_policy');
    if (d.resources) for (const k of ['limits', 'reservations']) nested(d.resources as Record<string, unknown>, k);
  }
  return out as ServiceConfig;
};
