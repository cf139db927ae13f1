// Containers' lifecycle: create, start (through skiff-monitor and the OCI runtime), stop, kill,
// remove, wait, cleanup (the monitor's exit command). Every change holds the container's lock and
// goes through the store's transitions (state/transitions.ts); reads take none and correct
// state.json with the monitor's word. The rest of a container's work has a file each: its monitor's
// launch (container-launch.ts), its bundle (container-bundle.ts), its networks and /etc/hosts
// (container-networks.ts), exec (container-exec.ts), what to do after it exits (exit-policy.ts),
// and the reports (container-reports.ts, logs.ts, events.ts).
// Longer than 400 lines on purpose: the verbs left here share this process's state of a start under
// way (the locks held, the launched monitors, the spare network) and the locked helpers around it
// (reconcile, reap, finish); spread over files, that state would have to be passed around or exported.
import { closeSync, constants as fsConstants, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import {
  deleteContainer,
  freezeContainer,
  killContainer,
  knowsContainer,
  resolveRuntime,
  startContainer,
  updateContainer,
  type OciRuntime,
} from '../runtime/runtime.js';
import { startTimeOf } from '../util/proc.js';
import { memberships, volumeUsers, type ContainerRecord, type ContainerState, type ContainerStore, type MountSpec } from '../state/containers.js';
import { recordEvent } from '../state/events.js';
import { withContainerDefaults } from './container-defaults.js';
import { runPoststopHooks } from './container-hooks.js';
import { isAlive, readPidFile } from '../state/liveness.js';
import { randomId, randomName } from '../state/names.js';
import { checkName } from '../util/names.js';
import { Rootfs, rootfsDriver, type RootfsDriver } from '../storage/rootfs.js';
import { findHelperBinary, signalQuietly } from '../util/exec.js';
import type { PortMapping } from '../network/ports.js';
import { publishPorts } from '../network/slirp.js';
import { networkMode } from '../network/modes.js';
import { discardSpareNetwork, sweepSpares, keepSpareTemplate, takeSpareNetwork, type SpareNetwork } from '../network/spare.js';
import { defaultNetwork } from '../network/backend.js';
import { acquireLock, type Lock } from '../util/lock.js';
import { log } from '../util/log.js';
import { buildContainerConfig, type CreateOptions, rootfsSource, wholeFds } from './container-config.js';
import { checkDevices, fillVolumes, inheritMounts, mountedOverlay, mountOverlays, prepareMounts, unmountOverlays } from './container-mounts.js';
import { resolveUser } from '../oci/passwd.js';
import { inContainerTerms } from './container-paths.js';
import { execCaptured, execInContainer, type ExecOptions, preservedFds } from './container-exec.js';
import { healthArgv, healthOf, OUTPUT_KEPT, recordHealth, type HealthState } from './container-health.js';
import type { ContainerRow } from './container-reports.js';
import type { EndWatch } from '../monitor/attach.js';
import { writeBundle } from './container-bundle.js';
import { resolveSecrets, secretEnvironment, writeSecretFiles } from './container-secrets.js';
import { searchable, setUserns } from './container-userns.js';
import { blockDevice, chooseCgroupManager, hasOwnCgroup, runtimeCgroups } from './container-cgroups.js';
import { type CgroupManager, cgroupOfPid, cgroupSetup, checkLimits, isFrozen } from '../cgroups/manager.js';
import { sampleCgroup } from '../cgroups/stats.js';
import type { StatsSample } from './container-stats.js';
import { type LimitFlags, ociResources, parseLimits } from '../cgroups/limits.js';
import { cancelLaunch, launch, notifyPlan, type Launched } from './container-launch.js';
import { ContainerNetworks } from './container-networks.js';
import { cloneConfig, cloneName, type CloneOptions } from './container-clone.js';
import { userMountFile } from './container-user-mounts.js';
import { withStoreLock, type EngineContext } from './context.js';
import { afterExit } from './exit-policy.js';
import type { ImagesEngine } from './images.js';
import type { PullEvent } from '../image/pull.js';
import { listDir, writeFileAtomic } from '../util/fs.js';
import { ensureRestartUnit, RESTART_UNIT } from '../systemd/restart-unit.js';
import { skiffPath } from '../util/self.js';
import { namespaceIds, outerIds, rootOwner } from '../util/idmap.js';
import { mappingsKey } from '../storage/layer-store.js';

export interface StartHooks {
  /** Connect to the container's attach socket after it exists and before its process starts (no output is lost). */
  attach?: (socket: Socket) => void;
  /** This start's --sdnotify, over the container's own (a `generate systemd` unit's `start`). */
  sdnotify?: 'conmon' | 'container' | 'ignore';
}

// Node's own table of signal names (SIGIOT and SIGPOLL, aliases, come after SIGABRT and SIGIO).
const SIGNALS: Record<string, number> = constants.signals;

// "TERM", "SIGTERM", "15" → "SIGTERM"-style name and number; unknown ones are a usage error.
export const parseSignal = (input: string): { name: string; number: number } => {
  const upper = input.toUpperCase();
  if (/^\d+$/.test(upper)) {
    const n = Number(upper);
    const name = Object.keys(SIGNALS).find((k) => SIGNALS[k] === n);
    if (n >= 1 && n <= 64) return { name: name ?? upper, number: n };
  } else {
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (SIGNALS[name]) return { name, number: SIGNALS[name] };
  }
  throw new CliError('EUSAGE', `invalid signal "${input}": use a name such as SIGTERM or a number`);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const isRunning = (state: ContainerState) => state.status === 'running' || state.status === 'stopping';

// Running, or made in the runtime by `init` and waiting for its start: its monitor and process live.
const isLive = (state: ContainerState) => isRunning(state) || state.status === 'initialized';

export class ContainersEngine {
  private readonly store: ContainerStore;
  /** Named networks, /etc/hosts, network namespaces: see container-networks.ts. */
  readonly networking: ContainerNetworks;

  constructor(
    private readonly ctx: EngineContext,
    private readonly images: ImagesEngine,
  ) {
    this.store = ctx.containers;
    this.networking = new ContainerNetworks(ctx, this.store);
  }

  private rootfs(driver: string): Rootfs {
    return new Rootfs(driver as RootfsDriver, join(this.ctx.paths.run, 'mounts'));
  }

  // The container's root filesystem: its path, and whether it is mounted now (container-user-mounts.ts).
  rootfsPath(record: ContainerRecord): string {
    return this.rootfs(record.rootfsDriver).mountpoint(this.store.containerDir(record.id));
  }

  rootfsMounted(record: ContainerRecord): boolean {
    return this.rootfs(record.rootfsDriver).mounted(this.store.containerDir(record.id));
  }

  // Mounts the root (one more use of it); caller holds the lock and has joined the user namespace.
  async mountRootfs(record: ContainerRecord): Promise<string> {
    await this.ensureLowers(record);
    return this.rootfs(record.rootfsDriver).mount(record.id, { dir: this.store.containerDir(record.id), lowers: this.lowers(record) });
  }

  // Lets go of one use of the root (unmounted with the last); caller holds the lock.
  unmountRootfs(record: ContainerRecord): void {
    this.rootfs(record.rootfsDriver).unmount(record.id, this.store.containerDir(record.id));
  }

  // The image's layer directories under a container's root, lowest first: for a container with a
  // user namespace of its own, the layers' copies shifted for its map (made by ensureLowers).
  lowers(record: ContainerRecord): string[] {
    const mappings = record.config.idMappings;
    // (--rootfs DIR:O: the directory is the one lower layer; plain --rootfs mounts nothing.)
    if (record.config.rootfs) return record.config.rootfs.overlay ? [record.config.rootfs.path] : [];
    if (!mappings) return record.layers.map((l) => this.ctx.layers.diffPath(l));
    const key = mappingsKey(mappings);
    return record.layers.map((l) => this.ctx.layers.mappedPath(l, key));
  }

  // Makes the shifted copies lowers() names, where they are missing (the first container of a map).
  private async ensureLowers(record: ContainerRecord): Promise<void> {
    const mappings = record.config.idMappings;
    if (mappings) await Promise.all(record.layers.map((l) => this.ctx.layers.mapped(l, mappings)));
  }

  // A running container's :O overlay (for cp), or undefined.
  overlayRoot(record: ContainerRecord, m: MountSpec): string | undefined {
    return mountedOverlay(this.rootfs(record.rootfsDriver), this.store.containerDir(record.id), record.config.mounts ?? [], m);
  }

  // The container's runtime, with --runtime-flag's flags (global ones: before the verb).
  private runtime(record: ContainerRecord): OciRuntime {
    const runtime = resolveRuntime(record.runtime, this.ctx.paths.run, runtimeCgroups(record));
    const extra = this.ctx.runtimeFlags ?? [];
    return extra.length ? { ...runtime, globalArgs: [...runtime.globalArgs, ...extra] } : runtime;
  }

  eventsFile(): string {
    return this.ctx.config.engine.eventsLogfilePath ?? join(this.ctx.paths.data, 'events.log');
  }

  event(record: ContainerRecord, status: string, extra: { ContainerExitCode?: number; Attributes?: Record<string, string> } = {}): void {
    if (this.ctx.eventsBackend === 'none') return;
    recordEvent(
      this.eventsFile(),
      { Type: 'container', Status: status, ID: record.id, Name: record.name, Image: record.image, ...extra },
      this.ctx.config.engine.eventsLogfileMaxSize,
    );
  }

  find(input: string): ContainerRecord {
    return this.store.find(input);
  }

  // A name or id (or a unique id prefix) that names a container.
  exists(input: string): boolean {
    try {
      this.store.find(input);
      return true;
    } catch (error) {
      if (error instanceof CliError && error.code === 'ENOCONTAINER') return false;
      throw error;
    }
  }

  // Every container with its state (and health, when it has a healthcheck and runs).
  list(): ContainerRow[] {
    return this.store.list().map((record) => this.row(record));
  }

  row(record: ContainerRecord): ContainerRow {
    const state = this.withPaused(record, this.store.effectiveState(record.id));
    const health = healthOf(this.store, record, state);
    return { record, state, ...(health ? { health } : {}) };
  }

  state(id: string): ContainerState {
    const record = this.store.get(id);
    const state = this.store.effectiveState(id);
    return record ? this.withPaused(record, state) : state;
  }

  // A running container with a cgroup of its own is paused when that cgroup is frozen.
  private withPaused(record: ContainerRecord, state: ContainerState): ContainerState {
    if (state.status !== 'running' || !state.pid || !hasOwnCgroup(record)) return state;
    return isFrozen(state.pid) ? { ...state, paused: true } : state;
  }

  // pause / unpause: the runtime freezes or thaws the container's cgroup (cgroup.freeze).
  async pause(input: string, freeze = true): Promise<ContainerRecord> {
    const record = this.store.find(input);
    const verb = freeze ? 'pause' : 'unpause';
    await this.store.withContainerLock(record.id, async () => {
      const state = this.reconcileLocked(record.id);
      if (!isRunning(state))
        throw new CliError('ESTATE', `${record.name} is ${state.status}: only a running container can be ${freeze ? 'paused' : 'unpaused'}`);
      if (!hasOwnCgroup(record))
        throw new CliError('ESTATE', `${verb} freezes the container's cgroup, and ${record.name} has none (cgroup manager ${runtimeCgroups(record)})`);
      if (isFrozen(state.pid!) === freeze) throw new CliError('ESTATE', `${record.name} is ${freeze ? 'already paused' : 'not paused'}`);
      await freezeContainer(this.runtime(record), record.id, freeze);
      this.event(record, verb);
    });
    return record;
  }

  // `update`: new limits for a container, recorded, and applied at once to a running one (the runtime
  // rewrites its cgroup's files). Only what its cgroup manager can enforce is taken.
  async update(input: string, flags: LimitFlags): Promise<ContainerRecord> {
    const record = this.store.find(input);
    const asked = parseLimits(flags);
    // (--cpu-rt-* alone on cgroup v2: warned of and ignored, as Podman.)
    if (!Object.keys(asked).length && (flags.cpuRtPeriod ?? flags.cpuRtRuntime) !== undefined) return record;
    if (!Object.keys(asked).length) throw new CliError('EUSAGE', 'update needs a limit to change: --memory, --cpus, --pids-limit, ...');
    let updated = record;
    await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id) ?? record;
      const resources = { ...current.config.resources, ...asked };
      if (!hasOwnCgroup(current))
        throw new CliError('EUSAGE', `${current.name} has no cgroup of its own (cgroup manager ${runtimeCgroups(current)}): its limits cannot change`);
      checkLimits(asked, cgroupSetup(current.cgroupManager!, namespaceIds().hostUid), false);
      updated = { ...current, config: { ...current.config, resources } };
      const state = this.reconcileLocked(record.id);
      if (isLive(state)) {
        const file = join(this.store.runtimeDir(record.id), 'resources.json');
        writeFileAtomic(file, JSON.stringify(ociResources(asked, blockDevice) ?? {}), 0o600, false);
        await updateContainer(this.runtime(current), record.id, file);
      }
      this.store.update(updated);
      this.event(updated, 'update');
    });
    return updated;
  }

  // `stats`: a sample of the cgroup of each container named, else of every running one (each
  // state read once). One without a cgroup of its own is an error naming why, never a row of zeros.
  stats(inputs: string[]): (StatsSample | Error)[] {
    const found = (input: string): ContainerRecord | Error => {
      try {
        return this.store.find(input);
      } catch (error) {
        return error as Error;
      }
    };
    const records = inputs.length ? inputs.map(found) : this.store.list();
    return records.flatMap((record): (StatsSample | Error)[] => {
      if (record instanceof Error) return [record];
      const state = this.store.effectiveState(record.id);
      if (state.status !== 'running' || !state.pid)
        return inputs.length ? [new CliError('ESTATE', `${record.name} is ${state.status}: stats are of running containers`)] : [];
      const manager = runtimeCgroups(record);
      const dir = hasOwnCgroup(record) ? cgroupOfPid(state.pid) : undefined;
      if (!dir) {
        const setup = cgroupSetup(this.ctx.config.engine.cgroupManager, namespaceIds().hostUid);
        return [
          new CliError(
            'ESTATE',
            `${record.name} has no cgroup of its own, so there are no stats to read (${manager === 'disabled' ? '--cgroups=disabled' : `cgroup manager none${setup.why ? `: ${setup.why}` : ''}`})`,
          ),
        ];
      }
      return [{ record, startedAt: state.startedAt ?? record.created, sample: sampleCgroup(dir, state.pid) }];
    });
  }

  // A paused container thaws to take a signal it must act on (stop's TERM; a KILL works frozen).
  private async thaw(record: ContainerRecord, state: ContainerState): Promise<void> {
    if (this.withPaused(record, state).paused) await freezeContainer(this.runtime(record), record.id, false).catch(() => undefined);
  }

  // A connection to a running container's attach socket.
  async connectAttach(id: string): Promise<Socket> {
    const record = this.find(id);
    const state = this.state(record.id);
    if (state.status !== 'running') throw new CliError('ESTATE', `you can only attach to running containers: ${record.name} is ${state.status}`);
    return this.connectSocket(record.id);
  }

  // A unit waits for the monitor's READY=1 (--sdnotify): a container this CLI started itself is
  // announced to its monitor with a start frame (PROTOCOL.md).
  private async tellStarted(id: string): Promise<void> {
    const { encodeFrame, FRAME } = await import('../monitor/attach.js');
    const socket = await this.connectSocket(id).catch(() => undefined);
    if (!socket) return;
    await new Promise<void>((resolve) => socket.end(encodeFrame(FRAME.started, ''), () => resolve()));
    socket.destroy();
  }

  private async connectSocket(id: string): Promise<Socket> {
    const { connectAttach } = await import('../monitor/attach.js'); // loaded by the commands that attach only
    return connectAttach(this.store.socketPath(id));
  }

  // The container's log (--log-opt path=, else its own); a container without one says so.
  logPath(record: ContainerRecord): string {
    if (record.config.logDriver === 'none') throw new CliError('EUSAGE', `${record.name} uses the none log driver: it keeps no logs to read`);
    return record.config.logPath ?? this.store.logPath(record.id);
  }

  // Creates a container (pulling its image when missing). Caller has joined the user namespace.
  // `startNext`: start() follows at once (`run`), so the container gets its monitor before its
  // files are written (the monitor's start, and pasta's, ~20 ms, where pasta sets up the network,
  // overlap them), and start() takes the monitor up; its record is flushed to disk while the
  // runtime starts it (start() does that), not here.
  // `create` (and `run`'s first half); with --cidfile the file is claimed first (a file there
  // already fails the create: another container may use it) and holds the id once it exists.
  async create(options: CreateOptions, onPull?: (event: PullEvent) => void, startNext = false): Promise<ContainerRecord> {
    if (!options.cidfile) return this.createRecord(options, onPull, startNext);
    const cidfile = options.cidfile;
    let fd: number;
    try {
      fd = openSync(cidfile, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o644);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists: another container may use it, or remove it' : messageOf(error);
      throw new CliError('EUSAGE', `cannot use --cidfile ${cidfile}: ${why}`);
    }
    try {
      const record = await this.createRecord(options, onPull, startNext);
      writeSync(fd, record.id);
      return record;
    } catch (error) {
      rmSync(cidfile, { force: true });
      throw error;
    } finally {
      closeSync(fd);
    }
  }

  private async createRecord(given: CreateOptions, onPull: ((event: PullEvent) => void) | undefined, startNext: boolean): Promise<ContainerRecord> {
    log.debug('create: start');
    // containers.conf's defaults under the flags; then `bridge` (given, or the default network,
    // which `private` names too): the default named network, made on first use.
    const defaulted = withContainerDefaults(given, {
      config: this.ctx.config,
      pidsLimitWorks: () => cgroupSetup(this.ctx.config.engine.cgroupManager, namespaceIds().hostUid).controllers.includes('pids'),
      namedNetwork: (name) => this.ctx.networks.get(name) !== undefined,
    });
    const fallback = defaultNetwork(this.ctx.config.network.backend);
    const asked = defaulted.network === 'private' || defaulted.network === undefined ? fallback : defaulted.network;
    const options = asked === 'bridge' ? { ...defaulted, network: await this.ctx.networks.ensureDefault(randomId) } : defaulted;
    // A name that cannot be used fails before anything is pulled, launched or written.
    if (options.name) checkName('container', options.name);
    const runtime = resolveRuntime(options.runtime ?? this.ctx.config.engine.runtime, this.ctx.paths.run);
    // --rootfs: a directory of the user's is the root; no image.
    const rootDir = options.rootfs ? rootfsSource(options.image) : undefined;
    let image = rootDir || options.pull === 'always' ? undefined : this.lookupImage(options.image, options.pull === 'never');
    if (!image && !rootDir) image = (await this.images.pull(options.image, { authfile: options.authfile, tlsVerify: options.tlsVerify }, onPull)).image;
    if (options.name && options.replace && this.store.nameTarget(options.name)) {
      await this.remove(options.name, { force: true }).catch((error) => {
        if (!(error instanceof CliError && error.code === 'ENOCONTAINER')) throw error;
      });
    }
    // Published ports are checked (and free ones chosen) before anything is created.
    let ports: PortMapping[] = [];
    if (options.publish?.length || options.publishAll) {
      const { parsePublish, exposedMappings, reservePorts } = await import('../network/ports.js');
      const requested = [
        ...(options.publish ?? []).flatMap(parsePublish),
        ...(options.publishAll
          ? exposedMappings({
              ...(image ? this.ctx.images.config(image.id).config?.ExposedPorts : {}),
              ...Object.fromEntries((options.expose ?? []).map((p) => [p, {}])),
            })
          : []),
      ];
      ports = await reservePorts(requested);
    }
    // A `run` may come with the launcher's spare network: the container takes its id when it is
    // the pasta this container needs; else the spare goes (and its id with it: never reused).
    const network = options.network ?? defaultNetwork(this.ctx.config.network.backend);
    const spare = startNext ? takeSpareNetwork(this.ctx.paths.run) : undefined;
    const wanted = network === 'pasta' && !ports.length ? findHelperBinary('pasta') : undefined;
    this.spare = spare && keepSpareTemplate(this.ctx.paths.run, wanted) ? spare : undefined;
    if (spare && !this.spare) discardSpareNetwork(spare);
    const id = this.spare?.id ?? randomId();
    // The image's config and the container's are read before the locks: a `run` on no named
    // network launches its monitor first, whose runtime (held at its gate until the bundle is
    // written) then loads while the rest is done. Under the store lock the image is looked up
    // again: one removed meanwhile still fails the create there.
    const found = image ? this.images.resolve(image.id) : { id: '', names: [] as string[], layers: [] as string[] };
    const config =
      options.cloneOf?.(id) ??
      buildContainerConfig(options, image ? this.ctx.images.config(found.id) : { rootfs: { type: 'layers', diff_ids: [] } }, id, {
        network: defaultNetwork(this.ctx.config.network.backend),
        ports,
        named: (name) => this.ctx.networks.get(name) !== undefined,
        inherited: (options.volumesFrom ?? []).flatMap((spec) => inheritMounts(spec, (name) => this.store.find(name))),
      });
    checkDevices(config.devices ?? []);
    const secretData = config.secrets ? await resolveSecrets(this.ctx.secrets, config.secrets, options.fileSecrets) : [];
    if (rootDir) config.rootfs = rootDir;
    for (const required of config.requires ?? []) this.store.find(required); // --requires: they must exist
    if (options.volumesFrom?.length) config.volumesFrom = options.volumesFrom.map((spec) => this.store.find(spec.split(':')[0]).id);
    // --userns=auto takes ids no other auto container has: one such create at a time, until its record is written.
    const autoLock = config.userns?.startsWith('auto') ? await acquireLock(join(this.ctx.paths.data, 'locks', 'userns-auto.lock')) : undefined;
    const driver = rootfsDriver(this.ctx.paths.run, this.ctx.paths.data, this.ctx.config.storage.rootfs);
    let cgroupManager: CgroupManager = 'none';
    try {
      // (A clone keeps the original's id mappings, but for --userns=auto's: its own.)
      if (!options.cloneOf || !config.idMappings) setUserns(this.ctx, options, config, this.store.containerDir(id));
      cgroupManager = await chooseCgroupManager(this.ctx, config);
      if (driver === 'copy' && config.mounts?.some((m) => m.overlay))
        throw new CliError('EUSAGE', ':O mounts need an overlay driver (native overlay or fuse-overlayfs); this store uses copies');
    } catch (error) {
      autoLock?.release();
      throw error;
    }
    const record: ContainerRecord = {
      id,
      name: '',
      created: new Date().toISOString(),
      image: rootDir || found.names.includes(options.image) ? options.image : (found.names[0] ?? found.id),
      imageId: found.id,
      imageName: found.names[0] ?? '',
      layers: found.layers,
      rootfsDriver: driver,
      runtime: runtime.path,
      ...(cgroupManager !== 'none' ? { cgroupManager } : {}),
      ...(options.createCommand ? { createCommand: options.createCommand } : {}),
      ...(options.systemdUnit ? { systemdUnit: options.systemdUnit } : {}),
      config,
    };
    let lock: Lock | undefined;
    try {
      // The lock first: files of a container being made (its runtime dir, its monitor) are never
      // taken for a killed command's leftovers (see sweep).
      lock = await this.store.lock(id);
      if (startNext && options.preserveFds !== undefined) this.preserveFds = preservedFds(wholeFds(options.preserveFds)).length;
      if (startNext && !config.namedNetwork)
        this.launched.set(id, await launch(this.ctx, this.networking, record, this.runtime(record), this.spare, this.preserveFds));
      record.name = this.reserveName(options.name, id);
      return await withStoreLock(this.ctx, false, async () => {
        if (image) this.images.resolve(found.id);
        await this.ensureLowers(record);
        // The volumes it names are made (and bind sources checked) with the record, under the
        // volumes lock: `volume prune` never sees a volume whose container is not recorded yet.
        const commit = async () => {
          const write = () => {
            this.store.commit(
              record,
              (dir) => {
                if (config.idMappings) searchable(dir);
                this.rootfs(driver).prepare({ dir, lowers: this.lowers(record) }, rootOwner(config.idMappings));
                if (config.secrets) writeSecretFiles(join(dir, 'userdata'), config.secrets, secretData, config.idMappings);
              },
              !startNext,
            );
            if (startNext) this.unpersisted.add(id);
          };
          if (!config.mounts?.length) return write();
          await this.ctx.volumes.withLock(async () => {
            const made = prepareMounts(this.ctx.volumes, config.mounts!);
            try {
              write();
            } catch (error) {
              for (const name of made) this.ctx.volumes.remove(name); // still under the lock
              throw error;
            }
          });
        };
        // An address on a named network: the lowest one no container on it has (under the networks lock).
        if (config.namedNetwork) {
          const more = [...new Set(options.moreNetworks ?? [])].filter((n) => n !== config.network);
          await this.ctx.networks.withLock(async () => {
            const network = this.ctx.networks.find(config.network);
            config.networkIp = this.networking.allocate(network.name, options.ip);
            config.extraNetworks = more.map((name, i) => ({
              network: this.ctx.networks.find(name).name,
              ip: this.networking.allocate(name),
              // (A clone's: the original's aliases there.)
              aliases: config.extraNetworks?.find((e) => e.network === name)?.aliases ?? config.aliases ?? [],
              device: `eth${i + 1}`,
            }));
            await commit();
          });
          for (const m of memberships(config)) this.networking.refreshHosts(m.network);
        } else {
          await commit();
        }
        this.event(record, 'create');
        if (config.restartPolicy.name === 'always' || config.restartPolicy.name === 'unless-stopped') this.keepRestartUnit();
        log.debug('create: done');
        // `run`: the lock stays held until start() has recorded how the start went.
        if (startNext) this.held.set(id, lock!);
        return record;
      });
    } catch (error) {
      if (startNext) {
        await cancelLaunch(this.takeLaunched(id));
        rmSync(this.store.runtimeDir(id), { recursive: true, force: true });
      }
      if (record.name) this.store.releaseName(record.name, id);
      throw error;
    } finally {
      if (!this.held.has(id)) lock?.release();
      autoLock?.release();
    }
  }

  // `container clone` (container-clone.ts): the new container, made as create makes one.
  async clone(input: string, options: CloneOptions, onPull?: (event: PullEvent) => void): Promise<ContainerRecord> {
    const limits = parseLimits(options.limits);
    const original = this.store.find(input);
    if (original.damaged) throw new CliError('ESTATE', `container ${original.name} lost its record (container.json) in a crash: there is nothing to clone`);
    // (Refused before the clone is made, not after.)
    if (options.destroy && !options.force && isRunning(this.store.effectiveState(original.id)))
      throw new CliError('ESTATE', `cannot destroy container ${original.name}: it is running; stop it first or use --force`);
    // The original's image (by the name it was made with while that still names it), or another;
    // a --rootfs original's directory, unless an image is given.
    const named = this.images.exists(original.image) && this.images.resolve(original.image).id === original.imageId;
    const rootfs = options.image ? undefined : original.config.rootfs;
    const record = await this.create(
      {
        image: options.image ?? (rootfs ? `${rootfs.path}${rootfs.overlay ? ':O' : ''}` : named ? original.image : original.imageId),
        ...(rootfs ? { rootfs: true } : {}),
        command: [],
        name: options.name ?? cloneName(original.name, (name) => this.store.nameTarget(name) !== undefined),
        pull: options.image ? 'missing' : 'never',
        ...(original.config.userns?.startsWith('auto') ? { userns: original.config.userns } : {}),
        moreNetworks: original.config.extraNetworks?.map((e) => e.network),
        cloneOf: (id) => {
          const config = cloneConfig(original, id, limits);
          if (options.image) delete config.rootfs;
          return config;
        },
      },
      onPull,
    );
    if (options.destroy) await this.remove(original.id, { force: options.force });
    if (options.run) await this.start(record.id);
    return record;
  }

  // A container with a restart policy comes back at boot through skiff-restart.service, written
  // once where systemd runs the machine (for the user's default stores: the unit names no other).
  private keepRestartUnit(): void {
    if (!this.ctx.paths.defaultStores || !existsSync('/run/systemd/system')) return;
    try {
      if (ensureRestartUnit(this.ctx.paths.configHome, skiffPath(), this.ctx.paths.data, this.ctx.paths.run)) log.debug(`create: wrote ${RESTART_UNIT}`);
    } catch (error) {
      log.warn(`cannot write ${RESTART_UNIT} (containers with a restart policy will not start at boot): ${messageOf(error)}`);
    }
  }

  // Container locks create() kept for the start() that follows (`run`).
  private readonly held = new Map<string, Lock>();

  // Runs fn under the container's lock (the one create() kept, if it did).
  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const kept = this.held.get(id);
    if (!kept) return this.store.withContainerLock(id, fn);
    this.held.delete(id);
    try {
      return await fn();
    } finally {
      kept.release();
    }
  }

  private lookupImage(input: string, required: boolean) {
    try {
      return this.images.resolve(input);
    } catch (error) {
      if (!required && error instanceof CliError && error.code === 'ENOIMAGE') return undefined;
      throw error;
    }
  }

  private reserveName(wanted: string | undefined, id: string): string {
    if (wanted) {
      this.store.reserveName(wanted, id);
      return wanted;
    }
    for (let attempt = 0; ; attempt++) {
      const name = attempt < 5 ? randomName() : `${randomName()}_${id.slice(0, 6)}`;
      try {
        this.store.reserveName(name, id);
        return name;
      } catch (error) {
        if (attempt >= 6) throw error;
      }
    }
  }

  // Starts a created or exited container; a running one is left as it is. What it --requires is
  // started first (`starting`: the chain so far, so that a loop of requirements ends).
  async start(input: string, hooks: StartHooks = {}, starting: string[] = []): Promise<ContainerRecord> {
    const record = this.store.find(input);
    for (const required of record.config.requires ?? []) {
      const other = this.store.find(required);
      if (starting.includes(other.id) || other.id === record.id) continue;
      await this.start(other.id, {}, [...starting, record.id]);
    }
    return this.withLock(record.id, async () => {
      const current = this.store.get(record.id);
      if (!current) throw new CliError('ENOCONTAINER', `no such container: ${input}`);
      const state = this.reconcileLocked(record.id);
      if (isRunning(state)) return current;
      const starting = hooks.sdnotify ? { ...current, config: { ...current.config, sdnotify: hooks.sdnotify } } : current;
      if (state.status === 'initialized') await this.startInitializedLocked(starting, state, hooks);
      else await this.startLocked(starting, hooks);
      return current;
    });
  }

  // `init`: the container made in the runtime (its monitor running, its root mounted, its network
  // set up) without starting its process: `initialized`, until `start`. Only a created or exited
  // container can be; what it --requires must run already (Podman's).
  // `skipLive` (init --all): one that is initialized or running already is no error.
  async init(input: string, skipLive = false): Promise<ContainerRecord> {
    const record = this.store.find(input);
    for (const required of record.config.requires ?? []) {
      const other = this.store.find(required);
      if (!isRunning(this.store.effectiveState(other.id)))
        throw new CliError('ESTATE', `container ${record.name} requires ${other.name}, which is not running: start it first`);
    }
    return this.withLock(record.id, async () => {
      const current = this.store.get(record.id);
      if (!current) throw new CliError('ENOCONTAINER', `no such container: ${input}`);
      const state = this.reconcileLocked(record.id);
      if (isLive(state) && skipLive) return current;
      if (isLive(state)) throw new CliError('ESTATE', `container ${current.name} has already been created in the runtime (it is ${state.status})`);
      await this.startLocked(current, {}, true);
      return current;
    });
  }

  // Starts the process of a container `init` made (caller holds the lock).
  private async startInitializedLocked(record: ContainerRecord, state: ContainerState, hooks: StartHooks): Promise<void> {
    const runtime = this.runtime(record);
    try {
      if (hooks.attach) hooks.attach(await this.connectSocket(record.id));
      await startContainer(runtime, record.id);
    } catch (error) {
      await killContainer(runtime, record.id, 'SIGKILL').catch(() => undefined);
      await this.waitForExit(record.id, 5000);
      await this.finishLocked(record, { restart: false });
      throw error;
    }
    const pid = state.pid ?? 0;
    this.store.transition(record.id, {
      kind: 'running',
      pid,
      pidStartTime: state.pidStartTime,
      monitorPid: state.monitorPid ?? 0,
      monitorStartTime: state.monitorStartTime,
      launching: false,
      at: new Date().toISOString(),
    });
    if (notifyPlan(this.ctx, record)) await this.tellStarted(record.id);
    this.event(record, 'start');
    if (record.config.pidfile) writeFileAtomic(record.config.pidfile, `${pid}\n`, 0o644, false);
    if (record.config.conmonPidfile) writeFileAtomic(record.config.conmonPidfile, `${state.monitorPid}\n`, 0o644, false);
  }

  // The container's state as effectiveState finds it, written back when a killed command had left
  // state.json behind the truth (caller holds the lock).
  private reconcileLocked(id: string): ContainerState {
    const recorded = this.store.state(id);
    const state = this.store.effectiveState(id, true);
    const stale =
      recorded.launching ||
      (recorded.status === 'stopping' && state.status === 'running') ||
      (state.monitorLost && !recorded.monitorLost) ||
      (state.pid && state.pid !== recorded.pid);
    if (stale && isRunning(state)) this.store.transition(id, { kind: 'observed', state });
    return state;
  }

  // Ends whatever an earlier start of the container left running or registered: its process (by
  // the runtime, and by pid and start time), the runtime's record of it, and a monitor still alive
  // without it (one whose starter was killed). Caller holds the lock; the state is reconciled.
  private async reapLocked(record: ContainerRecord, state: ContainerState): Promise<void> {
    const runtime = this.runtime(record);
    const monitor = isAlive(state.monitorPid, state.monitorStartTime) ? state.monitorPid : undefined;
    // A live monitor that wrote the exit file saw its container end: the rest is finishLocked's.
    if (monitor && existsSync(this.store.exitFile(record.id))) return;
    const pid = this.store.livePid(record.id, state);
    const pidStart = pid ? startTimeOf(pid) : undefined;
    const registered = knowsContainer(runtime, record.id);
    if (!monitor && !pid && !registered) return;
    if (pid || registered) {
      await killContainer(runtime, record.id, 'SIGKILL').catch(() => undefined);
      await deleteContainer(runtime, record.id).catch(() => undefined);
    }
    if (isAlive(pid, pidStart)) signalQuietly(pid, 'SIGKILL');
    // Its monitor writes the exit file once the process is gone; then only its clean-up (which
    // waits for this lock) is left, and the monitor's end does not stop that.
    const deadline = Date.now() + 5000;
    while (
      Date.now() < deadline &&
      (isAlive(pid, pidStart) || (monitor && isAlive(monitor, state.monitorStartTime) && !existsSync(this.store.exitFile(record.id))))
    )
      await sleep(10);
    if (monitor && isAlive(monitor, state.monitorStartTime)) signalQuietly(monitor, 'SIGKILL');
  }

  // `initOnly` (init): the container is made in the runtime, its process left to a later start.
  private async startLocked(record: ContainerRecord, hooks: StartHooks, initOnly = false): Promise<void> {
    if (record.damaged)
      throw new CliError(
        'ESTATE',
        `container ${record.name} lost its record (container.json) in a crash and cannot start: remove it with \`skiff rm ${record.name}\``,
      );
    const early = this.takeLaunched(record.id);
    if ((await this.finishLocked(record, { restart: false })) === 'removed') {
      await cancelLaunch(early);
      throw new CliError('ENOCONTAINER', `no such container: ${record.name}`);
    }
    // What a killed command left (a monitor, a created process, the runtime's record) goes first:
    // the runtime refuses to create an id it still knows.
    if (!early) await this.reapLocked(record, this.store.effectiveState(record.id, true));
    const state = this.store.state(record.id);
    const runtime = this.runtime(record);
    const dir = this.store.containerDir(record.id);
    const rootfs = this.rootfs(record.rootfsDriver);
    let launched = early;
    try {
      launched ??= await launch(this.ctx, this.networking, record, this.runtime(record), this.spare, this.preserveFds, initOnly);
      this.preserveFds = 0;
      const { monitor, monitorStarts, viaSlirp, monitorStartTime } = launched;
      await this.ensureLowers(record);
      const own = record.config.rootfs && !record.config.rootfs.overlay ? record.config.rootfs.path : undefined;
      const mountpoint = own ?? (await rootfs.mount(record.id, { dir, lowers: this.lowers(record) }, record.config.autoRemove));
      if (record.config.mounts?.some((m) => m.overlay)) await mountOverlays(rootfs, dir, record.config.mounts);
      log.debug('start: mounted');
      if (record.config.mounts?.length) {
        const user = outerIds(record.config.idMappings, resolveUser(mountpoint, record.config.user));
        await fillVolumes(this.ctx.volumes, record, mountpoint, user);
      }
      const secretEnv = record.config.secrets ? await secretEnvironment(this.ctx.secrets, record.config.secrets) : [];
      writeBundle(this.ctx, this.networking, record, mountpoint, secretEnv);
      log.debug('start: bundle written');
      if (monitorStarts && hooks.attach) {
        if (!(await monitor.listening())) await monitor.finish(); // throws what went wrong
        hooks.attach(await this.connectSocket(record.id));
      }
      // Recorded before the go: if this CLI dies from now on, the monitor's files tell what became
      // of the start (effectiveState), and stop/rm find the monitor.
      this.store.transition(record.id, { kind: 'launching', monitorPid: monitor.pid, monitorStartTime }, state);
      monitor.proceed();
      this.persistCreated(record.id);
      const started = await monitor.finish();
      log.debug('start: monitor reported');
      // (Still under way when this CLI starts the container itself: killed before that, it leaves
      // a created container, which effectiveState then reports as such.)
      const created = { pid: started.pid, pidStartTime: startTimeOf(started.pid), monitorPid: started.monitorPid, monitorStartTime };
      const running = this.store.transition(
        record.id,
        initOnly ? { kind: 'initialized', ...created } : { kind: 'running', ...created, launching: !monitorStarts, at: new Date().toISOString() },
        state,
      );
      try {
        if (!monitorStarts) {
          if (viaSlirp.length) await publishPorts(this.store.slirpSocketPath(record.id), viaSlirp, networkMode(record.config).addresses().ip);
          const joined = memberships(record.config);
          if (joined.length) {
            const { attach } = await import('../network/bridge.js');
            for (const m of joined.slice(1))
              await attach(this.ctx.paths.run, this.ctx.networks.find(m.network), this.ctx.networks.list(), record.id, started.pid, m.ip, m.device, m.mac);
          }
          if (initOnly) {
            this.event(record, 'init');
            return;
          }
          if (hooks.attach) hooks.attach(await this.connectSocket(record.id));
          await startContainer(runtime, record.id);
          this.store.transition(record.id, { kind: 'started' }, running);
          if (notifyPlan(this.ctx, record)) await this.tellStarted(record.id);
        }
      } catch (error) {
        await killContainer(runtime, record.id, 'SIGKILL').catch(() => undefined);
        await this.waitForExit(record.id, 5000);
        throw error;
      }
      this.event(record, 'start');
      // --pidfile, --conmon-pidfile: the pids of this run.
      if (record.config.pidfile) writeFileAtomic(record.config.pidfile, `${started.pid}\n`, 0o644, false);
      if (record.config.conmonPidfile) writeFileAtomic(record.config.conmonPidfile, `${started.monitorPid}\n`, 0o644, false);
      log.debug('start: started');
    } catch (error) {
      try {
        this.persistCreated(record.id);
      } catch {
        // what failed first is what the caller hears about
      }
      // A monitor still waiting for the bundle creates nothing and undoes its set-up first.
      await cancelLaunch(launched);
      await this.finishLocked(record, { restart: false, error: messageOf(error), errorCode: error instanceof CliError ? error.exitCode : 125 });
      throw error;
    }
  }

  // A monitor launched for a container `run` is creating, until start() takes it up.
  private readonly launched = new Map<string, Launched>();

  // Containers `run` created whose records are not on disk yet: start() flushes them.
  private readonly unpersisted = new Set<string>();
  private spare?: SpareNetwork;
  // run --preserve-fds: this process's fds 3.. that the container's first start passes on.
  private preserveFds = 0;

  private persistCreated(id: string): void {
    if (this.unpersisted.delete(id)) this.store.persist(id);
  }

  private takeLaunched(id: string): Launched | undefined {
    const launched = this.launched.get(id);
    this.launched.delete(id);
    return launched;
  }

  // Waits until the monitor has written the exit file (or died); false on timeout. With `watch`,
  // its exit frame says when (then one look at the files confirms it), not a poll every 20 ms.
  private async waitForExit(id: string, timeoutMs: number, watch?: EndWatch): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (watch) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([watch.exited, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    for (;;) {
      if (!isLive(this.store.effectiveState(id, true))) return true;
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
  }

  // After the container's process ended: record the exit, release the runtime's state and the root
  // filesystem; then --rm removal or the restart policy. Idempotent; the caller holds the lock.
  // `error`: the start failed (`errorCode`: 125, 126 or 127); the container never ran, so it stays
  // "created", as with Podman and Docker, and can be started again.
  private async finishLocked(
    record: ContainerRecord,
    options: { restart: boolean; error?: string; errorCode?: number; leaveDelete?: boolean },
  ): Promise<'removed' | 'restarted' | 'done'> {
    const recorded = this.store.state(record.id);
    const effective = this.store.effectiveState(record.id, true);
    if (isLive(effective)) return 'done';
    // (A start recorded as under way whose command was killed has ended too: what it set up goes.)
    const ended = isLive(recorded) || recorded.launching === true || options.error !== undefined;
    // The runtime deletes its state while this process releases the rest (a stopped container's
    // root filesystem is the runtime's no more); both are done before a restart or a removal.
    // Of a container removed now (--rm, rm -f), whose id nothing will use again, the runtime's
    // delete can be left to the monitor (`leaveDelete`, which only such callers pass): ~5 ms (a
    // runtime call) less for `run --rm`, and the deletes of `rm -af` run in parallel.
    const leave = ended && options.leaveDelete === true;
    const deleting = ended && !leave ? deleteContainer(this.runtime(record), record.id).catch(() => undefined) : undefined;
    if (ended) {
      this.rootfs(record.rootfsDriver).unmount(record.id, this.store.containerDir(record.id));
      unmountOverlays(this.rootfs(record.rootfsDriver), this.store.containerDir(record.id), record.config.mounts ?? []);
      // slirp4netns has ended with the monitor's exit fd (its API socket stays behind), pasta with
      // the monitor's SIGTERM or its parent-death signal; the namespace file pasta was given is
      // the monitor's to remove, unless it died first.
      rmSync(this.store.slirpSocketPath(record.id), { force: true });
      this.networking.releaseNetns(record.id);
      // The monitor removes its socket; one that died (or was killed) could not.
      this.removeSockets(record.id);
      rmSync(this.store.pidFile(record.id), { force: true });
      const neverRan = options.error !== undefined || (recorded.launching === true && effective.status !== 'exited');
      const final = this.store.transition(
        record.id,
        { kind: 'ended', neverRan, error: options.error, errorCode: options.errorCode, at: new Date().toISOString() },
        effective,
      );
      // Podman's order: an OOM kill is said before the death it caused.
      if (final.oomKilled) this.event(record, 'oom');
      this.event(record, 'died', { ContainerExitCode: final.exitCode });
      await runPoststopHooks(this.ctx, record);
    }
    if (!ended && !options.restart) return 'done';
    const state = this.store.state(record.id);
    const ending = {
      exitCode: state.exitCode,
      stoppedByUser: state.stoppedByUser === true,
      startFailed: Boolean(state.error),
      restartCount: state.restartCount,
    };
    const after = afterExit(record.config.restartPolicy, record.config.autoRemove, ending);
    if (after === 'remove') {
      // The runtime's state (its directory, the cgroup) is not the container's files: they go meanwhile.
      await this.removeLocked(record);
      await deleting;
      // --rmi: its image too, by the name it was run by (an image with other names keeps them),
      // unless another container uses it (then it stays, quietly).
      if (record.config.rmi && !this.store.list().some((c) => c.imageId === record.imageId))
        await this.images.remove([record.image], {}).catch((error) => log.debug(`--rmi: ${messageOf(error)}`));
      return 'removed';
    }
    await deleting;
    if (options.restart && after === 'restart') {
      this.store.transition(record.id, { kind: 'restarting' }, state);
      await this.startLocked(record, {});
      return 'restarted';
    }
    return 'done';
  }

  private removeSockets(id: string): void {
    for (const path of [this.store.socketPath(id), `${this.store.socketPath(id)}.console`]) rmSync(path, { force: true });
  }

  // The monitor's exit command. A container removed meanwhile is not an error.
  // `leaveDelete`: the monitor runs the runtime's delete of a --rm container, once the caller (a
  // foreground `run --rm`, which so returns without waiting for it) has gone.
  // By hand (`container cleanup`): `remove` removes it then (one its restart policy started again,
  // or that runs, stays), `removeImage` its image (an error when another container uses it).
  async cleanup(input: string, leaveDelete = false, after: { remove?: boolean; removeImage?: boolean } = {}): Promise<void> {
    let record: ContainerRecord;
    try {
      record = this.store.find(input);
    } catch (error) {
      if (after.remove || after.removeImage) throw error;
      return;
    }
    const outcome = await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id);
      return current ? this.finishLocked(current, { restart: true, leaveDelete }) : 'removed';
    });
    if (after.remove && outcome === 'done') await this.remove(record.id);
    if (after.removeImage)
      await this.images.remove([record.image], {}).then((reports) => {
        const failed = reports.find((r) => r.error);
        if (failed?.error) throw failed.error;
      });
  }

  // Sends the stop signal, then SIGKILL after `timeout` seconds; returns once it has exited.
  // `byUser` false: a healthcheck's action, which a unit must see as the container's failure.
  async stop(input: string, timeoutSeconds?: number, byUser = true): Promise<ContainerRecord> {
    const record = this.store.find(input);
    await this.store.withContainerLock(record.id, async () => {
      const state = this.reconcileLocked(record.id);
      if (!isLive(state)) {
        // It may have just exited on its own, its monitor's clean-up still to come: that one must
        // not bring it back under its restart policy.
        this.store.transition(record.id, { kind: 'stopped-by-user' });
        await this.finishLocked(record, { restart: false });
        return;
      }
      this.store.transition(record.id, { kind: 'stopped-by-user', stopping: true });
      const watch = await this.watchEnd(record.id);
      let cleaned = false;
      try {
        if (byUser) this.endAsked(state);
        const runtime = this.runtime(record);
        // (An initialized container's process cannot act on a stop signal: it never started.)
        const timeout = state.status === 'initialized' ? 0 : (timeoutSeconds ?? record.config.stopTimeout);
        await killContainer(runtime, record.id, record.config.stopSignal).catch(() => undefined);
        await this.thaw(record, state);
        if (!(await this.waitForExit(record.id, timeout * 1000, watch))) {
          await this.killNow(record, this.store.effectiveState(record.id, true));
          if (!(await this.waitForExit(record.id, 10_000, watch))) throw new CliError('ESTATE', `container ${record.name} did not exit after SIGKILL`);
        }
        // (A container whose monitor died has no one else to end it: its runtime state goes too.)
        await this.reapLocked(record, this.store.effectiveState(record.id, true));
        await this.finishLocked(record, { restart: false });
        cleaned = true;
      } finally {
        watch?.hangUp(cleaned);
      }
    });
    return record;
  }

  async kill(input: string, signal = 'SIGKILL', byUser = true): Promise<ContainerRecord> {
    const record = this.store.find(input);
    const sig = parseSignal(signal);
    await this.store.withContainerLock(record.id, async () => {
      const state = this.reconcileLocked(record.id);
      if (!isRunning(state)) throw new CliError('ESTATE', `can only kill running containers: ${record.name} is ${state.status}`);
      if (sig.number === 9 || sig.number === 15) this.store.transition(record.id, { kind: 'stopped-by-user' });
      if (byUser && (sig.number === 9 || sig.number === 15)) this.endAsked(state);
      await killContainer(this.runtime(record), record.id, sig.name);
      if (sig.number !== 19 && sig.number !== 20) await this.thaw(record, state);
    });
    return record;
  }

  // Tells the container's monitor that its end is asked for (SIGUSR1): it then exits 0, not with
  // the container's code, so that a systemd unit whose main process it is sees a clean stop.
  private endAsked(state: ContainerState): void {
    if (isAlive(state.monitorPid, state.monitorStartTime)) signalQuietly(state.monitorPid, 'SIGUSR1');
  }

  async restart(input: string, timeoutSeconds?: number, byUser = true): Promise<ContainerRecord> {
    await this.stop(input, timeoutSeconds, byUser);
    return this.start(input);
  }

  // Removes a container; a running one only with force (killed first). `dependents` (rm's): the
  // containers that depend on it are refused (Podman's rm) or removed first (rm --depend); absent,
  // not looked at. Returns what it removed, dependents first. Then (once per process) what killed
  // commands left of containers they never recorded.
  async remove(input: string, options: { force?: boolean; volumes?: boolean; dependents?: 'refuse' | 'remove' } = {}): Promise<ContainerRecord[]> {
    let record: ContainerRecord;
    try {
      record = this.store.find(input);
    } catch (error) {
      this.sweep();
      throw error;
    }
    const removed: ContainerRecord[] = [];
    const dependents = options.dependents ? this.dependents(record) : [];
    if (dependents.length && options.dependents === 'refuse')
      throw new CliError(
        'ESTATE',
        `container ${record.name} has dependent containers which must be removed before it: ${dependents.map((d) => d.name).join(', ')}; remove them first, or use --depend`,
      );
    for (const dependent of dependents) removed.push(...(await this.remove(dependent.id, options)));
    await this.removeOne(record, options);
    this.sweep();
    return [...removed, record];
  }

  // The containers that use this one's namespaces or mounts: --network, --ipc, --pid or --uts
  // container:X, or --volumes-from X.
  dependents(record: ContainerRecord): ContainerRecord[] {
    const isIt = (mode: string | undefined): boolean => {
      if (!mode?.startsWith('container:')) return false;
      try {
        return this.store.find(mode.slice('container:'.length)).id === record.id;
      } catch {
        return false;
      }
    };
    return this.store
      .list()
      .filter((other) => {
        if (other.id === record.id) return false;
        const c = other.config;
        const ns = c.sharedNamespaces ?? {};
        return isIt(c.network) || isIt(ns.ipc) || isIt(ns.pid) || isIt(ns.uts) || (c.volumesFrom ?? []).includes(record.id);
      })
      .sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  }

  // Of `inputs` (names or ids), those that may be removed all at once (rm -a): named once, found,
  // and neither depending on another container (--network, --ipc, --pid, --uts container:X,
  // --volumes-from) nor depended on. The others go one by one, dependents first.
  independent(inputs: string[]): Set<string> {
    const linked = new Set<string>();
    const records = this.store.list();
    for (const other of records) {
      const c = other.config;
      const ns = c.sharedNamespaces ?? {};
      const on = [c.network, ns.ipc, ns.pid, ns.uts].filter((m) => m?.startsWith('container:')).map((m) => m!.slice('container:'.length));
      for (const target of [...on, ...(c.volumesFrom ?? [])]) {
        linked.add(other.id);
        try {
          linked.add(this.store.find(target).id);
        } catch {
          // gone
        }
      }
    }
    const known = new Set(records.map((r) => r.id));
    const named = new Map<string, string[]>();
    for (const input of inputs) {
      try {
        const id = known.has(input) ? input : this.store.find(input).id;
        named.set(id, [...(named.get(id) ?? []), input]);
      } catch {
        // not found: that one's error comes in its turn
      }
    }
    return new Set([...named].filter(([id, names]) => names.length === 1 && !linked.has(id)).map(([, names]) => names[0]));
  }

  private swept = false;

  // The name links, runtime dirs, monitors, sockets and network namespaces of containers whose
  // `run` was killed before it recorded them (no container, no lock held on the id).
  private sweep(): void {
    if (this.swept) return;
    this.swept = true;
    this.store.sweepTemps();
    this.store.sweepNames();
    for (const id of this.store.strayRuntimeIds()) {
      const monitor = readPidFile(this.store.monitorPidFile(id));
      try {
        if (monitor && readFileSync(`/proc/${monitor}/cmdline`, 'utf8').includes(`--cid\0${id}\0`)) signalQuietly(monitor, 'SIGKILL');
      } catch {
        // gone
      }
      this.networking.releaseNetns(id);
      this.removeSockets(id);
      rmSync(this.store.slirpSocketPath(id), { force: true });
      rmSync(this.store.runtimeDir(id), { recursive: true, force: true });
      rmSync(this.store.notifyDir(id), { recursive: true, force: true });
    }
    // A pasta that was slow to start writes its pid file beside a namespace its monitor (or the
    // launcher's watcher) has already released; a CLI killed before its watcher ran leaves its spare.
    const netnsDir = dirname(this.store.netnsPath('x'));
    sweepSpares(netnsDir);
    for (const file of listDir(netnsDir)) {
      const id = /^([a-f0-9]{64})\.(pid|adopted)$/.exec(file)?.[1];
      if (id && !existsSync(join(netnsDir, id)) && !existsSync(join(netnsDir, `${id}.spare`))) rmSync(join(netnsDir, file), { force: true });
    }
  }

  private async removeOne(record: ContainerRecord, options: { force?: boolean; volumes?: boolean }): Promise<void> {
    await this.store.withContainerLock(record.id, async () => {
      if (!this.store.get(record.id)) return;
      const state = this.reconcileLocked(record.id);
      let watch: EndWatch | undefined;
      let cleaned = false;
      try {
        if (isRunning(state)) {
          if (!options.force) throw new CliError('ESTATE', `cannot remove container ${record.name}: it is running; stop it first or use --force`);
          this.store.transition(record.id, { kind: 'stopped-by-user' });
          watch = await this.watchEnd(record.id);
          this.endAsked(state);
          await this.killNow(record, state);
          if (!(await this.waitForExit(record.id, 10_000, watch))) throw new CliError('ESTATE', `container ${record.name} did not exit after SIGKILL`);
        }
        // Whatever the record says, nothing of the container outlives it: a process or a monitor a
        // killed command left, and the runtime's record of it (its monitor deletes that, told
        // first: this id is never used again).
        await this.reapLocked(record, this.store.effectiveState(record.id, true));
        watch?.leaveDelete();
        const outcome = await this.finishLocked(
          { ...record, config: { ...record.config, autoRemove: false } },
          { restart: false, leaveDelete: watch !== undefined },
        );
        if (outcome !== 'removed') await this.removeLocked(record, options.volumes === true);
        cleaned = true;
      } finally {
        watch?.hangUp(cleaned);
      }
    });
  }

  // A connection to the container's monitor before its end is asked for: see watchEnd in
  // monitor/attach.ts (none when it does not listen: then its exit command cleans up too).
  private async watchEnd(id: string): Promise<EndWatch | undefined> {
    const { watchEnd } = await import('../monitor/attach.js');
    return watchEnd(this.store.socketPath(id));
  }

  // SIGKILL, to the container's process itself where it is the recorded one and the first of a
  // pid namespace of its own (what the runtime's kill does then, without starting the runtime),
  // else through the runtime.
  private async killNow(record: ContainerRecord, state: ContainerState): Promise<void> {
    if (!record.config.sharedNamespaces?.pid && isAlive(state.pid, state.pidStartTime)) signalQuietly(state.pid, 'SIGKILL');
    else await killContainer(this.runtime(record), record.id, 'SIGKILL').catch(() => undefined);
  }

  // `volumes`: its anonymous volumes go too (rm -v, --rm), unless another container mounts one.
  private async removeLocked(record: ContainerRecord, volumes = record.config.autoRemove): Promise<void> {
    // (Mounted by the user too: those mounts go with it.)
    this.rootfs(record.rootfsDriver).unmount(record.id, this.store.containerDir(record.id), true);
    rmSync(userMountFile(this.ctx.paths.run, record.id), { force: true });
    unmountOverlays(this.rootfs(record.rootfsDriver), this.store.containerDir(record.id), record.config.mounts ?? []);
    // (A container whose monitor died before it ran still has its network namespace.)
    this.networking.releaseNetns(record.id);
    this.removeSockets(record.id);
    this.store.remove(record);
    this.event(record, 'remove');
    for (const m of memberships(record.config)) this.networking.refreshHosts(m.network);
    // Under the volumes lock, against a create that would take one of them up meanwhile.
    const anonymous = (record.config.mounts ?? []).filter((m) => m.anonymous);
    if (volumes && anonymous.length)
      await this.ctx.volumes.withLock(async () => {
        const users = volumeUsers(this.store.list());
        for (const m of anonymous) if (!users.has(m.source)) this.ctx.volumes.remove(m.source);
      });
  }

  // A free address on a named network (caller holds the networks lock).
  // Waits for one of the conditions ("stopped"/"exited", "running", "created"); returns the exit code.
  async wait(input: string, conditions: string[] = ['stopped'], intervalMs = 50): Promise<number> {
    const record = this.store.find(input);
    const wanted = new Set(conditions.map((c) => (c === 'stopped' ? 'exited' : c)));
    for (const c of wanted)
      if (!['exited', 'running', 'created', 'initialized'].includes(c))
        throw new CliError('EUSAGE', `invalid wait condition "${c}": use stopped, exited, running, created or initialized`);
    for (;;) {
      if (!this.store.get(record.id)) {
        const exit = this.store.readExit(record.id);
        if (exit) return exit.exitCode;
        throw new CliError('ENOCONTAINER', `no such container: ${input}`);
      }
      const state = this.store.effectiveState(record.id);
      const status = state.status === 'stopping' ? 'running' : state.status;
      if (wanted.has(status)) return state.exitCode ?? 0;
      await sleep(intervalMs);
    }
  }

  // `healthcheck run`: the container's check, run now (the monitor runs it every interval): its
  // result recorded (container-health.ts), a health_status event, and the action asked for when
  // the container is unhealthy.
  async healthcheck(input: string): Promise<HealthState> {
    const record = this.store.find(input);
    const check = record.config.healthcheck;
    if (!check) throw new CliError('EUSAGE', `container ${record.name} has no healthcheck: create it with --health-cmd, or from an image with a HEALTHCHECK`);
    const state = this.store.effectiveState(record.id);
    if (state.status !== 'running')
      throw new CliError('ESTATE', `container ${record.name} is not running (${state.status}): only a running container is checked`);
    if (this.withPaused(record, state).paused) throw new CliError('ESTATE', `container ${record.name} is paused: unpause it to check it`);
    const start = new Date();
    const result = await execCaptured(this.store, record, this.runtime(record), state, healthArgv(check), check.timeoutMs, OUTPUT_KEPT);
    const health = await recordHealth(this.store, record, state, check, result, start);
    if (!health) throw new CliError('ESTATE', `container ${record.name} ended (or started again) while it was being checked: nothing recorded`);
    this.event(record, 'health_status', { Attributes: { health_status: health.Status } });
    if (health.Status === 'unhealthy' && check.onFailure !== 'none') {
      log.debug(`healthcheck: ${record.name} is unhealthy: ${check.onFailure}`);
      // (Not the user's asking: a unit running it sees it fail, and its Restart= may act.)
      if (check.onFailure === 'kill') await this.kill(record.id, 'SIGKILL', false);
      else if (check.onFailure === 'stop') await this.stop(record.id, undefined, false);
      else await this.restart(record.id, undefined, false);
    }
    return health;
  }

  // `exec`: see container-exec.ts.
  async exec(input: string, options: ExecOptions): Promise<number> {
    const record = this.store.find(input);
    return execInContainer(this.store, record, this.runtime(record), this.store.effectiveState(record.id), options);
  }

  // Runs `fn` with the container's root filesystem mounted (counted: a running container's mount
  // is shared, a stopped one is mounted for the call). Caller has joined the user namespace.
  async withRootfs<T>(input: string, fn: (rootfs: string, record: ContainerRecord, upper: string | undefined) => Promise<T>): Promise<T> {
    const record = this.store.find(input);
    const dir = this.store.containerDir(record.id);
    const rootfs = this.rootfs(record.rootfsDriver);
    const own = record.config.rootfs && !record.config.rootfs.overlay ? record.config.rootfs.path : undefined;
    const mountpoint = own ?? (await this.store.withContainerLock(record.id, () => rootfs.mount(record.id, { dir, lowers: this.lowers(record) })));
    const upper = record.rootfsDriver === 'copy' ? undefined : join(dir, 'upper');
    try {
      return await fn(mountpoint, record, upper);
    } catch (error) {
      throw inContainerTerms(error, upper ? [mountpoint, upper] : [mountpoint], record.name);
    } finally {
      await this.store.withContainerLock(record.id, async () => rootfs.unmount(record.id, dir));
    }
  }

  async rename(input: string, name: string): Promise<ContainerRecord> {
    const record = this.store.find(input);
    return this.store.withContainerLock(record.id, async () => this.store.rename(this.store.get(record.id) ?? record, name));
  }

  // Removes every container that is not running (and that `match`es): rounds until one removes
  // nothing, as one that others depend on goes only after them.
  async prune(match: (row: ContainerRow) => boolean = () => true): Promise<ContainerRecord[]> {
    const removed: ContainerRecord[] = [];
    for (let progress = true; progress; ) {
      progress = false;
      for (const row of this.list()) {
        if (isLive(row.state) || !match(row)) continue;
        try {
          removed.push(...(await this.remove(row.record.id, { dependents: 'refuse' })));
          progress = true;
        } catch {
          // started meanwhile, removed by someone else, or others depend on it
        }
      }
    }
    return removed;
  }
}
