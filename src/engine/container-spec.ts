// `generate spec`: a container's recorded configuration as Podman's SpecGenerator JSON (its key
// names and shapes, podman/pkg/specgen), as far as skiff's settings have one; Podman's ConfigToSpec
// makes it the same way from the container's config. Keys with nothing to say are left out, as
// Podman's omitempty does (image, init_container_type and use_image_hosts always come).
import { ociResources } from '../cgroups/limits.js';
import { memberships, type ContainerRecord, type MountSpec } from '../state/containers.js';
import { constants } from 'node:os';
import { blockDevice } from './container-cgroups.js';

type Json = Record<string, unknown>;

interface Namespace {
  nsmode: string;
  value?: string;
}

// host, container:ID, ns:PATH (skiff's --ipc/--pid/--uts values) as a specgen Namespace.
const namespace = (mode: string | undefined, otherwise: string): Namespace => {
  if (!mode) return { nsmode: otherwise };
  if (mode.startsWith('container:')) return { nsmode: 'container', value: mode.slice('container:'.length) };
  if (mode.startsWith('ns:')) return { nsmode: 'path', value: mode.slice('ns:'.length) };
  return { nsmode: mode };
};

// The network namespace: pasta, slirp4netns, none, host, another container's, a path, or a
// named network (Podman's bridge mode, the network in `Networks`).
const netns = (record: ContainerRecord): Namespace => {
  const c = record.config;
  if (c.namedNetwork) return { nsmode: 'bridge' };
  return namespace(c.network, 'default');
};

const userns = (mode: string | undefined): Namespace => {
  if (!mode) return { nsmode: 'default' };
  const [kind, options] = mode.split(':', 2);
  if (kind === 'keep-id' || kind === 'nomap' || kind === 'auto') return { nsmode: kind, ...(options ? { value: options } : {}) };
  return namespace(mode, 'private');
};

const omitEmpty = (json: Json): Json =>
  Object.fromEntries(
    Object.entries(json).filter(
      ([, v]) =>
        v !== undefined &&
        v !== false &&
        v !== '' &&
        v !== 0 &&
        !(Array.isArray(v) && v.length === 0) &&
        !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0),
    ),
  );

const bindMount = (m: MountSpec): Json => ({
  destination: m.destination,
  type: 'bind',
  source: m.source,
  options: ['rbind', ...(m.readOnly ? ['ro'] : []), ...m.options],
});

// "SIGTERM", "TERM" or "15" → 15.
const signalNumber = (name: string): number | undefined => {
  if (/^\d+$/.test(name)) return Number(name);
  const upper = name.toUpperCase();
  return (constants.signals as Record<string, number>)[upper.startsWith('SIG') ? upper : `SIG${upper}`];
};

// The SpecGenerator of a container, named `name`.
export const specOf = (record: ContainerRecord, name: string): Json => {
  const c = record.config;
  const env = Object.fromEntries(
    c.env.map((e) => [e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), e.includes('=') ? e.slice(e.indexOf('=') + 1) : '']),
  );
  const networks = Object.fromEntries(memberships(c).map((m) => [m.network, omitEmpty({ aliases: m.aliases, interface_name: m.device, static_mac: m.mac })]));
  const tmpfs = c.tmpfs.map((t) => {
    const [destination, options] = t.split(':', 2);
    return { destination, type: 'tmpfs', source: 'tmpfs', options: options ? options.split(',') : [] };
  });
  const health = c.healthcheck;
  let resources: Json | undefined;
  try {
    resources = c.resources ? ociResources(c.resources, blockDevice) : undefined;
  } catch {
    // (An I/O limit whose device is gone from this host: the rest is still said.)
    const { deviceReadBps: _r, deviceWriteBps: _w, deviceReadIops: _ri, deviceWriteIops: _wi, ...rest } = c.resources ?? {};
    resources = ociResources(rest, blockDevice);
  }
  return {
    ...omitEmpty({
      name,
      entrypoint: c.entrypoint,
      command: c.cmd,
      env,
      terminal: c.tty,
      stdin: c.interactive,
      labels: c.labels,
      annotations: c.annotations,
      stop_signal: signalNumber(c.stopSignal),
      stop_timeout: c.stopTimeout,
      timeout: c.timeout,
      log_configuration: omitEmpty({
        driver: c.logDriver ?? 'k8s-file',
        path: c.logPath,
        size: c.logSizeMax && c.logSizeMax > 0 ? c.logSizeMax : undefined,
        options: c.logTag ? { tag: c.logTag } : undefined,
      }),
      conmon_pid_file: c.conmonPidfile,
      raw_image_name: record.image,
      restart_policy: c.restartPolicy.name === 'no' ? undefined : c.restartPolicy.name,
      restart_tries: c.restartPolicy.name === 'on-failure' ? c.restartPolicy.maxRetries : undefined,
      oci_runtime: record.runtime.split('/').pop(),
      sdnotifyMode: c.sdnotify,
      pidns: namespace(c.sharedNamespaces?.pid, 'default'),
      utsns: namespace(c.sharedNamespaces?.uts, 'private'),
      hostname: c.hostname,
      sysctl: c.sysctls,
      remove: c.autoRemove,
      containerCreateCommand: record.createCommand,
      timezone: c.tz,
      dependencyContainers: c.requires,
      personality: c.personality ? { domain: c.personality } : undefined,
    }),
    image: record.imageId.replace(/^sha256:/, ''),
    ...omitEmpty({
      volumes_from: c.volumesFrom,
      init: c.init,
      init_path: c.initPath,
      mounts: [...(c.mounts ?? []).filter((m) => m.type === 'bind').map(bindMount), ...tmpfs],
      volumes: (c.mounts ?? [])
        .filter((m) => m.type === 'volume')
        .map((m) => ({ Name: m.source, Dest: m.destination, Options: [...(m.readOnly ? ['ro'] : []), ...m.options], IsAnonymous: m.anonymous === true })),
      devices: (c.devices ?? []).map((d) => ({ path: `${d.source}:${d.destination}${d.readOnly ? ':r' : ''}` })),
      ipcns: namespace(c.sharedNamespaces?.ipc, 'default'),
      shm_size: c.shmSize,
      work_dir: c.workdir,
      privileged: c.privileged,
      user: c.user,
      groups: c.groupAdd,
      cap_add: c.capAdd,
      cap_drop: c.capDrop,
      seccomp_profile_path: c.seccomp && c.seccomp !== 'default' ? c.seccomp : undefined,
      no_new_privileges: c.noNewPrivileges,
      userns: userns(c.userns),
      idmappings: c.idMappings
        ? {
            HostUIDMapping: false,
            HostGIDMapping: false,
            UIDMap: c.idMappings.uid.map((m) => ({ container_id: m.inner, host_id: m.outer, size: m.count })),
            GIDMap: c.idMappings.gid.map((m) => ({ container_id: m.inner, host_id: m.outer, size: m.count })),
            AutoUserNs: c.userns?.startsWith('auto') === true,
          }
        : undefined,
      read_only_filesystem: c.readOnly,
      umask: c.umask !== undefined ? `0${c.umask.toString(8)}` : undefined,
      cgroupns: { nsmode: c.cgroupns ?? 'default' },
      cgroups_mode: c.cgroups,
      cgroup_parent: c.cgroupParent,
      netns: netns(record),
      portmappings: (c.ports ?? []).map((p) => ({
        host_ip: p.hostIp === '0.0.0.0' ? '' : p.hostIp,
        container_port: p.containerPort,
        host_port: p.hostPort,
        range: 1,
        protocol: p.protocol,
      })),
      expose: Object.fromEntries((c.expose ?? []).map((p) => [p.split('/')[0], p.split('/')[1] ?? 'tcp'])),
      Networks: networks,
      dns_server: c.dns,
      dns_search: c.dnsSearch,
      dns_option: c.dnsOptions,
      hostadd: c.addHosts,
      resource_limits: resources,
      r_limits: (c.ulimits ?? []).map((u) => ({ type: `RLIMIT_${u.type.toUpperCase()}`, hard: u.hard, soft: u.soft })),
      oom_score_adj: c.oomScoreAdj,
      healthconfig: health
        ? {
            Test: health.test,
            Interval: health.intervalMs * 1e6,
            Timeout: health.timeoutMs * 1e6,
            StartPeriod: health.startPeriodMs * 1e6,
            Retries: health.retries,
          }
        : undefined,
      // (Podman's numbers: none 0, invalid 1, kill 2, restart 3, stop 4.)
      health_check_on_failure_action: health ? ['none', 'invalid', 'kill', 'restart', 'stop'].indexOf(health.onFailure) : undefined,
    }),
    init_container_type: '',
    use_image_hosts: c.noHosts === true,
  };
};
