// From `create`/`run` flags and the image's config to a container's config, with Docker's rules:
// --entrypoint replaces the image's and drops its Cmd; arguments replace Cmd; -e overrides --env-file
// overrides the image's Env; names in --user are resolved later, against the container's files.
import { parseUserns } from '../util/idmap.js';
import { checkUlimits, type LimitFlags, parseLimits, parseUlimit } from '../cgroups/limits.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ImageConfig } from '../image-format.js';
import { CliError } from '../errors.js';
import { parseNetworkSpec } from '../network/modes.js';
import type { PortMapping } from '../network/ports.js';
import type { ContainerConfig, MountSpec, RestartPolicy } from '../state/containers.js';
import { parseRamSize } from '../build/values.js';
import { log } from '../util/log.js';
import { hostAccount } from '../oci/passwd.js';
import { healthcheckConfig, type HealthFlags } from './container-health.js';
import { containerMounts, parseDevice } from './container-mounts.js';
import { checkMac } from './container-networks.js';
import { parseSecretFlags } from './container-secrets.js';
import { idMapFlags } from './container-userns.js';

/** A file copied into the container at create like a mount secret, its data given (compose's secrets and configs). */
export interface FileSecret {
  name: string;
  /** Absolute path in the container. */
  target: string;
  uid: number;
  gid: number;
  mode: number;
  data: Buffer;
}

export interface CreateOptions extends LimitFlags, HealthFlags {
  image: string;
  command: string[];
  name?: string;
  replace?: boolean;
  entrypoint?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  labels?: string[];
  tty?: boolean;
  interactive?: boolean;
  rm?: boolean;
  restart?: string;
  stopSignal?: string;
  stopTimeout?: number;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  readOnly?: boolean;
  securityOpt?: string[];
  tmpfs?: string[];
  /** -v [SOURCE:]DEST[:OPTIONS] */
  volume?: string[];
  /** --mount type=bind|volume|tmpfs,… */
  mount?: string[];
  /** What becomes of the image's VOLUMEs: bind (anonymous volumes; the default), tmpfs or ignore. */
  imageVolume?: string;
  /** --volumes-from CONTAINER[:ro|rw] */
  volumesFrom?: string[];
  /** With --read-only: tmpfs on /run, /tmp and /var/tmp (the default), or not. */
  readOnlyTmpfs?: boolean;
  /** --device HOST-PATH[:CONTAINER-PATH][:PERMISSIONS] */
  device?: string[];
  /** --userns: host (skiff's own namespace: root inside is you; the default), keep-id, nomap, auto. */
  userns?: string;
  /** --ulimit TYPE=SOFT[:HARD] (rlimits: no cgroup needed). */
  ulimit?: string[];
  oomScoreAdj?: string;
  cgroupParent?: string;
  cgroupns?: string;
  cgroups?: string;
  /** --uidmap/--gidmap: CONTAINER:HOST:SIZE, HOST an id of skiff's namespace. */
  uidmap?: string[];
  gidmap?: string[];
  init?: boolean;
  network?: string;
  /** Named networks to join besides the first (`--network a --network b`). */
  moreNetworks?: string[];
  runtime?: string;
  pull?: 'missing' | 'always' | 'never';
  /** --log-opt KEY=VALUE: max-size (the log rotates past it; default 10 MB, -1 never), path, tag. */
  logOpts?: string[];
  /** --log-driver: k8s-file (the default) or none. */
  logDriver?: string;
  publish?: string[];
  publishAll?: boolean;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  addHosts?: string[];
  networkAliases?: string[];
  /** --sdnotify: conmon, container (the default) or ignore. */
  sdnotify?: string;
  /** --cidfile: where the new container's id is written. */
  cidfile?: string;
  /** The command line that made it (`skiff run ...`), for `generate systemd --new`. */
  createCommand?: string[];
  /** The systemd unit running the command (SKIFF_SYSTEMD_UNIT): auto-update restarts it. */
  systemdUnit?: string;
  tz?: string;
  umask?: string;
  shmSize?: string;
  sysctl?: string[];
  groupAdd?: string[];
  /** false: --no-hosts. */
  hosts?: boolean;
  expose?: string[];
  annotation?: string[];
  labelFile?: string[];
  pidfile?: string;
  conmonPidfile?: string;
  envHost?: boolean;
  unsetenv?: string[];
  unsetenvAll?: boolean;
  envMerge?: string[];
  /** false: --http-proxy=false (the host's proxy variables stay out). */
  httpProxy?: boolean;
  personality?: string;
  ipc?: string;
  pid?: string;
  uts?: string;
  platform?: string;
  arch?: string;
  os?: string;
  variant?: string;
  seccompPolicy?: string;
  /** Pulling a missing image. */
  authfile?: string;
  tlsVerify?: boolean;
  /** --init-path: the init binary for --init. */
  initPath?: string;
  /** --timeout SECONDS, --rmi, --requires A,B. */
  timeout?: string;
  rmi?: boolean;
  requires?: string[];
  /** --ip, --ip6, --mac-address: on its named network. */
  ip?: string;
  ip6?: string;
  macAddress?: string;
  /** --secret NAME[,type=mount|env][,target=…][,uid=N][,gid=N][,mode=OCTAL] (container-secrets.ts). */
  secret?: string[];
  /** Files copied in as mount secrets are, after the --secret ones (compose-create.ts). */
  fileSecrets?: FileSecret[];
  /** containers.conf (engine/container-defaults.ts): env below the image's, capabilities, /etc/hosts base. */
  defaultEnv?: string[];
  defaultCapabilities?: string[];
  baseHostsFile?: string;
  /** -a/--attach: stdin, stdout, stderr. */
  attach?: string[];
  /** --rootfs: `image` is a host directory (DIR or DIR:O) to run as the root. */
  rootfs?: boolean;
  /** --systemd: true (the default), false or always. */
  systemd?: string;
  /** run --passwd=false. */
  passwd?: boolean;
  passwdEntry?: string;
  hostuser?: string[];
  /** run --preserve-fds N, as given. */
  preserveFds?: string;
  chrootdirs?: string[];
  deviceCgroupRule?: string[];
  subuidname?: string;
  subgidname?: string;
  pod?: string;
  podIdFile?: string;
  initCtr?: string;
  /** `container clone`: the configuration to take (of the new container's id) instead of building one. */
  cloneOf?: (id: string) => ContainerConfig;
}

// --rootfs DIR[:O]: an existing directory (absolute once resolved); :O puts an overlay on it, so
// the container's writes go to its own layer and DIR is never written.
export const rootfsSource = (spec: string): { path: string; overlay: boolean } => {
  const overlay = spec.endsWith(':O');
  const path = resolve(overlay ? spec.slice(0, -2) : spec);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw usage(`--rootfs ${spec}: ${path} is not a directory (give the directory to run as the root, DIR or DIR:O)`);
  return { path, overlay };
};

// run --preserve-fds N: a whole number.
export const wholeFds = (text: string): number => {
  if (!/^\d+$/.test(text)) throw usage(`invalid --preserve-fds "${text}": use a number of file descriptors`);
  return Number(text);
};

const SYSTEMD_INITS = ['/sbin/init', '/usr/sbin/init', '/usr/local/sbin/init'];

// --systemd: always; true (the default) when the command (after a `/bin/sh -c`) is an init or
// systemd, as Podman decides; false never.
const systemdMode = (mode: string | undefined, command: string[]): boolean => {
  if (mode === 'always') return true;
  if (mode === 'false') return false;
  if (mode !== undefined && mode !== 'true') throw usage(`invalid --systemd "${mode}": use true, false or always`);
  const cmd = command.length > 2 && command[0] === '/bin/sh' && command[1] === '-c' ? command.slice(2) : command;
  return cmd.length > 0 && (SYSTEMD_INITS.includes(cmd[0]!) || cmd[0]!.split('/').pop() === 'systemd');
};

// What needs a pod: refused in one line (skiff has none yet).
const refusePods = (options: CreateOptions): void => {
  for (const [flag, given] of [
    ['--pod', options.pod],
    ['--pod-id-file', options.podIdFile],
    ['--init-ctr', options.initCtr],
  ] as const)
    if (given !== undefined) throw usage(`${flag}: pods are not supported by skiff yet: run the container without it`);
};

// --device-cgroup-rule 'c|b|a MAJOR|*:MINOR|* [rwm]': checked, then left out with one warning, as
// Podman leaves it out of a rootless container (device access is the host's file permissions).
const checkDeviceCgroupRules = (rules: string[]): void => {
  for (const rule of rules)
    if (!/^[abc] (\d+|\*):(\d+|\*) [rwm]{1,3}$/.test(rule.trim()))
      throw usage(`invalid --device-cgroup-rule "${rule}": use 'TYPE MAJOR:MINOR ACCESS', e.g. 'c 1:3 rwm' (TYPE a, b or c; * for any number)`);
  if (rules.length)
    log.warn(
      "--device-cgroup-rule has no effect on a rootless container (it has no device cgroup; access is the host files' permissions): ignored, as Podman does",
    );
};

const DEFAULT_LOG_SIZE_MAX = 10 * 1000 * 1000;

// "10mb", "512k", "2g", "1000" (bytes), "-1" (no rotation) → bytes, or -1.
export const parseSize = (value: string, what: string): number => {
  if (value === '-1') return -1;
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(value.trim());
  if (!match) throw new CliError('EUSAGE', `invalid ${what} "${value}": use a size such as 512k, 10mb or 1g`);
  const unit = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[match[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(match[1]) * unit);
};

// --log-driver and --log-opt: k8s-file (the default: a file the monitor writes, rotated past
// max-size; path= puts it elsewhere) or none; tag= is kept for inspect.
const parseLogOpts = (driver: string | undefined, opts: string[]): { logSizeMax: number; logDriver?: 'none'; logPath?: string; logTag?: string } => {
  if (driver !== undefined && driver !== 'k8s-file' && driver !== 'none')
    throw new CliError('EUSAGE', `--log-driver ${driver} is not supported: use k8s-file (the default) or none`);
  let logSizeMax = DEFAULT_LOG_SIZE_MAX;
  let logPath: string | undefined;
  let logTag: string | undefined;
  for (const opt of opts) {
    const [key, value] = [opt.slice(0, opt.indexOf('=')), opt.slice(opt.indexOf('=') + 1)];
    if (key === 'max-size' && opt.includes('=')) logSizeMax = parseSize(value, '--log-opt max-size');
    else if (key === 'path' && value.startsWith('/')) logPath = value;
    else if (key === 'tag' && opt.includes('=')) logTag = value;
    else throw new CliError('EUSAGE', `invalid --log-opt "${opt}": supported are max-size=SIZE, path=/ABSOLUTE/FILE and tag=TAG`);
  }
  if (driver === 'none') return { logSizeMax: -1, logDriver: 'none', ...(logTag ? { logTag } : {}) };
  return { logSizeMax, ...(logPath ? { logPath } : {}), ...(logTag ? { logTag } : {}) };
};

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const parseRestartPolicy = (spec: string | undefined): RestartPolicy => {
  if (!spec || spec === 'no') return { name: 'no', maxRetries: 0 };
  const [name, retries] = spec.split(':', 2);
  if (name === 'on-failure') {
    const max = retries === undefined ? 0 : Number(retries);
    if (!Number.isInteger(max) || max < 0) throw new CliError('EUSAGE', `invalid restart policy "${spec}": the retry count must be a whole number`);
    return { name, maxRetries: max };
  }
  if ((name === 'always' || name === 'unless-stopped') && retries === undefined) return { name, maxRetries: 0 };
  throw new CliError('EUSAGE', `invalid restart policy "${spec}": use no, on-failure[:N], always or unless-stopped`);
};

// --entrypoint takes a JSON array ('["sh","-c"]') or one program name; "" clears it.
const parseEntrypoint = (spec: string): string[] => {
  if (spec === '') return [];
  if (spec.startsWith('[')) {
    try {
      const parsed = JSON.parse(spec) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      // not JSON: one program name
    }
  }
  return [spec];
};

// KEY=VALUE lines of an env file; a bare KEY takes the value from skiff's own environment.
export const readEnvFile = (path: string): string[] => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError('EUSAGE', `cannot read env file ${path}: ${(error as Error).message}`);
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
};

// One -e/--env or env-file entry: KEY=VALUE as it is; KEY (or PREFIX*) from skiff's own
// environment. A KEY must be there, without blanks (`=x`, ` A=x` are refused, as Podman does).
export const expandEnv = (entry: string): string[] => {
  const eq = entry.indexOf('=');
  if (eq >= 0) {
    const key = entry.slice(0, eq);
    if (key === '') throw new CliError('EUSAGE', `invalid environment variable ${JSON.stringify(entry)}: the name before "=" is empty`);
    if (/[\s\0]/.test(key)) throw new CliError('EUSAGE', `invalid environment variable ${JSON.stringify(entry)}: the name contains a blank`);
    return [entry];
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(entry)) throw new CliError('EUSAGE', `invalid environment variable ${JSON.stringify(entry)}: use KEY=VALUE or KEY`);
  if (entry.endsWith('*')) {
    const prefix = entry.slice(0, -1);
    return Object.entries(process.env)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => `${k}=${v}`);
  }
  const value = process.env[entry];
  return value === undefined ? [] : [`${entry}=${value}`];
};

// Later entries win, in the order of their first appearance.
export const mergeEnv = (...lists: string[][]): string[] => {
  const map = new Map<string, string>();
  for (const list of lists)
    for (const entry of list) {
      const eq = entry.indexOf('=');
      map.set(eq < 0 ? entry : entry.slice(0, eq), entry);
    }
  return [...map.values()];
};

const parseLabels = (labels: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const label of labels) {
    const eq = label.indexOf('=');
    out[eq < 0 ? label : label.slice(0, eq)] = eq < 0 ? '' : label.slice(eq + 1);
  }
  return out;
};

const parseSecurityOpts = (opts: string[]): { noNewPrivileges: boolean; seccomp: string } => {
  let noNewPrivileges = false;
  let seccomp = 'default';
  for (const opt of opts) {
    const [key, value] = opt.includes('=') ? [opt.slice(0, opt.indexOf('=')), opt.slice(opt.indexOf('=') + 1)] : [opt, undefined];
    if (key === 'no-new-privileges') noNewPrivileges = value === undefined || value === 'true';
    else if (key === 'seccomp' && value === 'unconfined') seccomp = 'unconfined';
    else if (key === 'seccomp' && value) {
      try {
        seccomp = readFileSync(value, 'utf8');
      } catch (error) {
        throw new CliError('EUSAGE', `--security-opt seccomp=${value}: ${(error as Error).message}`);
      }
    } else if (key === 'label' || key === 'apparmor')
      continue; // no SELinux or AppArmor profiles for rootless containers
    else throw new CliError('EUSAGE', `invalid --security-opt "${opt}": use no-new-privileges, seccomp=unconfined or seccomp=PROFILE.json`);
  }
  return { noNewPrivileges, seccomp };
};

// Network modes: pasta or slirp4netns (the default: `network.backend`, or pasta where installed,
// else slirp4netns), none (loopback only), host.
export const USERSPACE_NETWORKS = ['pasta', 'slirp4netns'];

const checkNetwork = (network: string, publishing: boolean, named: boolean): void => {
  if (named) return;
  if (network.startsWith('ns:')) {
    if (publishing) throw new CliError('EUSAGE', `ports cannot be published with --network ${network}: the namespace is not skiff's to forward into`);
    if (!existsSync(network.slice(3))) throw new CliError('EUSAGE', `--network ${network}: no such network namespace file`);
    return;
  }
  if (network.startsWith('container:') && network.length > 'container:'.length) {
    if (publishing) throw new CliError('EUSAGE', 'ports cannot be published with --network container:…: publish them on that container');
    return;
  }
  if (![...USERSPACE_NETWORKS, 'none', 'host'].includes(network))
    throw new CliError(
      'EUSAGE',
      `unknown network "${network}": use pasta[:OPTIONS], slirp4netns[:OPTIONS], bridge, private, none, host, container:NAME, ns:PATH, or create it with \`skiff network create ${network}\``,
    );
  if (publishing && !USERSPACE_NETWORKS.includes(network))
    throw new CliError('EUSAGE', `ports cannot be published with --network ${network}: publish them with --network pasta or slirp4netns`);
};

const checkHost = (entry: string): string => {
  const colon = entry.indexOf(':');
  if (colon < 1 || !/^[0-9a-fA-F.:]+$/.test(entry.slice(colon + 1))) throw new CliError('EUSAGE', `invalid --add-host "${entry}": use NAME:IP`);
  return entry;
};

const usage = (message: string): CliError => new CliError('EUSAGE', message);

// The kernel parameters a container may set: those of its own IPC and network namespaces (Docker's list).
const NAMESPACED_SYSCTLS = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
];

const parseSysctls = (entries: string[], network: string, ipc: string | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const [key, value] = [entry.slice(0, eq).trim(), entry.slice(eq + 1)];
    if (eq < 1) throw usage(`invalid --sysctl "${entry}": use NAME=VALUE`);
    const ipcKey = NAMESPACED_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.');
    if (ipcKey && ipc === 'host') throw usage(`--sysctl ${key} sets the IPC namespace, which --ipc host shares with the host`);
    if (key.startsWith('net.') && network === 'host') throw usage(`--sysctl ${key} sets the network namespace, which --network host shares with the host`);
    if (!ipcKey && !key.startsWith('net.'))
      throw usage(`--sysctl ${key} is not a namespaced kernel parameter: a container may set kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and net.*`);
    out[key] = value;
  }
  return out;
};

// --ipc/--pid/--uts: private (the default), host, container:NAME or ns:PATH.
const checkNamespaceMode = (flag: string, mode: string | undefined): string | undefined => {
  if (mode === undefined || mode === 'private' || mode === '') return undefined;
  if (mode === 'host' || (mode.startsWith('container:') && mode.length > 10) || (mode.startsWith('ns:/') && mode.length > 4)) return mode;
  throw usage(`invalid --${flag} "${mode}": use private, host, container:NAME or ns:PATH`);
};

// --platform/--arch/--os/--variant: the host's is what runs here (no emulation).
const checkPlatform = (options: CreateOptions): void => {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' }[process.arch as string] ?? process.arch;
  const [os, wantedArch] = options.platform ? options.platform.split('/') : [options.os, options.arch];
  if ((os && os !== 'linux') || (wantedArch && wantedArch !== arch))
    throw usage(
      `cannot run ${options.platform ?? `${os ?? 'linux'}/${wantedArch ?? arch}`} containers on this ${arch} host: skiff does not emulate other platforms`,
    );
};

// The container's environment: skiff's defaults and the image's (less --unsetenv, or none with
// --unsetenv-all), the host's proxy variables (unless --http-proxy=false), the host's whole
// environment (--env-host), --env-file, -e; then --env-merge's values, with ${VAR} the value so far.
const containerEnv = (options: CreateOptions, img: NonNullable<ImageConfig['config']>, hostname: string): string[] => {
  const drop = new Set(options.unsetenv ?? []);
  const keep = (list: string[]) => (options.unsetenvAll ? [] : list.filter((e) => !drop.has(e.slice(0, e.indexOf('=') < 0 ? undefined : e.indexOf('=')))));
  const PROXY = ['http_proxy', 'https_proxy', 'ftp_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY'];
  const proxies = options.httpProxy === false ? [] : PROXY.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  const host = options.envHost ? Object.entries(process.env).map(([k, v]) => `${k}=${v}`) : [];
  const envFiles = (options.envFile ?? []).flatMap(readEnvFile).flatMap(expandEnv);
  const env = mergeEnv(
    keep([DEFAULT_PATH]),
    keep(options.defaultEnv ?? []),
    keep(img.Env ?? []),
    keep(['TERM=xterm']), // in every container, as Podman's
    keep([`HOSTNAME=${hostname}`, 'container=skiff']),
    proxies,
    host,
    envFiles,
    (options.env ?? []).flatMap(expandEnv),
  );
  const merged = (options.envMerge ?? []).map((entry) => {
    const eq = entry.indexOf('=');
    if (eq < 1) throw usage(`invalid --env-merge "${entry}": use NAME=VALUE with \${NAME} for the value it has`);
    const current = new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    return `${entry.slice(0, eq)}=${entry.slice(eq + 1).replace(/\$\{(\w+)\}/g, (_, name: string) => current.get(name) ?? '')}`;
  });
  return mergeEnv(env, merged);
};

// --label-file: KEY=VALUE lines (# comments, blank lines skipped).
const readLabelFiles = (files: string[]): string[] =>
  files.flatMap((file) => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
    } catch (error) {
      throw usage(`cannot read --label-file ${file}: ${(error as Error).message}`);
    }
  });

// Builds the config; `network` is the mode to use when the flags name none, `ports` the published
// ports already checked and resolved (see network/ports.ts).
export const buildContainerConfig = (
  options: CreateOptions,
  image: ImageConfig,
  id: string,
  defaults: { network: string; ports: PortMapping[]; named?: (name: string) => boolean; inherited?: MountSpec[] } = { network: 'none', ports: [] },
): ContainerConfig => {
  const img = image.config ?? {};
  const entrypoint = options.entrypoint !== undefined ? parseEntrypoint(options.entrypoint) : (img.Entrypoint ?? []);
  const cmd = options.command.length ? options.command : options.entrypoint !== undefined ? [] : (img.Cmd ?? []);
  if (entrypoint.length + cmd.length === 0)
    throw new CliError('EUSAGE', 'no command specified: the image has no Cmd or Entrypoint, so give a command after the image name');
  refusePods(options);
  const systemd = systemdMode(options.systemd, [...entrypoint, ...cmd]);
  const attach = (options.attach ?? []).map((stream) => {
    const lower = stream.toLowerCase();
    if (lower !== 'stdin' && lower !== 'stdout' && lower !== 'stderr') throw usage(`invalid stream "${stream}" for --attach: use stdin, stdout or stderr`);
    return lower as 'stdin' | 'stdout' | 'stderr';
  });
  if (options.preserveFds !== undefined) wholeFds(options.preserveFds);
  checkDeviceCgroupRules(options.deviceCgroupRule ?? []);
  for (const name of options.hostuser ?? []) if (!hostAccount(name)) throw usage(`--hostuser ${name}: no such user in this host's /etc/passwd`);
  for (const dir of options.chrootdirs ?? []) if (!dir.startsWith('/')) throw usage(`invalid --chrootdirs "${dir}": use an absolute path in the container`);
  const restartPolicy = parseRestartPolicy(options.restart);
  if (options.rm && restartPolicy.name !== 'no') throw new CliError('EUSAGE', 'the --rm option conflicts with --restart: use one of them');
  const workdir = options.workdir ?? (img.WorkingDir || '/');
  if (!workdir.startsWith('/')) throw new CliError('EUSAGE', `invalid working directory "${workdir}": it must be an absolute path`);
  const { network, networkOptions } = parseNetworkSpec(options.network ?? defaults.network, defaults.network);
  const named = defaults.named?.(network) ?? false;
  if (options.moreNetworks?.length) {
    const notNamed = !named ? network : options.moreNetworks.find((n) => !defaults.named?.(n));
    if (notNamed)
      throw new CliError(
        'EUSAGE',
        `several --network flags take named networks only: "${notNamed}" is not one (create it with \`skiff network create ${notNamed}\`)`,
      );
  }
  checkNetwork(network, defaults.ports.length > 0, named);
  // A named network's ports (the default network's too) are the monitor's, on IPv4 host addresses:
  // an IPv6 one was accepted, shown, and listened on by nothing.
  const v6 = named ? defaults.ports.find((p) => p.hostIp.includes(':')) : undefined;
  if (v6)
    throw usage(
      `-p [${v6.hostIp}]:${v6.hostPort}:${v6.containerPort}: ports of a container on a named network (the default network too) are published on IPv4 host addresses only: use one, or --network pasta`,
    );
  if (options.networkAliases?.length && !named) throw new CliError('EUSAGE', '--network-alias needs a named network (--network NAME)');
  for (const [flag, given] of [
    ['--ip', options.ip],
    ['--mac-address', options.macAddress],
  ] as const)
    if (given !== undefined && !named) throw usage(`${flag} needs a named network (--network NAME): the other modes choose the address themselves`);
  if (options.ip6 !== undefined) throw usage("--ip6 is not supported: skiff's named networks are IPv4");
  const hostname = options.hostname ?? id.slice(0, 12);
  const env = containerEnv(options, img, hostname);
  const mounts = containerMounts(
    options.volume ?? [],
    options.mount ?? [],
    options.tmpfs ?? [],
    Object.keys(img.Volumes ?? {}),
    options.imageVolume ?? 'bind',
    defaults.inherited ?? [],
  );
  const maps = idMapFlags(options);
  const userns = parseUserns(options.userns, maps.uidmap, maps.gidmap);
  if (options.rootfs && userns.mode !== 'host')
    throw usage('--rootfs runs the directory with your own ids: it cannot be used with --userns, --uidmap or --subuidname');
  const resources = parseLimits(options);
  const ulimits = (options.ulimit ?? []).map(parseUlimit);
  if (ulimits.length) checkUlimits(ulimits, readFileSync('/proc/self/limits', 'utf8'));
  const oomScoreAdj = options.oomScoreAdj === undefined ? undefined : Number(options.oomScoreAdj);
  if (oomScoreAdj !== undefined && !(Number.isInteger(oomScoreAdj) && oomScoreAdj >= -1000 && oomScoreAdj <= 1000))
    throw new CliError('EUSAGE', `invalid --oom-score-adj "${options.oomScoreAdj}": use a whole number from -1000 to 1000`);
  if (options.cgroupns !== undefined && options.cgroupns !== 'host' && options.cgroupns !== 'private')
    throw new CliError('EUSAGE', `invalid --cgroupns "${options.cgroupns}": use private or host`);
  if (options.cgroups !== undefined && !['enabled', 'disabled', 'no-conmon', 'split'].includes(options.cgroups))
    throw new CliError('EUSAGE', `invalid --cgroups "${options.cgroups}": use enabled, disabled, no-conmon or split`);
  const healthcheck = healthcheckConfig(options, img);
  const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 0))
    throw usage(`invalid --timeout "${options.timeout}": use a whole number of seconds`);
  const requires = (options.requires ?? []).flatMap((r) => r.split(',')).filter(Boolean);
  checkPlatform(options);
  if (options.seccompPolicy !== undefined && options.seccompPolicy !== 'default')
    throw usage(`--seccomp-policy ${options.seccompPolicy} is not supported: skiff applies its default profile (or --security-opt seccomp=FILE)`);
  const shared = {
    ipc: checkNamespaceMode('ipc', options.ipc),
    pid: checkNamespaceMode('pid', options.pid),
    uts: checkNamespaceMode('uts', options.uts),
  };
  if (shared.uts && options.hostname) throw usage(`--hostname cannot be set with --uts ${shared.uts}: the container shares that hostname`);
  const umask = options.umask === undefined ? undefined : /^[0-7]{1,4}$/.test(options.umask) ? Number.parseInt(options.umask, 8) : Number.NaN;
  if (Number.isNaN(umask)) throw usage(`invalid --umask "${options.umask}": use an octal mask such as 0022`);
  let shmSize: number | undefined;
  try {
    shmSize = options.shmSize === undefined ? undefined : parseRamSize(options.shmSize);
  } catch {
    throw usage(`invalid --shm-size "${options.shmSize}": use a size such as 64m or 1g`);
  }
  if (shmSize !== undefined && shmSize <= 0) throw usage(`invalid --shm-size "${options.shmSize}": use a size above 0 such as 64m`);
  if (options.personality !== undefined && options.personality !== 'LINUX' && options.personality !== 'LINUX32')
    throw usage(`invalid --personality "${options.personality}": use LINUX or LINUX32`);
  if (options.tz !== undefined && options.tz !== 'local' && !/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(options.tz))
    throw usage(`invalid --tz "${options.tz}": use a zone such as Europe/Paris, or local`);
  if (options.initPath !== undefined && !options.init) throw usage('--init-path needs --init');
  if (options.initPath !== undefined && !existsSync(options.initPath)) throw usage(`--init-path ${options.initPath}: no such file`);
  if (options.tz !== undefined && !existsSync(options.tz === 'local' ? '/etc/localtime' : `/usr/share/zoneinfo/${options.tz}`))
    throw usage(
      `unknown time zone "${options.tz}": this host has no ${options.tz === 'local' ? '/etc/localtime' : `/usr/share/zoneinfo/${options.tz}`} (apt-get install tzdata)`,
    );
  for (const port of options.expose ?? [])
    if (!/^\d+(-\d+)?(\/(tcp|udp))?$/.test(port)) throw usage(`invalid --expose "${port}": use PORT[/tcp|udp] or a range such as 8000-8010`);
  const annotations = parseLabels(options.annotation ?? []);
  if (options.sdnotify !== undefined && !['conmon', 'container', 'ignore'].includes(options.sdnotify))
    throw new CliError('EUSAGE', `invalid --sdnotify "${options.sdnotify}": use container, conmon or ignore`);
  const stopTimeout = options.stopTimeout ?? 10;
  if (!Number.isInteger(stopTimeout) || stopTimeout < 0)
    throw new CliError('EUSAGE', `invalid --stop-timeout "${options.stopTimeout}": use a whole number of seconds`);
  return {
    entrypoint,
    cmd,
    env,
    workdir,
    user: options.user ?? img.User ?? '',
    hostname,
    labels: { ...(img.Labels ?? {}), ...parseLabels(readLabelFiles(options.labelFile ?? [])), ...parseLabels(options.labels ?? []) },
    tty: Boolean(options.tty),
    interactive: Boolean(options.interactive),
    autoRemove: Boolean(options.rm || options.rmi),
    restartPolicy,
    stopSignal: options.stopSignal ?? (systemd ? 'SIGRTMIN+3' : (img.StopSignal ?? 'SIGTERM')),
    stopTimeout,
    capAdd: options.capAdd ?? [],
    capDrop: options.capDrop ?? [],
    ...(options.defaultCapabilities ? { defaultCapabilities: options.defaultCapabilities } : {}),
    ...(options.baseHostsFile ? { baseHostsFile: options.baseHostsFile } : {}),
    privileged: Boolean(options.privileged),
    readOnly: Boolean(options.readOnly),
    ...(options.readOnlyTmpfs === false ? { readOnlyTmpfs: false } : {}),
    ...(options.device?.length ? { devices: options.device.map(parseDevice) } : {}),
    ...parseSecurityOpts(options.securityOpt ?? []),
    tmpfs: mounts.tmpfs,
    ...(mounts.mounts.length ? { mounts: mounts.mounts } : {}),
    ...(Object.keys(resources).length ? { resources } : {}),
    ...(ulimits.length ? { ulimits } : {}),
    ...(oomScoreAdj !== undefined ? { oomScoreAdj } : {}),
    ...(options.cgroupParent ? { cgroupParent: options.cgroupParent } : {}),
    ...(options.cgroupns === 'host' ? { cgroupns: 'host' as const } : {}),
    ...(options.cgroups === 'disabled' ? { cgroups: 'disabled' as const } : {}),
    ...(userns.mode !== 'host' ? { userns: userns.mode === 'map' ? 'private' : options.userns! } : {}),
    init: Boolean(options.init),
    network,
    ...(networkOptions ? { networkOptions } : {}),
    ports: defaults.ports,
    dns: options.dns ?? [],
    dnsSearch: options.dnsSearch ?? [],
    dnsOptions: options.dnsOptions ?? [],
    addHosts: (options.addHosts ?? []).map(checkHost),
    ...(named ? { namedNetwork: true, aliases: options.networkAliases ?? [] } : {}),
    ...parseLogOpts(options.logDriver, options.logOpts ?? []),
    ...(healthcheck ? { healthcheck } : {}),
    ...(options.sdnotify ? { sdnotify: options.sdnotify as 'conmon' | 'container' | 'ignore' } : {}),
    ...(options.tz !== undefined ? { tz: options.tz } : {}),
    ...(options.macAddress ? { macAddress: checkMac(options.macAddress) } : {}),
    ...(timeout ? { timeout } : {}),
    ...(options.rmi ? { rmi: true } : {}),
    ...(requires.length ? { requires } : {}),
    ...(options.initPath ? { initPath: resolve(options.initPath) } : {}),
    ...(umask !== undefined ? { umask } : {}),
    ...(shmSize !== undefined ? { shmSize } : {}),
    ...(options.sysctl?.length ? { sysctls: parseSysctls(options.sysctl, network, shared.ipc) } : {}),
    ...(options.groupAdd?.length ? { groupAdd: options.groupAdd } : {}),
    ...(options.hosts === false ? { noHosts: true } : {}),
    ...(options.expose?.length ? { expose: options.expose } : {}),
    ...(options.publishAll ? { publishAll: true } : {}),
    ...(options.cidfile ? { cidfile: options.cidfile } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(options.personality ? { personality: options.personality as 'LINUX' | 'LINUX32' } : {}),
    ...(options.pidfile ? { pidfile: resolve(options.pidfile) } : {}),
    ...(options.conmonPidfile ? { conmonPidfile: resolve(options.conmonPidfile) } : {}),
    ...(attach.length ? { attach } : {}),
    ...(systemd ? { systemd } : {}),
    ...(options.passwd === false ? { noPasswd: true } : {}),
    ...(options.passwdEntry !== undefined ? { passwdEntry: options.passwdEntry } : {}),
    ...(options.hostuser?.length ? { hostUsers: options.hostuser } : {}),
    ...(options.chrootdirs?.length ? { chrootDirs: options.chrootdirs } : {}),
    ...(shared.ipc || shared.pid || shared.uts ? { sharedNamespaces: Object.fromEntries(Object.entries(shared).filter(([, v]) => v)) } : {}),
    ...(options.secret?.length || options.fileSecrets?.length ? { secrets: parseSecretFlags(options.secret ?? [], options.fileSecrets) } : {}),
  };
};
