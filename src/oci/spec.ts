// OCI runtime spec (config.json) for a container, from the image's config and the user's flags.
// The container runs inside skiff's rootless user namespace, so the spec asks for no user namespace
// of its own: uid 0 in the container is the user, other ids are the subordinate range.
import { existsSync, readFileSync } from 'node:fs';
import { CliError } from '../errors.js';
import { hardLimit } from '../util/proc.js';
import type { IdMapRange, IdMappings } from '../util/idmap.js';
import type { ResolvedUser } from './passwd.js';
import { defaultSeccomp, type SeccompProfile } from './seccomp.js';

export const ALL_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

// Podman's default set for containers.
export const DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
].map((c) => `CAP_${c}`);

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/fs/selinux',
  '/sys/dev/block',
];
const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const INIT_PATH = '/run/skiff-init';

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface SpecInput {
  hostname: string;
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  user: ResolvedUser;
  terminal: boolean;
  capAdd: string[];
  capDrop: string[];
  /** The set before capAdd/capDrop (containers.conf default_capabilities); Podman's by default. */
  defaultCapabilities?: string[];
  privileged: boolean;
  readOnly: boolean;
  /** With readOnly: tmpfs on /run, /tmp and /var/tmp. */
  readOnlyTmpfs?: boolean;
  noNewPrivileges: boolean;
  /** 'default', 'unconfined', or the text of a profile file. */
  seccomp: string;
  tmpfs: string[];
  /** Bind mounts and volumes, as the runtime takes them (after the tmpfs mounts). */
  binds?: Mount[];
  /** Host path of an init binary (catatonit, tini) to run as pid 1, when --init was given. */
  init?: string;
  /** 'private' (own network namespace), 'host', or the path of a network namespace to join. */
  network: 'private' | 'host' | { path: string };
  /** Host files bind-mounted at /etc/hosts, /etc/resolv.conf, /etc/hostname. */
  etcFiles: Record<string, string>;
  cgroupV2: boolean;
  /** Only the user's own uid is mapped: group ids such as devpts's gid=5 do not exist. */
  singleId: boolean;
  /** A user namespace of the container's own, with these maps (ids of skiff's namespace outside). */
  idMappings?: IdMappings;
  /** linux.resources and linux.cgroupsPath (a cgroup manager's; see cgroups/). */
  resources?: Record<string, unknown>;
  cgroupsPath?: string;
  /** --ulimit: these rlimits over the defaults. */
  ulimits?: { type: string; soft: number; hard: number }[];
  oomScoreAdj?: number;
  /** --cgroupns=host: no cgroup namespace of its own. */
  hostCgroupns?: boolean;
  annotations: Record<string, string>;
  umask?: number;
  /** /dev/shm's size in bytes (default 64 MiB). */
  shmSize?: number;
  sysctls?: Record<string, string>;
  personality?: 'LINUX' | 'LINUX32';
  /** --systemd: what an init expects: tmpfs on /run, /run/lock, /tmp, /var/log/journal and (cgroup v2) a writable cgroup. */
  systemd?: boolean;
  /** Namespaces not of its own: the host's, or another's (a path to join). */
  shared?: { ipc?: SharedNamespace; pid?: SharedNamespace; uts?: SharedNamespace };
}

export type SharedNamespace = 'host' | { path: string };

// Normalises "net_admin", "CAP_NET_ADMIN", "ALL" to the runtime's names; rejects unknown ones.
export const normaliseCapabilities = (names: string[]): string[] =>
  names.flatMap((raw) => {
    const upper = raw.trim().toUpperCase();
    if (upper === 'ALL') return ALL_CAPABILITIES;
    const cap = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!ALL_CAPABILITIES.includes(cap)) throw new CliError('EUSAGE', `unknown capability "${raw}": see capabilities(7) for the names`);
    return [cap];
  });

// The capabilities this kernel knows (newer names than it has would make the runtime fail).
const kernelCapabilities = (): string[] => {
  try {
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    return ALL_CAPABILITIES.slice(0, last + 1);
  } catch {
    return ALL_CAPABILITIES;
  }
};

export const capabilitySet = (input: Pick<SpecInput, 'capAdd' | 'capDrop' | 'privileged' | 'defaultCapabilities'>): string[] => {
  const known = kernelCapabilities();
  if (input.privileged) return known;
  const drop = new Set(normaliseCapabilities(input.capDrop));
  const add = normaliseCapabilities(input.capAdd);
  const defaults = input.defaultCapabilities ? normaliseCapabilities(input.defaultCapabilities) : DEFAULT_CAPABILITIES;
  const set = new Set(input.capDrop.some((c) => c.toUpperCase() === 'ALL') ? [] : defaults);
  for (const cap of add) set.add(cap);
  for (const cap of drop) if (!add.includes(cap)) set.delete(cap);
  return known.filter((c) => set.has(c));
};

const parseTmpfs = (spec: string): Mount => {
  const [destination, options] = spec.split(':', 2) as [string, string | undefined];
  if (!destination.startsWith('/')) throw new CliError('EUSAGE', `--tmpfs ${spec}: the mount point must be an absolute path`);
  return { destination, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'noexec', 'nosuid', 'nodev', ...(options ? options.split(',') : [])] };
};

const seccompOf = (input: SpecInput, caps: string[]): SeccompProfile | undefined => {
  if (input.privileged || input.seccomp === 'unconfined') return undefined;
  if (input.seccomp === 'default') return defaultSeccomp(caps);
  try {
    return JSON.parse(input.seccomp) as SeccompProfile;
  } catch {
    throw new CliError('EUSAGE', '--security-opt seccomp=FILE: the file is not a JSON seccomp profile');
  }
};

// The container's rlimits: this process's hard NOFILE and NPROC limits, under --ulimit's.
export const processRlimits = (ulimits: { type: string; soft: number; hard: number }[] = []): { type: string; soft: number; hard: number }[] => {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const nofile = hardLimit('Max open files', limits) ?? 1048576;
  const nproc = hardLimit('Max processes', limits);
  return [
    ...[{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }, ...(nproc !== undefined ? [{ type: 'RLIMIT_NPROC', hard: nproc, soft: nproc }] : [])].filter(
      (d) => !ulimits.some((u) => u.type === d.type),
    ),
    ...ulimits,
  ];
};

export const generateSpec = (input: SpecInput): Record<string, unknown> => {
  const caps = capabilitySet(input);
  const nonRoot = input.user.uid !== 0;
  const explicit = normaliseCapabilities(input.capAdd).filter((c) => caps.includes(c));
  const running = nonRoot ? explicit : caps;
  const ownNetwork = input.network !== 'host';
  const mounts: Mount[] = [
    // The host's pid namespace: its /proc bound (a rootless proc mount needs a pid namespace of its own).
    input.shared?.pid === 'host'
      ? { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
      : { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(input.singleId ? [] : ['gid=5'])],
    },
    // The host's IPC namespace: its /dev/shm and /dev/mqueue bound, not new ones.
    ...(input.shared?.ipc === 'host'
      ? [
          { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] },
          ...(existsSync('/dev/mqueue')
            ? [{ destination: '/dev/mqueue', type: 'bind', source: '/dev/mqueue', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }]
            : []),
        ]
      : [
          { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
          {
            destination: '/dev/shm',
            type: 'tmpfs',
            source: 'shm',
            options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${input.shmSize ? `${Math.ceil(input.shmSize / 1024)}k` : '65536k'}`],
          },
        ]),
    ownNetwork
      ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'bind', source: '/sys', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'ro', 'rbind'] },
  ];
  // (systemd as init writes its cgroup: rw, as Podman mounts it for --systemd.)
  if (input.cgroupV2 && input.systemd)
    mounts.push(
      input.hostCgroupns
        ? { destination: '/sys/fs/cgroup', type: 'bind', source: '/sys/fs/cgroup', options: ['bind', 'private', 'rw'] }
        : { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['private', 'rw'] },
    );
  else if (input.cgroupV2)
    mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
  const extra: Mount[] = Object.entries(input.etcFiles).map(([destination, source]) => ({ destination, type: 'bind', source, options: ['bind', 'rprivate'] }));
  if (input.readOnly && input.readOnlyTmpfs !== false)
    for (const d of ['/tmp', '/var/tmp', '/run']) extra.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev'] });
  for (const t of input.tmpfs) extra.push(parseTmpfs(t));
  extra.push(...(input.binds ?? []));
  // --systemd: the tmpfs an init expects, each with what the image has there (tmpcopyup), unless mounted already.
  if (input.systemd)
    for (const d of ['/run', '/run/lock', '/tmp', '/var/log/journal'])
      if (!extra.some((m) => m.destination === d))
        extra.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] });
  if (input.init) extra.push({ destination: INIT_PATH, type: 'bind', source: input.init, options: ['bind', 'ro', 'rprivate'] });
  // Shallower paths first (a stable sort, as Podman's): `-v .:/app` does not hide `--tmpfs /app/tmp`,
  // nor `-v ./etc:/etc` the /etc files.
  const depth = (m: Mount) => m.destination.split('/').filter(Boolean).length;
  mounts.push(...extra.sort((a, b) => depth(a) - depth(b)));

  const namespaces: { type: string; path?: string }[] = [];
  for (const type of ['pid', 'ipc', 'uts'] as const) {
    const shared = input.shared?.[type];
    if (shared !== 'host') namespaces.push(shared ? { type, path: shared.path } : { type });
  }
  namespaces.push({ type: 'mount' });
  if (input.network === 'private') namespaces.push({ type: 'network' });
  else if (typeof input.network === 'object') namespaces.push({ type: 'network', path: input.network.path });
  if (input.cgroupV2 && !input.hostCgroupns) namespaces.push({ type: 'cgroup' });
  if (input.idMappings) namespaces.push({ type: 'user' });
  const idMap = (ranges: IdMapRange[]) => ranges.map((r) => ({ containerID: r.inner, hostID: r.outer, size: r.count }));

  const seccomp = seccompOf(input, caps);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: input.terminal,
      user: {
        uid: input.user.uid,
        gid: input.user.gid,
        ...(input.user.additionalGids.length ? { additionalGids: input.user.additionalGids } : {}),
        ...(input.umask !== undefined ? { umask: input.umask } : {}),
      },
      args: input.init ? [INIT_PATH, '--', ...input.args] : input.args,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: running, permitted: running, ...(nonRoot ? { ambient: explicit, inheritable: explicit } : {}) },
      rlimits: processRlimits(input.ulimits),
      ...(input.oomScoreAdj !== undefined ? { oomScoreAdj: input.oomScoreAdj } : {}),
      noNewPrivileges: input.noNewPrivileges,
    },
    root: { path: input.rootfs, readonly: input.readOnly },
    // (A hostname is the container's own UTS namespace's: none when it shares one.)
    ...(input.shared?.uts ? {} : { hostname: input.hostname }),
    mounts,
    annotations: input.annotations,
    linux: {
      namespaces,
      ...(input.idMappings ? { uidMappings: idMap(input.idMappings.uid), gidMappings: idMap(input.idMappings.gid) } : {}),
      ...(input.resources ? { resources: input.resources } : {}),
      ...(input.cgroupsPath ? { cgroupsPath: input.cgroupsPath } : {}),
      ...(seccomp ? { seccomp } : {}),
      ...(input.privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
      ...(input.sysctls ? { sysctl: input.sysctls } : {}),
      ...(input.personality ? { personality: { domain: input.personality } } : {}),
    },
  };
};
