// Checks a compose file against the part of the Compose Specification skiff runs: unknown keys and
// wrong types are errors with the file, the line and the path, before anything uses the file.
import { ComposeFileError, child, type SourceFile, type Value } from './source.js';

type Check = (v: Value, path: string, at: Reporter) => void;
type Reporter = (path: string, message: string) => never;

const kind = (v: Value): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : typeof v === 'string'
          ? 'a string'
          : typeof v === 'number'
            ? 'a number'
            : 'a boolean';
const isMapping = (v: Value): v is { [key: string]: Value } => v !== null && typeof v === 'object' && !Array.isArray(v);

// ' (did you mean "image"?)' for a key a typo away from a known one.
const suggest = (key: string, known: string[]): string => {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
  };
  const best = known.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= 2 ? ` (did you mean "${best[0]}"?)` : '';
};

const str: Check = (v, p, at) => {
  if (typeof v !== 'string') at(p, `must be a string, not ${kind(v)}`);
};
const scalar: Check = (v, p, at) => {
  if (typeof v !== 'string' && typeof v !== 'number') at(p, `must be a string or a number, not ${kind(v)}`);
};
const bool: Check = (v, p, at) => {
  if (typeof v !== 'boolean') at(p, `must be true or false, not ${kind(v)}`);
};
const int: Check = (v, p, at) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) at(p, `must be a whole number, not ${kind(v)}`);
};
const duration: Check = (v, p, at) => {
  if (typeof v !== 'string' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) at(p, `must be a duration like 10s or 1m30s, not ${JSON.stringify(v)}`);
};
const listOf =
  (item: Check): Check =>
  (v, p, at) => {
    if (!Array.isArray(v)) at(p, `must be a list, not ${kind(v)}`);
    (v as Value[]).forEach((x, i) => item(x, child(p, i), at));
  };
const strOrList: Check = (v, p, at) => {
  if (typeof v === 'string') return;
  if (!Array.isArray(v)) at(p, `must be a string or a list of strings, not ${kind(v)}`);
  listOf(str)(v, p, at);
};
const oneOf =
  (...values: string[]): Check =>
  (v, p, at) => {
    if (typeof v !== 'string' || !values.includes(v)) at(p, `must be one of ${values.join(', ')}, not ${JSON.stringify(v)}`);
  };
const nullable =
  (check: Check): Check =>
  (v, p, at) =>
    v === null ? undefined : check(v, p, at);
const mapOf =
  (value: Check): Check =>
  (v, p, at) => {
    if (!isMapping(v)) at(p, `must be a mapping, not ${kind(v)}`);
    for (const [k, x] of Object.entries(v as object)) value(x as Value, child(p, k), at);
  };
// The Compose Specification's names of services, networks, volumes, secrets and configs: they go
// into container, network and volume names (PROJECT-SERVICE-1, PROJECT_VOLUME).
const KEY = /^[a-zA-Z0-9._-]+$/;
const namedMapOf =
  (value: Check): Check =>
  (v, p, at) => {
    if (isMapping(v))
      for (const k of Object.keys(v as object))
        if (!KEY.test(k) || k === '__proto__') at(child(p, k), `is not a valid name: use letters, digits, ".", "_" and "-" (${JSON.stringify(k)})`);
    mapOf(value)(v, p, at);
  };
const listOrDict: Check = (v, p, at) => {
  if (Array.isArray(v)) return listOf(str)(v, p, at);
  if (!isMapping(v)) at(p, `must be a list of KEY=VALUE or a mapping, not ${kind(v)}`);
  for (const [k, x] of Object.entries(v as object))
    if (x !== null && typeof x === 'object') at(child(p, k), `must be a string, number or boolean, not ${kind(x)}`);
};
const object =
  (keys: Record<string, Check>, required: string[] = [], unsupported: string[] = []): Check =>
  (v, p, at) => {
    if (!isMapping(v)) at(p, `must be a mapping, not ${kind(v)}`);
    const m = v as { [key: string]: Value };
    for (const [k, x] of Object.entries(m)) {
      const kp = child(p, k);
      if (k.startsWith('x-')) continue;
      if (unsupported.includes(k)) at(kp, 'is not supported yet by skiff compose: remove it or run the service without it');
      const check = keys[k];
      if (!check) at(kp, `is not a key the Compose Specification knows here${suggest(k, Object.keys(keys))}`);
      check(x, kp, at);
    }
    for (const k of required) if (!(k in m)) at(p, `needs "${k}"`);
  };

const port: Check = (v, p, at) => {
  if (typeof v === 'number') return int(v, p, at);
  if (typeof v === 'string') {
    if (!/^(\[?[0-9a-fA-F.:]*\]?:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/.test(v)) at(p, `"${v}" is not a port: [[IP:]HOST:]CONTAINER[/PROTOCOL]`);
    return;
  }
  object({ target: int, published: scalar, host_ip: str, protocol: oneOf('tcp', 'udp'), mode: oneOf('ingress', 'host'), name: str, app_protocol: str }, [
    'target',
  ])(v, p, at);
};

const volume: Check = (v, p, at) => {
  if (typeof v === 'string') return;
  object(
    {
      type: oneOf('volume', 'bind', 'tmpfs'),
      source: str,
      target: str,
      read_only: bool,
      consistency: str,
      bind: object({ propagation: str, create_host_path: bool, selinux: oneOf('z', 'Z') }),
      volume: object({ nocopy: bool, subpath: str }),
      tmpfs: object({ size: scalar, mode: scalar }),
    },
    ['type', 'target'],
  )(v, p, at);
};

const octalMode: Check = (v, p, at) => {
  if (typeof v === 'number' ? !Number.isInteger(v) || v < 0 || v > 0o7777 : typeof v !== 'string' || !/^0?[0-7]{1,4}$/.test(v))
    at(p, `must be a file mode such as 0440 (octal), not ${JSON.stringify(v)}`);
};
// uid_t: 4294967295 is (uid_t)-1, "leave the owner as it is" to chown, not an id.
const id: Check = (v, p, at) => {
  if (!/^\d+$/.test(String(v)) || typeof v === 'boolean') at(p, `must be a numeric id such as 1000, not ${JSON.stringify(v)}`);
  if (Number(v) >= 4294967295) at(p, `must be an id below 4294967295, not ${String(v)}`);
};
const fileRefs: Check = listOf((v, p, at) =>
  typeof v === 'string' ? undefined : object({ source: str, target: str, uid: id, gid: id, mode: octalMode }, ['source'])(v, p, at),
);

// Memory sizes as compose reads them: bytes, or a number with b, k, m, g (kb, mb, … too).
const bytes: Check = (v, p, at) => {
  if (typeof v === 'number' ? !Number.isInteger(v) || v < 0 : typeof v !== 'string' || !/^\d+(\.\d+)?\s*[kmgtp]?(i?b)?$/i.test(v.trim()))
    at(p, `must be a size such as 512m or 1g, not ${JSON.stringify(v)}`);
};
const cpus: Check = (v, p, at) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) at(p, `must be a number of CPUs such as 0.5, not ${JSON.stringify(v)}`);
};
const resource = object({ cpus, memory: bytes, pids: int }, [], ['devices', 'generic_resources']);
const deploy = object(
  {
    mode: oneOf('replicated'),
    replicas: int,
    labels: listOrDict,
    resources: object({ limits: resource, reservations: resource }),
    restart_policy: object({ condition: oneOf('none', 'on-failure', 'any'), delay: duration, max_attempts: int, window: duration }),
  },
  [],
  ['placement', 'update_config', 'rollback_config', 'endpoint_mode'],
);

const build: Check = (v, p, at) => {
  if (typeof v === 'string') return;
  object(
    { context: str, dockerfile: str, args: listOrDict, labels: listOrDict, no_cache: bool, pull: bool, network: str, target: str },
    [],
    'dockerfile_inline entitlements provenance sbom ssh cache_from cache_to no_cache_filter additional_contexts extra_hosts isolation secrets shm_size tags ulimits platforms privileged'.split(
      ' ',
    ),
  )(v, p, at);
};

// extra_hosts: a list of host:ip or host=ip, or a mapping host: ip (or a list of ips).
const extraHosts: Check = (v, p, at) => {
  const host = (h: string, q: string) => {
    if (h === '' || /[:=]/.test(h)) at(q, `has a bad host name ${JSON.stringify(h)}`);
  };
  if (Array.isArray(v))
    return v.forEach((x, i) => {
      const q = child(p, i);
      if (typeof x !== 'string') at(q, `must be a string, not ${kind(x)}`);
      const s = x as string;
      const sep = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
      if (sep < 0) at(q, `"${s}" is not HOST:IP or HOST=IP`);
      host(s.slice(0, sep), q);
    });
  if (!isMapping(v)) at(p, `must be a list of HOST:IP or a mapping, not ${kind(v)}`);
  for (const [h, ip] of Object.entries(v as object)) {
    host(h, child(p, h));
    strOrList(ip as Value, child(p, h), at);
  }
};

const extendsCheck: Check = (v, p, at) => (typeof v === 'string' ? undefined : object({ service: str, file: str }, ['service'])(v, p, at));

const serviceNetworks: Check = (v, p, at) => {
  if (Array.isArray(v)) return listOf(str)(v, p, at);
  mapOf(
    nullable(
      object({ aliases: listOf(str), ipv4_address: str }, [], ['ipv6_address', 'link_local_ips', 'priority', 'mac_address', 'driver_opts', 'gw_priority']),
    ),
  )(v, p, at);
};

const dependsOn: Check = (v, p, at) => {
  if (Array.isArray(v)) return listOf(str)(v, p, at);
  mapOf(object({ condition: oneOf('service_started', 'service_healthy', 'service_completed_successfully'), required: bool, restart: bool }, ['condition']))(
    v,
    p,
    at,
  );
};

const healthcheck = object({
  test: strOrList,
  interval: duration,
  timeout: duration,
  retries: int,
  start_period: duration,
  start_interval: duration,
  disable: bool,
});

// Keys of the specification that skiff compose does not run yet: named in a refusal, never ignored.
const SERVICE_UNSUPPORTED = (
  'blkio_config cpu_count cpu_percent cpu_shares cpu_period cpu_quota cpu_rt_runtime cpu_rt_period cpus cpuset credential_spec ' +
  'cgroup cgroup_parent develop device_cgroup_rules devices dns_opt dns_search domainname external_links ' +
  'gpus group_add ipc isolation links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit network_mode ' +
  'oom_kill_disable oom_score_adj pid pids_limit platform privileged runtime shm_size stdin_open ' +
  'storage_opt sysctls tty ulimits userns_mode uts volumes_from annotations attach label_file post_start pre_stop models provider use_api_socket'
).split(' ');

const SERVICE: Record<string, Check> = {
  image: str,
  command: nullable(strOrList),
  entrypoint: nullable(strOrList),
  environment: listOrDict,
  env_file: (v, p, at) =>
    typeof v === 'string'
      ? undefined
      : listOf((x, q, a) => (typeof x === 'string' ? undefined : object({ path: str, required: bool, format: str }, ['path'])(x, q, a)))(v, p, at),
  ports: listOf(port),
  expose: listOf(scalar),
  volumes: listOf(volume),
  networks: serviceNetworks,
  depends_on: dependsOn,
  healthcheck,
  restart: (v, p, at) => {
    if (typeof v !== 'string' || !/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(v))
      at(p, `must be no, always, unless-stopped or on-failure[:N], not ${JSON.stringify(v)}`);
  },
  user: scalar,
  working_dir: str,
  hostname: str,
  labels: listOrDict,
  init: bool,
  read_only: bool,
  tmpfs: strOrList,
  cap_add: listOf(str),
  cap_drop: listOf(str),
  stop_signal: str,
  stop_grace_period: duration,
  build,
  configs: fileRefs,
  container_name: (v, p, at) => {
    if (typeof v !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v))
      at(p, `must be a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*), not ${JSON.stringify(v)}`);
  },
  deploy,
  dns: strOrList,
  extends: extendsCheck,
  extra_hosts: extraHosts,
  profiles: listOf((v, p, at) => {
    if (typeof v !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v))
      at(p, `must be a profile name ([a-zA-Z0-9][a-zA-Z0-9_.-]*), not ${JSON.stringify(v)}`);
  }),
  pull_policy: (v, p, at) => {
    if (typeof v !== 'string' || !/^(always|never|missing|if_not_present|build|daily|weekly|every_(\d+[wdhms])+)$/.test(v))
      at(p, `must be always, never, missing, build, daily, weekly or every_<duration>, not ${JSON.stringify(v)}`);
  },
  scale: int,
  secrets: fileRefs,
  security_opt: listOf(str),
};
for (const k of SERVICE_UNSUPPORTED) SERVICE[k] = () => {};

// external: true, or the legacy form external: {name: x}.
const external: Check = (v, p, at) => (isMapping(v) ? object({ name: str })(v, p, at) : bool(v, p, at));
const IPAM = object(
  {
    driver: oneOf('default'),
    config: (v, p, at) => {
      listOf(object({ subnet: str, gateway: str, ip_range: str }, [], ['aux_addresses']))(v, p, at);
      if ((v as Value[]).length > 1) at(child(p, 1), "is a second pool: skiff's networks have one IPv4 subnet");
    },
  },
  [],
  ['options'],
);
const NETWORK = object(
  { name: str, external, internal: bool, labels: listOrDict, driver: oneOf('bridge'), ipam: IPAM },
  [],
  ['driver_opts', 'attachable', 'enable_ipv6', 'enable_ipv4'],
);
const VOLUME = object({ name: str, external, labels: listOrDict, driver: oneOf('local') }, [], ['driver_opts']);

// A top-level secret or config: exactly one source (file, environment, content — secrets no content — or external).
const fileObject =
  (what: 'secrets' | 'configs'): Check =>
  (v, p, at) => {
    object(
      { name: str, file: str, environment: str, external, labels: listOrDict, ...(what === 'configs' ? { content: str } : {}) },
      [],
      ['driver', 'driver_opts', 'template_driver'],
    )(v, p, at);
    const o = v as { [key: string]: Value };
    const sources = ['file', 'environment', 'content', 'external'].filter((k) => o[k] !== undefined && o[k] !== false);
    if (sources.length !== 1)
      at(
        p,
        `needs exactly one of file, environment, ${what === 'configs' ? 'content, ' : ''}external (it has ${sources.length ? sources.join(', ') : 'none'})`,
      );
  };

// include: a list of paths, or of {path (one or a list), project_directory, env_file (one or a list)}.
const include: Check = listOf((v, p, at) =>
  typeof v === 'string' ? undefined : object({ path: strOrList, project_directory: str, env_file: strOrList }, ['path'])(v, p, at),
);

const TOP = object(
  {
    version: scalar,
    name: str,
    services: namedMapOf(object(SERVICE, [], SERVICE_UNSUPPORTED)),
    networks: namedMapOf(nullable(NETWORK)),
    volumes: namedMapOf(nullable(VOLUME)),
    secrets: namedMapOf(fileObject('secrets')),
    configs: namedMapOf(fileObject('configs')),
    include,
    models: () => {},
  },
  [],
  ['models'],
);

// Throws a ComposeFileError for the first problem: "FILE:LINE: PATH: what is wrong".
export const validateSource = (source: SourceFile): void => {
  const at: Reporter = (path, message) => {
    let line: number | undefined;
    for (let p = path; line === undefined && p !== ''; p = p.replace(/(\.[^.[]*|\[\d+\])$/, '')) line = source.lines.get(p);
    throw new ComposeFileError(`${source.file}${line ? `:${line}` : ''}: ${path || '(top level)'} ${message}`);
  };
  if (source.value === null) at('', 'is empty: a compose file needs at least "services"');
  TOP(source.value, '', at);
};
