// `container inspect`: Podman 4.3's document for a container, its keys in Podman's order and with
// its value types (StopSignal a number, Entrypoint a string, Go's null for an empty list it leaves
// nil), filled from the container's record and state and from the files skiff keeps for it: the
// OCI spec it wrote (capabilities, annotations, rlimits, namespaces), its /etc files, its log, its
// cgroup while it runs.
import { existsSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { cgroupVersion } from '../cgroups/detect.js';
import { cgroupOfPid } from '../cgroups/manager.js';
import { networkMode } from '../network/modes.js';
import { prefixOf } from '../network/networks.js';
import { capabilitySet, INIT_PATH, normaliseCapabilities, processRlimits } from '../oci/spec.js';
import { memberships, type ContainerConfig } from '../state/containers.js';
import { readJsonIfExists } from '../util/fs.js';
import { inspectMounts } from './container-mounts.js';
import { command, portBindings, stateName, type ContainerRow } from './container-reports.js';
import { inspectSecrets } from './container-secrets.js';
import type { EngineContext } from './context.js';

/** What inspect needs beyond the row: the store's facts, and with --size the sizes. */
export interface InspectSources {
  ctx: EngineContext;
  /** The image's layer directories, lowest first (GraphDriver's LowerDir). */
  lowers: string[];
  size?: { rw: number; rootFs: number };
}

// The part of the runtime spec skiff wrote (bundle/config.json) that inspect reads.
interface WrittenSpec {
  ociVersion?: string;
  process?: {
    args?: string[];
    capabilities?: { bounding?: string[]; effective?: string[] };
    rlimits?: { type: string; soft: number; hard: number }[];
  };
  annotations?: Record<string, string>;
  linux?: { namespaces?: { type: string }[] };
}

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
// The bounding set Podman compares a container's with for CapAdd/CapDrop (runtime-tools' default).
const PODMAN_BASE_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

// "SIGTERM", "TERM" or "15" → 15 (0 for a name this system does not know).
export const signalNumber = (name: string): number => {
  if (/^\d+$/.test(name)) return Number(name);
  const upper = name.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTM(IN|AX)([+-]\d+)?$/.exec(upper);
  // (Linux's SIGRTMIN is 34 and SIGRTMAX 64, as Go's and Podman's tables say.)
  if (rt) return (rt[1] === 'IN' ? 34 : 64) + Number(rt[2] ?? 0);
  return (constants.signals as Record<string, number>)[`SIG${upper}`] ?? 0;
};

// go-units HumanSizeWithPrecision(n, 3): decimal units, no space ("1MB", "10MB", "0B").
export const goHumanSize = (bytes: number): string => {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = Math.max(0, bytes);
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(3))}${units[i]}`;
};

const orNull = <T>(list: T[] | undefined): T[] | null => (list?.length ? list : null);

// Podman's CapAdd/CapDrop: the bounding set against runtime-tools' default one (dropped ones sorted).
const capChanges = (bounding: string[], privileged: boolean): { add: string[]; drop: string[] } =>
  privileged
    ? { add: [], drop: [] }
    : { add: bounding.filter((c) => !PODMAN_BASE_CAPS.includes(c)), drop: PODMAN_BASE_CAPS.filter((c) => !bounding.includes(c)).sort() };

// HostConfig.Tmpfs: each tmpfs with the options it is mounted with (the user's first, as Podman's),
// and with --read-only the ones on /run, /tmp and /var/tmp (oci/spec.ts makes them).
const tmpfsOf = (c: ContainerConfig): Record<string, string> => {
  const out: Record<string, string> = {};
  if (c.readOnly && c.readOnlyTmpfs !== false) for (const d of ['/run', '/tmp', '/var/tmp']) out[d] = 'rw,nosuid,nodev';
  for (const t of c.tmpfs) {
    const [dest, options] = t.split(':', 2) as [string, string | undefined];
    out[dest] = [...(options ? options.split(',') : []), 'rw', 'noexec', 'nosuid', 'nodev'].join(',');
  }
  return out;
};

// The exec sessions running in a container (their process files in its runtime dir).
const execIds = (dir: string): string[] => {
  try {
    return readdirSync(dir)
      .filter((f) => /^exec-[0-9a-f]+\.json$/.test(f))
      .map((f) => f.slice(5, -5));
  } catch {
    return [];
  }
};

// `inspect` of a container, as Podman 4.3 prints it.
export const containerInspectJson = (row: ContainerRow, { ctx, lowers, size }: InspectSources) => {
  const { record: r, state: s } = row;
  const c = r.config;
  const store = ctx.containers;
  const dir = store.containerDir(r.id);
  const userdata = join(dir, 'userdata');
  const specFile = join(dir, 'bundle', 'config.json');
  const spec = readJsonIfExists<WrittenSpec>(specFile);
  const userspace = networkMode(c).addresses();
  const status = stateName(s);
  const live = s.status === 'running' || s.status === 'stopping' || s.status === 'initialized';
  const pid = live ? (s.pid ?? 0) : 0;
  const cgroup = live && s.status !== 'initialized' && pid ? cgroupOfPid(pid)?.replace(/^\/sys\/fs\/cgroup/, '') : undefined;
  const bounding = spec?.process?.capabilities?.bounding ?? capabilitySet(c);
  // Before its first start (no spec yet): what the spec will say. A user other than root starts
  // with the added capabilities only.
  const root = /^(|0|root)(:.*)?$/.test(c.user);
  const effective = spec?.process?.capabilities?.effective ?? (root ? bounding : normaliseCapabilities(c.capAdd).filter((x) => bounding.includes(x)));
  const argv = spec?.process?.args ?? (c.init ? [INIT_PATH, '--', ...command(r)] : command(r));
  const caps = capChanges(bounding, c.privileged);
  const mounts = inspectMounts(ctx.volumes, c.mounts ?? []);
  const etcFile = (name: string) => (existsSync(join(userdata, name)) ? join(userdata, name) : '');
  // (Exposed ports that are not published show as null, as Podman's.)
  const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = portBindings(r);
  for (const p of c.expose ?? []) ports[p.includes('/') ? p : `${p}/tcp`] ??= null;
  const res = c.resources ?? {};
  const rates = (list: { path: string; rate: number }[] | undefined) => (list?.length ? list.map((d) => ({ Path: d.path, Rate: d.rate })) : null);
  const networks = memberships(c);
  const image = ctx.images.get(r.imageId);
  const health = c.healthcheck;
  const netnsFile = store.netnsPath(r.id);
  // On the default network alone, Podman repeats its address at the top of NetworkSettings.
  const only = networks.length === 1 && networks[0]!.network === (ctx.config.network.defaultNetwork ?? 'podman') ? networks[0] : undefined;
  const onlyNet = only ? ctx.networks.get(only.network) : undefined;
  return {
    Id: r.id,
    Created: r.created,
    Path: argv[0] ?? '',
    Args: argv.slice(1),
    State: {
      OciVersion: spec?.ociVersion ?? '1.0.2',
      Status: status,
      Running: status === 'running' || status === 'paused',
      Paused: status === 'paused',
      Restarting: false,
      OOMKilled: s.oomKilled ?? false,
      Dead: false,
      Pid: pid,
      ...(live && s.monitorPid ? { ConmonPid: s.monitorPid } : {}),
      ExitCode: s.exitCode ?? 0,
      Error: s.error ?? '',
      StartedAt: s.startedAt ?? GO_ZERO_TIME,
      FinishedAt: s.finishedAt ?? GO_ZERO_TIME,
      Health: row.health ?? { Status: '', FailingStreak: 0, Log: null },
      ...(cgroup ? { CgroupPath: cgroup } : {}),
      CheckpointedAt: GO_ZERO_TIME,
      RestoredAt: GO_ZERO_TIME,
    },
    Image: r.imageId.replace(/^sha256:/, ''),
    ImageDigest: image?.digest ?? '',
    ImageName: r.image,
    Rootfs: c.rootfs?.path ?? '',
    Pod: '',
    ResolvConfPath: etcFile('resolv.conf'),
    HostnamePath: etcFile('hostname'),
    HostsPath: c.noHosts ? '' : etcFile('hosts'),
    StaticDir: userdata,
    ...(spec ? { OCIConfigPath: specFile } : {}),
    OCIRuntime: r.runtime.split('/').pop(),
    // (The monitor's and the runtime's pid files, as container-launch.ts names them; --conmon-pidfile's
    // and --pidfile's copies when given.)
    ConmonPidFile: c.conmonPidfile ?? join(store.runtimeDir(r.id), 'monitor.pid'),
    PidFile: c.pidfile ?? join(store.runtimeDir(r.id), 'pidfile'),
    Name: r.name,
    RestartCount: s.restartCount,
    Driver: r.rootfsDriver,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    EffectiveCaps: orNull(effective),
    BoundingCaps: orNull(bounding),
    ExecIDs: live ? execIds(store.runtimeDir(r.id)) : [],
    GraphDriver: {
      Name: r.rootfsDriver,
      Data:
        r.rootfsDriver === 'copy'
          ? null
          : { LowerDir: lowers.join(':'), MergedDir: join(dir, 'merged'), UpperDir: join(dir, 'upper'), WorkDir: join(dir, 'work') },
    },
    ...(size ? { SizeRw: size.rw, SizeRootFs: size.rootFs } : {}),
    Mounts: mounts,
    Dependencies: c.requires ?? [],
    NetworkSettings: {
      EndpointID: '',
      Gateway: onlyNet?.gateway ?? userspace.gateway ?? '',
      IPAddress: only?.ip ?? userspace.ip ?? '',
      IPPrefixLen: onlyNet ? prefixOf(onlyNet.subnet) : 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: only?.mac ?? '',
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: ports,
      SandboxKey: live && existsSync(netnsFile) ? netnsFile : '',
      // Each named network the container is on, as Podman shows them.
      ...(networks.length
        ? {
            Networks: Object.fromEntries(
              networks.map((m) => {
                const n = ctx.networks.get(m.network);
                return [
                  m.network,
                  {
                    EndpointID: '',
                    Gateway: n?.gateway ?? '',
                    IPAddress: m.ip,
                    IPPrefixLen: n ? prefixOf(n.subnet) : 0,
                    IPv6Gateway: '',
                    GlobalIPv6Address: '',
                    GlobalIPv6PrefixLen: 0,
                    MacAddress: m.mac ?? '',
                    NetworkID: n?.id ?? m.network,
                    DriverOpts: null,
                    IPAMConfig: null,
                    Links: null,
                    Aliases: m.aliases,
                  },
                ];
              }),
            ),
          }
        : {}),
    },
    Namespace: '',
    IsInfra: false,
    IsService: false,
    Config: {
      Hostname: c.hostname,
      Domainname: '',
      User: c.user,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: c.tty,
      OpenStdin: c.interactive,
      StdinOnce: false,
      Env: c.env,
      Cmd: orNull(c.cmd),
      Image: r.image,
      Volumes: null,
      WorkingDir: c.workdir,
      Entrypoint: c.entrypoint.join(' '),
      OnBuild: null,
      Labels: c.labels,
      Annotations: { ...c.annotations, ...spec?.annotations },
      StopSignal: signalNumber(c.stopSignal),
      ...(health
        ? {
            Healthcheck: {
              Test: health.test,
              ...(health.intervalMs ? { Interval: health.intervalMs * 1e6 } : {}),
              ...(health.timeoutMs ? { Timeout: health.timeoutMs * 1e6 } : {}),
              ...(health.startPeriodMs ? { StartPeriod: health.startPeriodMs * 1e6 } : {}),
              ...(health.retries ? { Retries: health.retries } : {}),
            },
          }
        : {}),
      HealthcheckOnFailureAction: health?.onFailure ?? 'none',
      ...(r.createCommand ? { CreateCommand: r.createCommand } : {}),
      ...(c.tz ? { Timezone: c.tz } : {}),
      ...(c.systemd ? { SystemdMode: true } : {}),
      Umask: `0${(c.umask ?? 0o022).toString(8).padStart(3, '0')}`,
      ...(c.secrets?.some((x) => x.type === 'mount') ? { Secrets: inspectSecrets(c.secrets) } : {}),
      Timeout: c.timeout ?? 0,
      StopTimeout: c.stopTimeout,
      Passwd: !c.noPasswd,
      ...(c.chrootDirs?.length ? { ChrootDirs: c.chrootDirs } : {}),
      sdNotifyMode: c.sdnotify ?? 'container',
    },
    HostConfig: {
      Binds: mounts.map((m) => `${m.Name ?? m.Source}:${m.Destination}:${[m.RW ? 'rw' : 'ro', m.Propagation, ...m.Options].join(',')}`),
      CgroupManager: r.cgroupManager ?? 'none',
      CgroupMode:
        (spec?.linux?.namespaces ?? []).some((n) => n.type === 'cgroup') || (!spec && c.cgroupns !== 'host' && cgroupVersion() === 'v2') ? 'private' : 'host',
      ContainerIDFile: c.cidfile ?? '',
      LogConfig: {
        Type: c.logDriver ?? 'k8s-file',
        Config: null,
        Path: c.logDriver === 'none' ? '' : (c.logPath ?? store.logPath(r.id)),
        Tag: c.logTag ?? '',
        Size: goHumanSize(c.logSizeMax ?? 0),
      },
      NetworkMode: c.namedNetwork ? 'bridge' : c.network,
      PortBindings: ports,
      RestartPolicy: { Name: c.restartPolicy.name === 'no' ? '' : c.restartPolicy.name, MaximumRetryCount: c.restartPolicy.maxRetries },
      AutoRemove: c.autoRemove,
      VolumeDriver: '',
      VolumesFrom: orNull(c.volumesFrom),
      CapAdd: caps.add,
      CapDrop: caps.drop,
      Dns: c.dns ?? [],
      DnsOptions: c.dnsOptions ?? [],
      DnsSearch: c.dnsSearch ?? [],
      ExtraHosts: c.addHosts ?? [],
      GroupAdd: c.groupAdd ?? [],
      IpcMode: c.sharedNamespaces?.ipc ?? 'shareable',
      Cgroup: '',
      Cgroups: c.cgroups ?? 'default',
      Links: null,
      OomScoreAdj: c.oomScoreAdj ?? 0,
      PidMode: c.sharedNamespaces?.pid ?? 'private',
      Privileged: c.privileged,
      PublishAllPorts: c.publishAll ?? false,
      ReadonlyRootfs: c.readOnly,
      SecurityOpt: [...(c.noNewPrivileges ? ['no-new-privileges'] : []), ...(c.seccomp === 'unconfined' ? ['seccomp=unconfined'] : [])],
      Tmpfs: tmpfsOf(c),
      UTSMode: c.sharedNamespaces?.uts ?? 'private',
      UsernsMode: c.userns ?? '',
      ...(c.idMappings
        ? {
            IDMappings: {
              UidMap: c.idMappings.uid.map((m) => `${m.inner}:${m.outer}:${m.count}`),
              GidMap: c.idMappings.gid.map((m) => `${m.inner}:${m.outer}:${m.count}`),
            },
          }
        : {}),
      ShmSize: c.shmSize ?? 65536 * 1024,
      Runtime: 'oci',
      ConsoleSize: [0, 0],
      Isolation: '',
      CpuShares: res.cpuShares ?? 0,
      Memory: res.memory ?? 0,
      NanoCpus: res.cpuQuota && res.cpuPeriod ? Math.round((res.cpuQuota / res.cpuPeriod) * 1e9) : 0,
      CgroupParent: c.cgroupParent ?? '',
      BlkioWeight: res.blkioWeight ?? 0,
      BlkioWeightDevice: res.blkioWeightDevice?.length ? res.blkioWeightDevice.map((d) => ({ Path: d.path, Weight: d.weight })) : null,
      BlkioDeviceReadBps: rates(res.deviceReadBps),
      BlkioDeviceWriteBps: rates(res.deviceWriteBps),
      BlkioDeviceReadIOps: rates(res.deviceReadIops),
      BlkioDeviceWriteIOps: rates(res.deviceWriteIops),
      CpuPeriod: res.cpuPeriod ?? 0,
      CpuQuota: res.cpuQuota ?? 0,
      CpuRealtimePeriod: res.cpuRtPeriod ?? 0,
      CpuRealtimeRuntime: res.cpuRtRuntime ?? 0,
      CpusetCpus: res.cpusetCpus ?? '',
      CpusetMems: res.cpusetMems ?? '',
      Devices: (c.devices ?? []).map((d) => ({ PathOnHost: d.source, PathInContainer: d.destination, CgroupPermissions: d.readOnly ? 'r' : 'rwm' })),
      DiskQuota: 0,
      KernelMemory: 0,
      MemoryReservation: res.memoryReservation ?? 0,
      MemorySwap: res.memorySwap ?? 0,
      MemorySwappiness: res.memorySwappiness ?? 0,
      OomKillDisable: res.oomKillDisable ?? false,
      ...(c.init ? { Init: true } : {}),
      PidsLimit: res.pidsLimit ?? 0,
      Ulimits: (spec?.process?.rlimits ?? processRlimits(c.ulimits)).map((u) => ({ Name: u.type, Soft: u.soft, Hard: u.hard })),
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      CgroupConf: res.unified && Object.keys(res.unified).length ? res.unified : null,
    },
  };
};
