// The container store: containers/<id>/container.json (what the user asked for; changes only on
// rename) and state.json (what happened: started, exited, ...), plus names/<name> symlinks that
// reserve names atomically. Readers take no lock; every change holds the container's own lock.
// The truth about a running container is the monitor's: its exit file, or its death, wins over a
// state.json that still says "running" (see effectiveState).
// Longer than 400 lines on purpose: the records' types (~110 lines) and the one class that reads and
// writes every file of the store, whose name links, temp files and state must change together.
import type { IdMappings } from '../util/idmap.js';
import type { ResourceLimits, Ulimit } from '../cgroups/limits.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import type { PortMapping } from '../network/ports.js';
import { startTimeOf } from '../util/proc.js';
import { listDir, readJsonIfExists, sweepStaleTemps, tempSibling, writeJsonAtomic } from '../util/fs.js';
import { acquireLock, withLock, type Lock } from '../util/lock.js';
import { native } from '../util/native.js';
import { checkName, isValidName } from '../util/names.js';
import { transition, type Transition } from './transitions.js';
import { isAlive, isLockHeld, isUnstarted, readPidFile, sleepSync, startedAfter } from './liveness.js';

/** `initialized` (Podman's): made in the runtime by `init`, its monitor running, its process not started yet. */
export type ContainerStatus = 'created' | 'initialized' | 'running' | 'stopping' | 'exited';

export interface RestartPolicy {
  name: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  maxRetries: number;
}

export interface ContainerConfig {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workdir: string;
  user: string;
  hostname: string;
  labels: Record<string, string>;
  tty: boolean;
  interactive: boolean;
  autoRemove: boolean;
  restartPolicy: RestartPolicy;
  stopSignal: string;
  stopTimeout: number;
  capAdd: string[];
  capDrop: string[];
  /** containers.conf default_capabilities: the set before --cap-add/--cap-drop (else Podman's). */
  defaultCapabilities?: string[];
  privileged: boolean;
  readOnly: boolean;
  noNewPrivileges: boolean;
  seccomp: string;
  tmpfs: string[];
  init: boolean;
  network: string;
  /** The log rotates when it grows past this many bytes; -1: never. */
  logSizeMax?: number;
  /** --log-driver none: no log is kept. */
  logDriver?: 'none';
  /** --log-opt path=: the log file, instead of the container's userdata/ctr.log. */
  logPath?: string;
  /** --log-opt tag= (recorded). */
  logTag?: string;
  ports?: PortMapping[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  addHosts?: string[];
  /** containers.conf base_hosts_file: its entries start /etc/hosts. */
  baseHostsFile?: string;
  /** `network` names a network made with `network create`: the container's address and aliases there. */
  namedNetwork?: boolean;
  networkIp?: string;
  /** --mac-address on its named network. */
  macAddress?: string;
  aliases?: string[];
  /** More named networks, joined with `network connect`. */
  extraNetworks?: NetworkAttachment[];
  /** Bind mounts and volumes (-v, --mount, --volumes-from), in the order given. */
  mounts?: MountSpec[];
  /** --read-only-tmpfs=false: a --read-only container gets no tmpfs on /run, /tmp and /var/tmp. */
  readOnlyTmpfs?: boolean;
  /** Host devices bind-mounted in (--device). */
  devices?: { source: string; destination: string; readOnly: boolean }[];
  /** --userns as given (keep-id, nomap, auto, private with --uidmap); absent: skiff's own namespace. */
  userns?: string;
  /** The container's own user namespace: its ids as skiff's namespace sees them. */
  idMappings?: IdMappings;
  /** Cgroup limits (--memory, --cpus, ...), enforced by the cgroup manager chosen at create. */
  resources?: ResourceLimits;
  ulimits?: Ulimit[];
  oomScoreAdj?: number;
  cgroupParent?: string;
  /** --cgroupns=host: no cgroup namespace of its own. */
  cgroupns?: 'host';
  /** --cgroups=disabled: no cgroup of its own. */
  cgroups?: 'disabled';
  /** --health-* or the image's HEALTHCHECK: run by the monitor every interval (container-health.ts). */
  healthcheck?: HealthcheckConfig;
  /** --sdnotify: how a systemd unit (Type=notify) hears the container is ready; absent: container. */
  sdnotify?: 'conmon' | 'container' | 'ignore';
  /** --timeout: seconds it may run before its monitor kills it. */
  timeout?: number;
  /** --rmi: its image is removed with it (when no other container uses it). */
  rmi?: boolean;
  /** --requires: containers started before it. */
  requires?: string[];
  /** --init-path: the init --init runs (absent: catatonit or tini from PATH). */
  initPath?: string;
  /** --tz: an IANA zone (or "local": the host's); /etc/localtime is the host's zoneinfo file for it. */
  tz?: string;
  /** --umask, as a number. */
  umask?: number;
  /** --shm-size, bytes. */
  shmSize?: number;
  /** --sysctl: namespaced kernel parameters. */
  sysctls?: Record<string, string>;
  /** --group-add: gids or group names (resolved in the container's /etc/group), or keep-groups. */
  groupAdd?: string[];
  /** --no-hosts: no /etc/hosts of skiff's. */
  noHosts?: boolean;
  /** --expose: ports the container offers ("80/tcp"), published by -P with the image's. */
  expose?: string[];
  /** -P: every exposed port published (inspect's PublishAllPorts). */
  publishAll?: boolean;
  /** --cidfile, as given (inspect's ContainerIDFile). */
  cidfile?: string;
  /** --annotation: the runtime spec's annotations. */
  annotations?: Record<string, string>;
  /** --personality: the execution domain (LINUX32 on a 64-bit host). */
  personality?: 'LINUX' | 'LINUX32';
  /** --pidfile, --conmon-pidfile: host files that get the container's and its monitor's pid at each start. */
  pidfile?: string;
  conmonPidfile?: string;
  /** --ipc, --pid, --uts: host, or container:ID (another container's), or ns:PATH; absent: its own. */
  sharedNamespaces?: { ipc?: string; pid?: string; uts?: string };
  /** --volumes-from: the ids of the containers whose mounts this one took (rm --depend). */
  volumesFrom?: string[];
  /** --secret: secrets copied in at create (mount) or set in the environment at each start (env). */
  secrets?: ContainerSecret[];
  /** -a/--attach: the streams `run` and `start -a` attach (absent: all). */
  attach?: ('stdin' | 'stdout' | 'stderr')[];
  /** --rootfs: the host directory (absolute) that is the root instead of an image's layers; overlay: `:O`. */
  rootfs?: { path: string; overlay: boolean };
  /** --systemd (true, the default: when the command is an init; always): init's tmpfs, cgroup, stop signal. */
  systemd?: boolean;
  /** --passwd=false: no /etc/passwd or /etc/group entry is added for --user. */
  noPasswd?: boolean;
  /** --passwd-entry: the template of the entry added ($USERNAME $UID $GID $NAME $HOME). */
  passwdEntry?: string;
  /** --hostuser: host accounts whose /etc/passwd entries are added. */
  hostUsers?: string[];
  /** --chrootdirs: directories inside where /etc/hosts and /etc/resolv.conf are mounted too. */
  chrootDirs?: string[];
  /** The userspace network's options (slirp4netns:OPTS, pasta:OPTS) or its namespace file (ns:PATH). */
  networkOptions?: string[];
}

export interface ContainerSecret {
  /** The secret's name and id when the container was made (env secrets are looked up by name). */
  name: string;
  id: string;
  type: 'mount' | 'env';
  /** mount: the absolute path in the container; env: the variable's name. */
  target: string;
  /** mount: the file's owner (ids inside the container) and mode. */
  uid: number;
  gid: number;
  mode: number;
}

export interface HealthcheckConfig {
  /** ["CMD", ...argv] or ["CMD-SHELL", text]. */
  test: string[];
  /** Between checks; 0: only `healthcheck run` checks. */
  intervalMs: number;
  timeoutMs: number;
  /** Failures before this much time has passed since the start do not count. */
  startPeriodMs: number;
  /** Consecutive failures that make the container unhealthy. */
  retries: number;
  onFailure: 'none' | 'kill' | 'restart' | 'stop';
}

export interface MountSpec {
  type: 'bind' | 'volume';
  /** The host path (bind) or the volume's name. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** Mount options besides ro/rw: propagation (rprivate, rshared, ...), nosuid, nodev, noexec. */
  options: string[];
  /** A volume made for this container alone (`-v /path`, an image's VOLUME): `rm -v` and `--rm` remove it. */
  anonymous?: boolean;
  /** Do not copy the image's content at the destination into an empty volume. */
  nocopy?: boolean;
  /** `:U`: the content is chowned to the container's user before each start. */
  chown?: boolean;
  /** A bind source's "device:inode" when the container was made: cp and :U use only that file. */
  sourceId?: string;
  /** `:O`: the source is the lower layer of an overlay whose writes go with the container's run. */
  overlay?: boolean;
}

export interface NetworkAttachment {
  network: string;
  ip: string;
  aliases: string[];
  device: string;
  /** --mac-address: the interface's address (absent: the kernel's random one). */
  mac?: string;
}

// Every named network a container is on: its primary one (--network NAME) first, as eth0.
export const memberships = (c: ContainerConfig): NetworkAttachment[] => [
  ...(c.namedNetwork && c.networkIp
    ? [{ network: c.network, ip: c.networkIp, aliases: c.aliases ?? [], device: 'eth0', ...(c.macAddress ? { mac: c.macAddress } : {}) }]
    : []),
  ...(c.extraNetworks ?? []),
];

// The containers (by name) that mount each volume, running or not.
export const volumeUsers = (records: ContainerRecord[]): Map<string, string[]> => {
  const users = new Map<string, string[]>();
  for (const c of records) for (const m of c.config.mounts ?? []) if (m.type === 'volume') users.set(m.source, [...(users.get(m.source) ?? []), c.name]);
  return users;
};

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  /** The image as the user named it, its id, and its full name when it had one. */
  image: string;
  imageId: string;
  imageName: string;
  /** Chain ids of the image's layers, lowest first (they stay while the container exists). */
  layers: string[];
  rootfsDriver: string;
  runtime: string;
  /** Who made its cgroup (absent: none, as before cgroup managers). */
  cgroupManager?: CgroupManager;
  config: ContainerConfig;
  /** container.json was unreadable (see salvage): listed and removable, never started. */
  damaged?: boolean;
  /** The command line that made it (`skiff run ...`: Podman's CreateCommand), for `generate systemd --new`. */
  createCommand?: string[];
  /** The systemd unit that made it (SKIFF_SYSTEMD_UNIT, set by generated units): auto-update restarts that unit. */
  systemdUnit?: string;
}

export interface ContainerState {
  status: ContainerStatus;
  pid?: number;
  /** The container process's start time (/proc), which tells it from a later process with its pid. */
  pidStartTime?: string;
  monitorPid?: number;
  monitorStartTime?: string;
  /** A start under way: its monitor (monitorPid) is launched and the starter has not yet recorded
   * how it went. If the starter was killed, the monitor's files say (see effectiveState). */
  launching?: boolean;
  /** Running, but its monitor has died: no log, no exit code; stop and rm still work. */
  monitorLost?: boolean;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  restartCount: number;
  /** Set by stop/kill: the restart policy does not bring the container back. */
  stoppedByUser?: boolean;
  error?: string;
  /** Running with its cgroup frozen (pause): read from the cgroup when reported, never stored. */
  paused?: boolean;
}

export interface ExitRecord {
  exitCode: number;
  signal: number;
  oomKilled: boolean;
  finishedAt: string;
}

const ID_RE = /^[a-f0-9]{64}$/;

export class ContainerStore {
  readonly dir: string;
  readonly runDir: string;

  // The per-container paths below are concatenated, not joined: ids are checked names and the two
  // roots are normalized here once (path.join was a tenth of a `ps` or `stats` of ten containers).
  constructor(
    dataDir: string,
    /** Volatile per-container files: the monitor's exit file, pid files, counts. */
    runDir: string,
  ) {
    this.dir = join(dataDir, 'containers');
    this.runDir = join(runDir);
  }

  containerDir(id: string): string {
    return `${this.dir}/${id}`;
  }

  runtimeDir(id: string): string {
    return `${this.runDir}/containers/${id}`;
  }

  exitFile(id: string): string {
    return `${this.runDir}/containers/${id}/exit`;
  }

  // Short enough for a unix socket path (108 bytes) whatever the runtime dir is.
  socketPath(id: string): string {
    return join(this.runDir, 'sock', `${id.slice(0, 12)}.attach`);
  }

  // slirp4netns's API socket (published ports are added through it).
  slirpSocketPath(id: string): string {
    return join(this.runDir, 'sock', `${id.slice(0, 12)}.slirp`);
  }

  // A pasta container's network namespace, bind-mounted here while it runs (pasta quits when it goes).
  netnsPath(id: string): string {
    return join(this.runDir, 'netns', id);
  }

  logPath(id: string): string {
    return `${this.dir}/${id}/userdata/ctr.log`;
  }

  lockPath(id: string): string {
    return join(this.dir, '..', 'locks', 'containers', `${id}.lock`);
  }

  lock(id: string): Promise<Lock> {
    return acquireLock(this.lockPath(id), { timeoutMs: 60_000 });
  }

  withContainerLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath(id), fn, { timeoutMs: 60_000 });
  }

  ids(): string[] {
    return listDir(this.dir).filter((n) => ID_RE.test(n));
  }

  get(id: string): ContainerRecord | undefined {
    try {
      return readJsonIfExists<ContainerRecord>(`${this.dir}/${id}/container.json`);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return this.salvage(id);
    }
  }

  // A record a crash left empty or cut short (`run` flushes it to disk only once the container
  // starts): what the store still knows, enough to list the container and remove it.
  private salvage(id: string): ContainerRecord {
    let name = id.slice(0, 12);
    try {
      name = readdirSync(join(this.dir, 'names')).find((n) => this.nameTarget(n) === id) ?? name;
    } catch {
      // no names
    }
    const driver = existsSync(join(this.containerDir(id), 'upper')) ? 'overlay' : 'copy';
    const config = {
      entrypoint: [],
      cmd: [],
      env: [],
      labels: {},
      restartPolicy: { name: 'no', maxRetries: 0 },
      network: 'none',
      autoRemove: false,
      capAdd: [],
      capDrop: [],
      tmpfs: [],
    };
    return {
      id,
      name,
      created: '',
      image: '',
      imageId: '',
      imageName: '',
      layers: [],
      rootfsDriver: driver,
      runtime: '',
      config: config as unknown as ContainerConfig,
      damaged: true,
    };
  }

  list(): ContainerRecord[] {
    return this.ids()
      .map((id) => this.get(id))
      .filter((r): r is ContainerRecord => r !== undefined);
  }

  // Finds a container by full id, name, or unique id prefix (Podman's order).
  find(input: string): ContainerRecord {
    const byId = /^[a-f0-9]{64}$/.test(input) ? this.get(input) : undefined;
    if (byId) return byId;
    const byName = this.nameTarget(input);
    if (byName) {
      const record = this.get(byName);
      if (record) return record;
    }
    if (/^[a-f0-9]+$/.test(input)) {
      const matches = this.ids().filter((id) => id.startsWith(input));
      if (matches.length > 1) throw new CliError('EUSAGE', `more than one container matches id prefix ${input}: use more characters`);
      const record = matches.length === 1 ? this.get(matches[0]) : undefined;
      if (record) return record;
    }
    throw new CliError('ENOCONTAINER', `no such container: ${input}`);
  }

  // (A state.json a crash left unreadable says no more than a missing one.)
  state(id: string): ContainerState {
    try {
      return readJsonIfExists<ContainerState>(`${this.dir}/${id}/state.json`) ?? { status: 'created', restartCount: 0 };
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return { status: 'created', restartCount: 0 };
    }
  }

  // Records a change of the container's state (see transitions.ts), from `from` (what is recorded,
  // unless the caller read the effective state); returns the new state.
  transition(id: string, t: Transition, from: ContainerState = this.state(id)): ContainerState {
    const next = transition(from, t);
    this.writeState(id, next);
    return next;
  }

  writeState(id: string, state: ContainerState): void {
    writeJsonAtomic(join(this.containerDir(id), 'state.json'), state, 0o644, false);
  }

  readExit(id: string): ExitRecord | undefined {
    try {
      return readJsonIfExists<ExitRecord>(this.exitFile(id));
    } catch {
      return undefined;
    }
  }

  // The runtime's pid file for the container's process (the monitor passes it to the runtime).
  pidFile(id: string): string {
    return `${this.runDir}/containers/${id}/pidfile`;
  }

  monitorPidFile(id: string): string {
    return `${this.runDir}/containers/${id}/monitor.pid`;
  }

  // What state.json says, corrected by what runs: an exit file means the container has exited even
  // if cleanup has not run yet; a live container process means it runs, whatever the command that
  // started (or stopped) it had time to record; nothing alive and no exit file means it died with
  // its monitor (or the host). `holder`: the caller holds the container's lock, so a start or stop
  // still recorded as under way is one whose command was killed, and a monitor still creating the
  // container is waited for; other readers take such a record as it is while its command runs.
  effectiveState(id: string, holder = false): ContainerState {
    const state = this.state(id);
    if (state.status === 'initialized') return this.initializedState(id, state);
    const launching = state.launching === true;
    if (state.status !== 'running' && state.status !== 'stopping' && !launching) return state;
    const orphaned = (launching || state.status === 'stopping') && (holder || !isLockHeld(this.lockPath(id)));
    if (launching && !orphaned) return state;
    const monitorAlive = isAlive(state.monitorPid, state.monitorStartTime);
    // A monitor whose starter died goes on by itself: it creates the container or gives up soon.
    if (launching && monitorAlive) this.settle(id, state);
    const exit = this.readExit(id);
    const settled = { ...state, launching: undefined };
    if (exit) return { ...settled, status: 'exited', exitCode: exit.exitCode, finishedAt: exit.finishedAt, oomKilled: exit.oomKilled, pid: 0 };
    // The common case: a running container whose monitor lives (one read of /proc).
    if (isAlive(state.monitorPid, state.monitorStartTime) && !launching) return orphaned ? { ...state, status: 'running' } : state;
    const pid = this.livePid(id, state);
    if (pid) {
      const status = launching && this.unstarted(id) ? 'created' : 'running';
      return { ...settled, status, pid, pidStartTime: startTimeOf(pid), monitorLost: !isAlive(state.monitorPid, state.monitorStartTime) || undefined };
    }
    if (launching && !existsSync(this.pidFile(id))) return { ...settled, pid: 0 };
    return { ...settled, status: 'exited', exitCode: state.exitCode ?? -1, finishedAt: state.finishedAt ?? state.startedAt, pid: 0, monitorLost: undefined };
  }

  // An initialized container (`init`) is so while its created process lives; once that ends (killed:
  // its monitor writes the exit file) it has exited.
  private initializedState(id: string, state: ContainerState): ContainerState {
    const exit = this.readExit(id);
    if (exit) return { ...state, status: 'exited', exitCode: exit.exitCode, finishedAt: exit.finishedAt, oomKilled: exit.oomKilled, pid: 0 };
    if (isAlive(state.monitorPid, state.monitorStartTime)) return state;
    if (this.livePid(id, state)) return { ...state, monitorLost: true };
    return { ...state, status: 'exited', exitCode: state.exitCode ?? -1, pid: 0 };
  }

  // The container's process, if it still runs: the recorded pid (with its start time), else the
  // runtime's pid file's (a starter killed before it recorded the pid).
  livePid(id: string, state: ContainerState): number | undefined {
    if (state.pid && state.pidStartTime) return isAlive(state.pid, state.pidStartTime) ? state.pid : undefined;
    const pid = readPidFile(this.pidFile(id));
    return pid && startedAfter(pid, state.monitorStartTime) ? pid : undefined;
  }

  // A created container that no one will start (its starter was killed between the runtime's
  // create and start). A monitor that starts the container itself (--start) does so within a
  // moment: it is given one second.
  private unstarted(id: string): boolean {
    const roots = ['crun', 'runc'].map((r) => join(this.runDir, 'runtime', r));
    for (const deadline = Date.now() + 1000; isUnstarted(roots, id) && Date.now() < deadline; ) sleepSync(10);
    return isUnstarted(roots, id);
  }

  // Waits (10 s at most) for a live monitor to create the container (its pid file) or give up (it
  // exits; a monitor whose go never comes ends at once: its starter's end closed the go pipe).
  private settle(id: string, state: ContainerState): void {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && isAlive(state.monitorPid, state.monitorStartTime) && !existsSync(this.pidFile(id)) && !existsSync(this.exitFile(id)))
      sleepSync(10);
    // The pid file is written once the process exists; give the runtime a moment to finish it.
    if (existsSync(this.pidFile(id)) && !readPidFile(this.pidFile(id))) sleepSync(20);
  }

  private nameLink(name: string): string {
    return join(this.dir, 'names', name);
  }

  nameTarget(name: string): string | undefined {
    if (!isValidName(name)) return undefined;
    try {
      return readlinkSync(this.nameLink(name));
    } catch {
      return undefined;
    }
  }

  // A name whose container never finished being created (its creator was killed) is free again.
  private isStaleName(id: string): boolean {
    if (existsSync(join(this.containerDir(id), 'container.json'))) return false;
    const lockFile = this.lockPath(id);
    mkdirSync(join(lockFile, '..'), { recursive: true });
    const fd = openSync(lockFile, 'a', 0o600);
    try {
      return native().flock(fd, true, false);
    } finally {
      closeSync(fd);
    }
  }

  // Reserves `name` for `id` (atomically: a symlink); fails with a --replace hint if it is taken.
  reserveName(name: string, id: string): void {
    checkName('container', name);
    mkdirSync(join(this.dir, 'names'), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        symlinkSync(id, this.nameLink(name));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = this.nameTarget(name);
        if (owner && this.isStaleName(owner)) {
          rmSync(this.nameLink(name), { force: true });
          continue;
        }
        throw new CliError(
          'ESTATE',
          `the container name "${name}" is already in use by ${owner?.slice(0, 12) ?? 'another container'}: remove that container, pick another name, or use --replace`,
        );
      }
    }
    throw new CliError('ESTATE', `cannot reserve the container name "${name}"`);
  }

  // Frees the names of containers a killed command never finished creating.
  sweepNames(): void {
    const names = listDir(join(this.dir, 'names'));
    for (const name of names) {
      const owner = this.nameTarget(name);
      if (owner && this.isStaleName(owner)) this.releaseName(name, owner);
    }
  }

  // Removes what a killed create or rm left half-made or half-deleted (temp dirs of dead processes).
  sweepTemps(): void {
    sweepStaleTemps(this.dir, (p) => rmSync(p, { recursive: true, force: true }));
  }

  // Ids with a runtime dir but no container: a `run` killed before it recorded its container,
  // whose files (and monitor) a sweep removes once no command holds the id's lock.
  strayRuntimeIds(): string[] {
    return listDir(join(this.runDir, 'containers')).filter((id) => ID_RE.test(id) && !existsSync(this.containerDir(id)) && !isLockHeld(this.lockPath(id)));
  }

  releaseName(name: string, id: string): void {
    if (this.nameTarget(name) === id) rmSync(this.nameLink(name), { force: true });
  }

  // Rewrites a container's record (under its lock): config changes such as `network connect`.
  update(record: ContainerRecord): void {
    writeJsonAtomic(join(this.containerDir(record.id), 'container.json'), record);
  }

  // Moves `record`'s name (under the container's lock): the new one is reserved first.
  rename(record: ContainerRecord, name: string): ContainerRecord {
    this.reserveName(name, record.id);
    const updated = { ...record, name };
    writeJsonAtomic(join(this.containerDir(record.id), 'container.json'), updated);
    this.releaseName(record.name, record.id);
    return updated;
  }

  // Writes a new container: built in a temp dir, renamed into place whole. `durable = false` leaves
  // the record's flush to disk to a later persist() (`run` overlaps it with the runtime's start).
  commit(record: ContainerRecord, build: (dir: string) => void, durable = true): void {
    mkdirSync(this.dir, { recursive: true });
    sweepStaleTemps(this.dir, (p) => rmSync(p, { recursive: true, force: true }));
    const tmp = tempSibling(this.containerDir(record.id));
    mkdirSync(join(tmp, 'userdata'), { recursive: true });
    try {
      build(tmp);
      writeJsonAtomic(join(tmp, 'state.json'), { status: 'created', restartCount: 0 } satisfies ContainerState, 0o644, false);
      writeJsonAtomic(join(tmp, 'container.json'), record, 0o644, durable);
      renameSync(tmp, this.containerDir(record.id));
    } catch (error) {
      rmSync(tmp, { recursive: true, force: true });
      throw error;
    }
  }

  // Flushes a committed container's record to disk; a container already removed is fine.
  persist(id: string): void {
    let fd: number;
    try {
      fd = openSync(join(this.containerDir(id), 'container.json'), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  // The directory of the container's sd_notify socket (--sdnotify=container under a unit), which
  // its bundle mounts read-only at /run/notify (a short path: a socket's is at most 107 bytes).
  notifyDir(id: string): string {
    return join(this.runDir, 'notify', id.slice(0, 12));
  }

  // Deletes every file of a container (the caller holds its lock and has unmounted its root).
  remove(record: ContainerRecord): void {
    rmSync(this.runtimeDir(record.id), { recursive: true, force: true });
    rmSync(this.notifyDir(record.id), { recursive: true, force: true });
    rmSync(this.slirpSocketPath(record.id), { force: true });
    // Rename first: a half-deleted container is never listed.
    const doomed = tempSibling(this.containerDir(record.id));
    try {
      renameSync(this.containerDir(record.id), doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.releaseName(record.name, record.id);
    rmSync(doomed, { recursive: true, force: true });
    try {
      unlinkSync(this.lockPath(record.id));
    } catch {
      // already gone
    }
  }
}
