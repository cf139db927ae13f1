// The resolved model: each file's values in Compose's canonical forms (maps for environment, labels,
// depends_on and networks; long syntax for ports and volumes; lists for commands), then the project.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import { parseEnvFile } from './interpolate.js';
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
  target?: string;
  labels?: Record<string, string>;
  network?: string;
  no_cache?: boolean;
  pull?: boolean;
}

export interface ServiceFileReference {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface DeployConfig {
  replicas?: number;
  resources?: {
    limits?: { cpus?: string; memory?: string; pids?: number };
    reservations?: { cpus?: string; memory?: string };
  };
  restart_policy?: { condition?: string; max_attempts?: number };
}

export interface ServiceConfig {
  build?: BuildConfig;
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

export interface NetworkConfig {
  name?: string;
  external?: boolean;
  internal?: boolean;
  labels?: Record<string, string>;
  driver?: string;
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
}

export interface FileModel {
  name?: string;
  services: Record<string, ServiceConfig>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeTopConfig>;
  secrets?: Record<string, FileObjectConfig>;
  configs?: Record<string, FileObjectConfig>;
}

export interface Project {
  name: string;
  workingDir: string;
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

const service = (s: Obj, base: string, env: Record<string, string | undefined>, file: string): ServiceConfig => {
  const out: ServiceConfig = {};
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
  for (const [name, s] of Object.entries((top.services ?? {}) as Obj)) services[name] = service((s ?? {}) as Obj, base, env, source.file);
  const section = <T>(v: Value | undefined): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries((v ?? {}) as Obj)) {
      const o = { ...((x ?? {}) as Obj) };
      if (o.labels !== undefined) o.labels = toMap(o.labels) as unknown as Value;
      out[k] = o as T;
    }
    return out;
  };
  return {
    ...(typeof top.name === 'string' ? { name: top.name } : {}),
    services,
    networks: section<NetworkConfig>(top.networks),
    volumes: section<VolumeTopConfig>(top.volumes),
  };
};

// The merged files as one project: env files read into environment, the default network, names.
export const normalizeProject = (merged: FileModel, name: string, workingDir: string): Project => {
  const services: Record<string, ServiceConfig> = {};
  const networks: Record<string, NetworkConfig> = { ...merged.networks };
  let usesDefault = false;
  for (const [svcName, s] of Object.entries(merged.services)) {
    const out = { ...s };
    if (s.env_file) {
      let vars: Record<string, string> = {};
      for (const f of s.env_file) {
        if (!existsSync(f.path)) {
          if (f.required) throw new ComposeFileError(`services.${svcName}.env_file: ${f.path}: no such file (set required: false to allow that)`);
          continue;
        }
        vars = { ...vars, ...parseEnvFile(readFileSync(f.path, 'utf8'), f.path) };
      }
      out.environment = { ...vars, ...(s.environment ?? {}) };
    }
    if (!s.networks || Object.keys(s.networks).length === 0) {
      out.networks = { default: null };
      usesDefault = true;
    } else if ('default' in s.networks) usesDefault = true;
    for (const n of Object.keys(out.networks ?? {}))
      if (n !== 'default' && !(n in networks)) throw new ComposeFileError(`services.${svcName}.networks.${n}: no network "${n}" in the top-level networks`);
    for (const v of out.volumes ?? [])
      if (v.type === 'volume' && v.source && !(v.source in merged.volumes))
        throw new ComposeFileError(`services.${svcName}.volumes: no volume "${v.source}" in the top-level volumes: declare it there`);
    for (const d of Object.keys(out.depends_on ?? {}))
      if (!(d in merged.services)) throw new ComposeFileError(`services.${svcName}.depends_on: no service "${d}" in the project`);
    if (!s.image) throw new ComposeFileError(`services.${svcName}: needs "image" (build is not supported yet)`);
    if (out.environment) out.environment = sortedMap(out.environment);
    if (out.labels) out.labels = sortedMap(out.labels);
    services[svcName] = sortKeys(out);
  }
  if (usesDefault && !networks.default) networks.default = {};
  const named = <T extends { name?: string; external?: boolean }>(section: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(section).map(([k, v]) => [k, sortKeys({ ...v, name: v.name ?? (v.external ? k : `${name}_${k}`) })]));
  return { name, workingDir, services: sortedMap(services), networks: sortedMap(named(networks)), volumes: sortedMap(named(merged.volumes)) };
};

// Go maps print sorted: services, networks, volumes, environment and labels come out in key order.
const sortedMap = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

// Keys in the order docker compose prints them (compose-go's field order, alphabetical for these keys).
const ORDER = [
  'name',
  'cap_add',
  'cap_drop',
  'command',
  'depends_on',
  'driver',
  'entrypoint',
  'environment',
  'env_file',
  'expose',
  'external',
  'healthcheck',
  'hostname',
  'image',
  'init',
  'internal',
  'labels',
  'networks',
  'ports',
  'read_only',
  'restart',
  'stop_grace_period',
  'stop_signal',
  'tmpfs',
  'user',
  'volumes',
  'working_dir',
];
export const sortKeys = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).sort(([a], [b]) => ORDER.indexOf(a) - ORDER.indexOf(b))) as T;
