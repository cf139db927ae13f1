// Containers: create, start (through skiff-monitor and the OCI runtime), stop, kill, remove, wait,
// cleanup (the monitor's exit command), exec, and the reports ps/inspect/logs read. Every change
// holds the container's lock; reads take none and correct state.json with the monitor's word.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { cgroupVersion } from '../cgroups/detect.js';
import { CliError, messageOf } from '../errors.js';
import { resolveUser } from '../oci/passwd.js';
import { generateSpec } from '../oci/spec.js';
import { deleteContainer, killContainer, knowsContainer, resolveRuntime, runtimeCommand, startContainer, type OciRuntime } from '../runtime/runtime.js';
import { startTimeOf } from '../rootless/enter.js';
import { memberships, type ContainerRecord, type ContainerState, type ContainerStore, type NetworkAttachment } from '../state/containers.js';
import { recordEvent } from '../state/events.js';
import { isAlive, readPidFile } from '../state/liveness.js';
import { randomId, randomName } from '../state/names.js';
import { checkName } from '../util/names.js';
import { Rootfs, rootfsDriver, type RootfsDriver } from '../storage/rootfs.js';
import { findHelperBinary, requireHelperBinary } from '../util/exec.js';
import type { PortMapping } from '../network/ports.js';
import { publishPorts, SLIRP_DNS, SLIRP_GATEWAY, slirpHelperArgs } from '../network/slirp.js';
import { PASTA_DNS, pastaAddresses, pastaHelperArgs } from '../network/pasta.js';
import { adoptedPasta, discardSpareNetwork, sweepSpares, keepSpareTemplate, takeSpareNetwork, type SpareNetwork } from '../network/spare.js';
import { defaultNetwork } from '../network/backend.js';
import { etcHosts, resolvConf } from '../network/etc.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import type { Lock } from '../util/lock.js';
import { log } from '../util/log.js';
import { MNT_DETACH, native } from '../util/native.js';
import { exitCodeForRuntimeError, launchMonitor, type MonitorLaunch } from '../monitor/monitor.js';
import { buildContainerConfig, expandEnv, mergeEnv, type CreateOptions } from './container-config.js';
import { inContainerTerms } from './container-paths.js';
import { withStoreLock, type EngineContext } from './context.js';
import type { ImagesEngine } from './images.js';
import type { PullEvent } from '../image/pull.js';

export interface StartHooks {
  /** Runs after the container exists and before its process starts (attach here: no output is lost). */
  beforeStart?: (socketPath: string) => Promise<void>;
}

export interface ExecOptions {
  command: string[];
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  /** Receives the runtime's and the command's standard error (the caller prints it). */
  stderr?: (chunk: Buffer) => void;
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

const readdirIfAny = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

// Sends a signal to a process that may be gone already.
const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch {
    // gone
  }
};

// A container's monitor, launched and waiting for its go.
interface Launched {
  monitor: MonitorLaunch;
  /** The monitor starts the container itself (nothing to do between create and start). */
  monitorStarts: boolean;
  /** Ports slirp4netns publishes once the container exists. */
  viaSlirp: PortMapping[];
}

// A launched monitor told to create nothing: it undoes its set-up (pasta's namespace) and ends.
const cancelLaunch = async (launched: Launched | undefined): Promise<void> => {
  launched?.monitor.abort();
  await launched?.monitor.finish().catch(() => undefined);
};

export class ContainersEngine {
  private readonly store: ContainerStore;

  constructor(
    private readonly ctx: EngineContext,
    private readonly images: ImagesEngine,
  ) {
    this.store = ctx.containers;
  }

  private rootfs(driver: string): Rootfs {
    return new Rootfs(driver as RootfsDriver, join(this.ctx.paths.run, 'mounts'));
  }

  // The image's layer directories under a container's root, lowest first.
  lowers(record: ContainerRecord): string[] {
    return record.layers.map((l) => this.ctx.layers.diffPath(l));
  }

  private runtime(record: ContainerRecord): OciRuntime {
    return resolveRuntime(record.runtime, this.ctx.paths.run);
  }

  eventsFile(): string {
    return join(this.ctx.paths.data, 'events.log');
  }

  private event(record: ContainerRecord, status: string, extra: { ContainerExitCode?: number } = {}): void {
    recordEvent(this.eventsFile(), { Type: 'container', Status: status, ID: record.id, Name: record.name, Image: record.image, ...extra });
  }

  find(input: string): ContainerRecord {
    return this.store.find(input);
  }

  list(): { record: ContainerRecord; state: ContainerState }[] {
    return this.store.list().map((record) => ({ record, state: this.store.effectiveState(record.id) }));
  }

  state(id: string): ContainerState {
    return this.store.effectiveState(id);
  }

  logPath(record: ContainerRecord): string {
    return this.store.logPath(record.id);
  }

  // Creates a container (pulling its image when missing). Caller has joined the user namespace.
  // `startNext`: start() follows at once (`run`), so the container gets its monitor before its
  // files are written (the monitor's start, and pasta's, ~20 ms, where pasta sets up the network,
  // overlap them), and start() takes the monitor up; its record is flushed to disk while the
  // runtime starts it (start() does that), not here.
  async create(options: CreateOptions, onPull?: (event: PullEvent) => void, startNext = false): Promise<ContainerRecord> {
    log.debug('create: start');
    // A name that cannot be used fails before anything is pulled, launched or written.
    if (options.name) checkName('container', options.name);
    const runtime = resolveRuntime(options.runtime ?? this.ctx.config.engine.runtime, this.ctx.paths.run);
    let image = options.pull === 'always' ? undefined : this.lookupImage(options.image, options.pull === 'never');
    if (!image) image = (await this.images.pull(options.image, {}, onPull)).image;
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
        ...(options.publishAll ? exposedMappings(this.ctx.images.config(image.id).config?.ExposedPorts) : []),
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
    const found = this.images.resolve(image.id);
    const config = buildContainerConfig(options, this.ctx.images.config(found.id), id, {
      network: defaultNetwork(this.ctx.config.network.backend),
      ports,
      named: (name) => this.ctx.networks.get(name) !== undefined,
    });
    const driver = rootfsDriver(this.ctx.paths.run, this.ctx.paths.data, this.ctx.config.storage.rootfs);
    const record: ContainerRecord = {
      id,
      name: '',
      created: new Date().toISOString(),
      image: found.names.includes(options.image) ? options.image : (found.names[0] ?? found.id),
      imageId: found.id,
      imageName: found.names[0] ?? '',
      layers: found.layers,
      rootfsDriver: driver,
      runtime: runtime.path,
      config,
    };
    let lock: Lock | undefined;
    try {
      // The lock first: files of a container being made (its runtime dir, its monitor) are never
      // taken for a killed command's leftovers (see sweep).
      lock = await this.store.lock(id);
      if (startNext && !config.namedNetwork) this.launched.set(id, await this.launch(record));
      record.name = this.reserveName(options.name, id);
      return await withStoreLock(this.ctx, false, async () => {
        this.images.resolve(found.id);
        const commit = () => {
          this.store.commit(record, (dir) => this.rootfs(driver).prepare({ dir, lowers: this.lowers(record) }), !startNext);
          if (startNext) this.unpersisted.add(id);
        };
        // An address on a named network: the lowest one no container on it has (under the networks lock).
        if (config.namedNetwork) {
          const more = [...new Set(options.moreNetworks ?? [])].filter((n) => n !== config.network);
          await this.ctx.networks.withLock(async () => {
            const network = this.ctx.networks.find(config.network);
            config.networkIp = this.allocate(network.name);
            config.extraNetworks = more.map((name, i) => ({ network: this.ctx.networks.find(name).name, ip: this.allocate(name), aliases: config.aliases ?? [], device: `eth${i + 1}` }));
            commit();
          });
          for (const m of memberships(config)) this.refreshHosts(m.network);
        } else {
          commit();
        }
        this.event(record, 'create');
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

  // Starts a created or exited container; a running one is left as it is.
  async start(input: string, hooks: StartHooks = {}): Promise<ContainerRecord> {
    const record = this.store.find(input);
    return this.withLock(record.id, async () => {
      const current = this.store.get(record.id);
      if (!current) throw new CliError('ENOCONTAINER', `no such container: ${input}`);
      if (isRunning(this.reconcileLocked(record.id))) return current;
      await this.startLocked(current, hooks);
      return current;
    });
  }

  // The container's state as effectiveState finds it, written back when a killed command had left
  // state.json behind the truth (caller holds the lock).
  private reconcileLocked(id: string): ContainerState {
    const recorded = this.store.state(id);
    const state = this.store.effectiveState(id, true);
    const stale = recorded.launching || (recorded.status === 'stopping' && state.status === 'running') || (state.monitorLost && !recorded.monitorLost) || (state.pid && state.pid !== recorded.pid);
    if (stale && isRunning(state)) this.store.writeState(id, state);
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
    if (isAlive(pid, pidStart)) signal(pid, 'SIGKILL');
    // Its monitor writes the exit file once the process is gone; then only its clean-up (which
    // waits for this lock) is left, and the monitor's end does not stop that.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (isAlive(pid, pidStart) || (monitor && isAlive(monitor, state.monitorStartTime) && !existsSync(this.store.exitFile(record.id))))) await sleep(10);
    if (monitor && isAlive(monitor, state.monitorStartTime)) signal(monitor, 'SIGKILL');
  }

  private async startLocked(record: ContainerRecord, hooks: StartHooks): Promise<void> {
    if (record.damaged) throw new CliError('ESTATE', `container ${record.name} lost its record (container.json) in a crash and cannot start: remove it with \`skiff rm ${record.name}\``);
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
      launched ??= await this.launch(record);
      const { monitor, monitorStarts, viaSlirp } = launched;
      const mountpoint = await rootfs.mount(record.id, { dir, lowers: this.lowers(record) }, record.config.autoRemove);
      log.debug('start: mounted');
      this.writeBundle(record, mountpoint);
      log.debug('start: bundle written');
      if (monitorStarts && hooks.beforeStart) {
        if (!(await monitor.listening())) await monitor.finish(); // throws what went wrong
        await hooks.beforeStart(this.store.socketPath(record.id));
      }
      // Recorded before the go: if this CLI dies from now on, the monitor's files tell what became
      // of the start (effectiveState), and stop/rm find the monitor.
      const monitorStartTime = startTimeOf(monitor.pid);
      this.store.writeState(record.id, { ...state, launching: true, monitorPid: monitor.pid, monitorStartTime, pid: 0, pidStartTime: undefined, monitorLost: undefined });
      monitor.proceed();
      this.persistCreated(record.id);
      const started = await monitor.finish();
      log.debug('start: monitor reported');
      // (Still under way when this CLI starts the container itself: killed before that, it leaves
      // a created container, which effectiveState then reports as such.)
      const running: ContainerState = { ...state, status: 'running', pid: started.pid, pidStartTime: startTimeOf(started.pid), monitorPid: started.monitorPid, monitorStartTime, launching: monitorStarts ? undefined : true, monitorLost: undefined, startedAt: new Date().toISOString(), stoppedByUser: false, exitCode: undefined, finishedAt: undefined, error: undefined };
      this.store.writeState(record.id, running);
      try {
        if (!monitorStarts) {
          if (viaSlirp.length) await publishPorts(this.store.slirpSocketPath(record.id), viaSlirp);
          const joined = memberships(record.config);
          if (joined.length) {
            const { attach } = await import('../network/bridge.js');
            for (const m of joined) await attach(this.ctx.paths.run, this.ctx.networks.find(m.network), this.ctx.networks.list(), record.id, started.pid, m.ip, m.device);
          }
          await hooks.beforeStart?.(this.store.socketPath(record.id));
          await startContainer(runtime, record.id);
          this.store.writeState(record.id, { ...running, launching: undefined });
        }
      } catch (error) {
        await killContainer(runtime, record.id, 'SIGKILL').catch(() => undefined);
        await this.waitForExit(record.id, 5000);
        throw error;
      }
      this.event(record, 'start');
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

  private persistCreated(id: string): void {
    if (this.unpersisted.delete(id)) this.store.persist(id);
  }

  private takeLaunched(id: string): Launched | undefined {
    const launched = this.launched.get(id);
    this.launched.delete(id);
    return launched;
  }

  // Starts the container's monitor, which sets up (pasta's start above all) and then waits for its
  // go: the caller mounts the root and writes the bundle meanwhile.
  private async launch(record: ContainerRecord): Promise<Launched> {
    const runtime = this.runtime(record);
    const dir = this.store.containerDir(record.id);
    const runDir = this.store.runtimeDir(record.id);
    // (A new container has none: Node's recursive rm is a module of its own to load.)
    if (existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    mkdirSync(join(this.ctx.paths.run, 'sock'), { recursive: true });
    const network = record.config.network;
    const slirp = network === 'slirp4netns' ? requireHelperBinary('slirp4netns', 'slirp4netns') : undefined;
    const pasta = network === 'pasta' ? requireHelperBinary('pasta', 'passt') : undefined;
    const slirpSocket = this.store.slirpSocketPath(record.id);
    if (slirp) rmSync(slirpSocket, { force: true });
    // pasta forwards published TCP ports itself (keeping a remote client's address). The monitor
    // forwards the rest over IPv4 (socket to socket, fast, and UDP replies come back: Debian 12's
    // pasta loses replies to loopback clients), slirp4netns the IPv6 host addresses.
    const ports = record.config.ports ?? [];
    const viaPasta = pasta ? ports.filter((p) => p.protocol === 'tcp') : [];
    // The launcher's spare network, when create() found it fit; else the launcher's next spare
    // is made to fit.
    const adopted = this.spare?.id === record.id ? this.spare : undefined;
    if (pasta && !adopted && !viaPasta.length) keepSpareTemplate(this.ctx.paths.run, pasta);
    if (pasta && !adopted) {
      this.releaseNetns(record.id);
      mkdirSync(dirname(this.store.netnsPath(record.id)), { recursive: true });
    }
    const pastaPidFile = adopted?.pidFile ?? join(runDir, 'pasta.pid');
    const forwarded = ports.filter((p) => !viaPasta.includes(p) && !p.hostIp.includes(':'));
    const viaSlirp = slirp ? ports.filter((p) => !viaPasta.includes(p) && !forwarded.includes(p)) : [];
    // With nothing to do between create and start (no named network, no slirp4netns forwarding
    // to set up), the monitor starts the container itself (one `run --detach` where it can): an
    // attaching caller connects before the monitor goes ahead, and gets all the output.
    const monitorStarts = !viaSlirp.length && !memberships(record.config).length;
    const monitor = await launchMonitor({
      id: record.id,
      runtimePath: runtime.path,
      runtimeArgs: runtime.globalArgs,
      bundle: join(dir, 'bundle'),
      pidFile: join(runDir, 'pidfile'),
      logPath: this.store.logPath(record.id),
      logSizeMax: record.config.logSizeMax ?? 10_000_000,
      exitFile: this.store.exitFile(record.id),
      socketPath: this.store.socketPath(record.id),
      monitorPidFile: join(runDir, 'monitor.pid'),
      terminal: record.config.tty,
      stdin: record.config.interactive,
      exitCommand: this.cleanupCommand(record.id),
      netHelper: slirp ? [slirp, ...slirpHelperArgs(slirpSocket)] : pasta ? [pasta, ...pastaHelperArgs(viaPasta, pastaPidFile)] : undefined,
      netNsPath: pasta ? this.store.netnsPath(record.id) : undefined,
      netHelperPidFile: pasta ? pastaPidFile : undefined,
      netHelperPorts: viaPasta.length > 0,
      netHelperAdopt: adopted?.pasta,
      publish: forwarded.map((p) => ({ protocol: p.protocol, spec: `${p.hostIp},${p.hostPort},${p.containerPort}` })),
      start: monitorStarts,
    });
    log.debug(adopted ? "start: monitor launched, with the launcher's pasta" : 'start: monitor launched');
    return { monitor, monitorStarts, viaSlirp };
  }

  // The command the monitor runs when the container exits: this same skiff, same stores.
  private cleanupCommand(id: string): string[] {
    const entry = process.argv[1];
    return [process.execPath, ...process.execArgv, entry, '--root', this.ctx.paths.data, '--runroot', this.ctx.paths.run, 'container', 'cleanup', id];
  }

  private writeBundle(record: ContainerRecord, rootfs: string): void {
    const dir = this.store.containerDir(record.id);
    const userdata = join(dir, 'userdata');
    const c = record.config;
    writeFileSync(join(userdata, 'hostname'), `${c.hostname}\n`);
    writeFileSync(join(userdata, 'hosts'), this.hostsFor(record));
    // Sharing another container's network means sharing its name servers too. Named networks ask
    // skiff-dns at their gateway (container names, then upstream); slirp4netns answers at 10.0.2.3.
    const shared = c.network.startsWith('container:') ? this.store.find(c.network.slice('container:'.length)).config : c;
    const named = shared.namedNetwork ? this.ctx.networks.get(shared.network) : undefined;
    writeFileSync(join(userdata, 'resolv.conf'), resolvConf(c, shared.network === 'slirp4netns' ? SLIRP_DNS : shared.network === 'pasta' ? PASTA_DNS : named?.gateway));
    const init = c.init ? (findHelperBinary('catatonit') ?? findHelperBinary('tini-static') ?? findHelperBinary('tini')) : undefined;
    if (c.init && !init) throw new CliError('EHELPER', '--init needs catatonit or tini on the host: apt-get install catatonit');
    const user = resolveUser(rootfs, c.user);
    const spec = generateSpec({
      hostname: c.hostname,
      rootfs,
      args: [...c.entrypoint, ...c.cmd],
      env: user.home && !c.env.some((e) => e.startsWith('HOME=')) ? [...c.env, `HOME=${user.home}`] : c.env,
      cwd: c.workdir,
      user,
      terminal: c.tty,
      capAdd: c.capAdd,
      capDrop: c.capDrop,
      privileged: c.privileged,
      readOnly: c.readOnly,
      noNewPrivileges: c.noNewPrivileges,
      seccomp: c.seccomp,
      tmpfs: c.tmpfs,
      init,
      network: c.network === 'host' ? 'host' : c.network.startsWith('container:') ? { path: this.sharedNetns(c.network.slice('container:'.length)) } : c.network === 'pasta' ? { path: this.store.netnsPath(record.id) } : 'private',
      etcFiles: { '/etc/hostname': join(userdata, 'hostname'), '/etc/hosts': join(userdata, 'hosts'), '/etc/resolv.conf': join(userdata, 'resolv.conf') },
      cgroupV2: cgroupVersion() === 'v2',
      singleId: this.ctx.config.storage.userns === 'single',
      annotations: { 'io.skiff.name': record.name, 'io.skiff.image': record.image },
    });
    writeJsonAtomic(join(dir, 'bundle', 'config.json'), spec, 0o644, false);
  }

  // The file the monitor bound a pasta container's network namespace to: unmounted and removed.
  // A pasta the launcher started and the monitor adopted is stopped too (the monitor may have
  // died first), and the files beside the namespace go with it.
  private releaseNetns(id: string): void {
    const path = this.store.netnsPath(id);
    if (!existsSync(path)) return;
    const pasta = adoptedPasta(path);
    if (pasta) process.kill(pasta, 'SIGTERM');
    for (const suffix of ['pid', 'adopted']) rmSync(`${path}.${suffix}`, { force: true });
    try {
      native().umount(path, MNT_DETACH);
    } catch {
      // not mounted
    }
    rmSync(path, { force: true });
  }

  // --network container:NAME: the network namespace of that (running) container.
  private sharedNetns(input: string): string {
    const other = this.store.find(input);
    const state = this.store.effectiveState(other.id);
    if (state.status !== 'running' || !state.pid) throw new CliError('ESTATE', `--network container:${input}: that container is not running; start it first`);
    return `/proc/${state.pid}/ns/net`;
  }

  // Waits until the monitor has written the exit file (or died); false on timeout.
  private async waitForExit(id: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!isRunning(this.store.effectiveState(id, true))) return true;
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
    if (isRunning(effective)) return 'done';
    // (A start recorded as under way whose command was killed has ended too: what it set up goes.)
    const ended = isRunning(recorded) || recorded.launching === true || options.error !== undefined;
    // The runtime deletes its state while this process releases the rest (a stopped container's
    // root filesystem is the runtime's no more); both are done before a restart or a removal.
    // Of a container removed now (--rm), whose id nothing will use again, the runtime's delete
    // can be left to the monitor (`leaveDelete`): ~5 ms (a runtime call) less for `run --rm`.
    const leave = ended && options.leaveDelete === true && record.config.autoRemove;
    const deleting = ended && !leave ? deleteContainer(this.runtime(record), record.id).catch(() => undefined) : undefined;
    if (ended) {
      this.rootfs(record.rootfsDriver).unmount(record.id, this.store.containerDir(record.id));
      // slirp4netns has ended with the monitor's exit fd (its API socket stays behind), pasta with
      // the monitor's SIGTERM or its parent-death signal; the namespace file pasta was given is
      // the monitor's to remove, unless it died first.
      rmSync(this.store.slirpSocketPath(record.id), { force: true });
      this.releaseNetns(record.id);
      // The monitor removes its socket; one that died (or was killed) could not.
      this.removeSockets(record.id);
      rmSync(this.store.pidFile(record.id), { force: true });
      const neverRan = options.error !== undefined || (recorded.launching === true && effective.status !== 'exited');
      const final: ContainerState = {
        ...effective,
        launching: undefined,
        monitorLost: undefined,
        status: neverRan ? 'created' : 'exited',
        pid: 0,
        finishedAt: effective.finishedAt ?? new Date().toISOString(),
        error: options.error,
        ...(options.error !== undefined ? { exitCode: options.errorCode ?? 125 } : {}),
      };
      this.store.writeState(record.id, final);
      this.event(record, 'died', { ContainerExitCode: final.exitCode });
    }
    if (!ended && !options.restart) return 'done';
    if (record.config.autoRemove) {
      // The runtime's state (its directory, the cgroup) is not the container's files: they go meanwhile.
      this.removeLocked(record);
      await deleting;
      return 'removed';
    }
    await deleting;
    const state = this.store.state(record.id);
    if (options.restart && this.shouldRestart(record, state)) {
      this.store.writeState(record.id, { ...state, restartCount: state.restartCount + 1 });
      await this.startLocked(record, {});
      return 'restarted';
    }
    return 'done';
  }

  private removeSockets(id: string): void {
    for (const path of [this.store.socketPath(id), `${this.store.socketPath(id)}.console`]) rmSync(path, { force: true });
  }

  private shouldRestart(record: ContainerRecord, state: ContainerState): boolean {
    const policy = record.config.restartPolicy;
    if (state.stoppedByUser || state.error) return false;
    if (policy.name === 'always' || policy.name === 'unless-stopped') return true;
    if (policy.name === 'on-failure') return (state.exitCode ?? 0) !== 0 && (policy.maxRetries === 0 || state.restartCount < policy.maxRetries);
    return false;
  }

  // The monitor's exit command. A container removed meanwhile is not an error.
  // `leaveDelete`: the monitor runs the runtime's delete of a --rm container, once the caller (a
  // foreground `run --rm`, which so returns without waiting for it) has gone.
  async cleanup(input: string, leaveDelete = false): Promise<void> {
    let record: ContainerRecord;
    try {
      record = this.store.find(input);
    } catch {
      return;
    }
    await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id);
      if (current) await this.finishLocked(current, { restart: true, leaveDelete });
    });
  }

  // Sends the stop signal, then SIGKILL after `timeout` seconds; returns once it has exited.
  async stop(input: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    const record = this.store.find(input);
    await this.store.withContainerLock(record.id, async () => {
      const state = this.reconcileLocked(record.id);
      if (!isRunning(state)) {
        // It may have just exited on its own, its monitor's clean-up still to come: that one must
        // not bring it back under its restart policy.
        this.store.writeState(record.id, { ...this.store.state(record.id), stoppedByUser: true });
        await this.finishLocked(record, { restart: false });
        return;
      }
      this.store.writeState(record.id, { ...this.store.state(record.id), stoppedByUser: true, status: 'stopping' });
      const runtime = this.runtime(record);
      const timeout = timeoutSeconds ?? record.config.stopTimeout;
      await killContainer(runtime, record.id, record.config.stopSignal).catch(() => undefined);
      if (!(await this.waitForExit(record.id, timeout * 1000))) {
        await killContainer(runtime, record.id, 'SIGKILL').catch(() => undefined);
        if (!(await this.waitForExit(record.id, 10_000))) throw new CliError('ESTATE', `container ${record.name} did not exit after SIGKILL`);
      }
      // (A container whose monitor died has no one else to end it: its runtime state goes too.)
      await this.reapLocked(record, this.store.effectiveState(record.id, true));
      await this.finishLocked(record, { restart: false });
    });
    return record;
  }

  async kill(input: string, signal = 'SIGKILL'): Promise<ContainerRecord> {
    const record = this.store.find(input);
    const sig = parseSignal(signal);
    await this.store.withContainerLock(record.id, async () => {
      const state = this.reconcileLocked(record.id);
      if (!isRunning(state)) throw new CliError('ESTATE', `can only kill running containers: ${record.name} is ${state.status}`);
      if (sig.number === 9 || sig.number === 15) this.store.writeState(record.id, { ...this.store.state(record.id), stoppedByUser: true });
      await killContainer(this.runtime(record), record.id, sig.name);
    });
    return record;
  }

  async restart(input: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    await this.stop(input, timeoutSeconds);
    return this.start(input);
  }

  // Removes a container; a running one only with force (killed first). Then (once per process)
  // what killed commands left of containers they never recorded.
  async remove(input: string, options: { force?: boolean } = {}): Promise<ContainerRecord> {
    let record: ContainerRecord;
    try {
      record = this.store.find(input);
    } catch (error) {
      this.sweep();
      throw error;
    }
    await this.removeOne(record, options);
    this.sweep();
    return record;
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
        if (monitor && readFileSync(`/proc/${monitor}/cmdline`, 'utf8').includes(`--cid\0${id}\0`)) signal(monitor, 'SIGKILL');
      } catch {
        // gone
      }
      this.releaseNetns(id);
      this.removeSockets(id);
      rmSync(this.store.slirpSocketPath(id), { force: true });
      rmSync(this.store.runtimeDir(id), { recursive: true, force: true });
    }
    // A pasta that was slow to start writes its pid file beside a namespace its monitor (or the
    // launcher's watcher) has already released; a CLI killed before its watcher ran leaves its spare.
    const netnsDir = dirname(this.store.netnsPath('x'));
    sweepSpares(netnsDir);
    for (const file of readdirIfAny(netnsDir)) {
      const id = /^([a-f0-9]{64})\.(pid|adopted)$/.exec(file)?.[1];
      if (id && !existsSync(join(netnsDir, id)) && !existsSync(join(netnsDir, `${id}.spare`))) rmSync(join(netnsDir, file), { force: true });
    }
  }

  private async removeOne(record: ContainerRecord, options: { force?: boolean }): Promise<void> {
    await this.store.withContainerLock(record.id, async () => {
      if (!this.store.get(record.id)) return;
      const state = this.reconcileLocked(record.id);
      if (isRunning(state)) {
        if (!options.force)
          throw new CliError('ESTATE', `cannot remove container ${record.name}: it is running; stop it first or use --force`);
        this.store.writeState(record.id, { ...this.store.state(record.id), stoppedByUser: true });
        await killContainer(this.runtime(record), record.id, 'SIGKILL').catch(() => undefined);
        if (!(await this.waitForExit(record.id, 10_000))) throw new CliError('ESTATE', `container ${record.name} did not exit after SIGKILL`);
      }
      // Whatever the record says, nothing of the container outlives it: a process or a monitor a
      // killed command left, and the runtime's record of it.
      await this.reapLocked(record, this.store.effectiveState(record.id, true));
      const outcome = await this.finishLocked({ ...record, config: { ...record.config, autoRemove: false } }, { restart: false });
      if (outcome !== 'removed') this.removeLocked(record);
    });
  }

  private removeLocked(record: ContainerRecord): void {
    this.rootfs(record.rootfsDriver).unmount(record.id, this.store.containerDir(record.id), true);
    // (A container whose monitor died before it ran still has its network namespace.)
    this.releaseNetns(record.id);
    this.removeSockets(record.id);
    this.store.remove(record);
    this.event(record, 'remove');
    for (const m of memberships(record.config)) this.refreshHosts(m.network);
  }

  // A free address on a named network (caller holds the networks lock).
  private allocate(network: string): string {
    const used = this.store.list().flatMap((c) => memberships(c.config).filter((m) => m.network === network).map((m) => m.ip));
    return this.ctx.networks.allocate(this.ctx.networks.find(network), used);
  }

  // `network connect`: joins a container to one more named network (at once when it is running).
  async connect(input: string, network: string, aliases: string[] = []): Promise<void> {
    const record = this.store.find(input);
    const net = this.ctx.networks.find(network);
    await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id)!;
      const joined = memberships(current.config);
      if (joined.some((m) => m.network === net.name)) throw new CliError('ESTATE', `container ${current.name} is already on network ${net.name}`);
      if (!joined.length && current.config.network !== 'none')
        throw new CliError('ESTATE', `container ${current.name} uses --network ${current.config.network}: only containers on named networks (or none) can join more`);
      let attachment!: NetworkAttachment;
      await this.ctx.networks.withLock(async () => {
        attachment = { network: net.name, ip: this.allocate(net.name), aliases, device: `eth${joined.length}` };
        this.store.update({ ...current, config: { ...current.config, extraNetworks: [...(current.config.extraNetworks ?? []), attachment] } });
      });
      const state = this.store.effectiveState(record.id);
      if (isRunning(state) && state.pid) {
        const { attach, detach } = await import('../network/bridge.js');
        try {
          await attach(this.ctx.paths.run, net, this.ctx.networks.list(), record.id, state.pid, attachment.ip, attachment.device);
        } catch (error) {
          await detach(this.ctx.paths.run, net, record.id).catch(() => undefined);
          this.store.update(current);
          throw error;
        }
      }
    });
    this.refreshHosts(net.name);
  }

  // `network disconnect`: leaves a network joined with `network connect`.
  async disconnect(input: string, network: string): Promise<void> {
    const record = this.store.find(input);
    const net = this.ctx.networks.find(network);
    await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id)!;
      if (current.config.namedNetwork && current.config.network === net.name)
        throw new CliError('ESTATE', `network ${net.name} is container ${current.name}'s own network (--network): it cannot leave it; remove the container instead`);
      const extras = current.config.extraNetworks ?? [];
      if (!extras.some((m) => m.network === net.name)) throw new CliError('ESTATE', `container ${current.name} is not on network ${net.name}`);
      this.store.update({ ...current, config: { ...current.config, extraNetworks: extras.filter((m) => m.network !== net.name) } });
      const { detach } = await import('../network/bridge.js');
      await detach(this.ctx.paths.run, net, record.id);
    });
    this.refreshHosts(net.name);
    const after = this.store.get(record.id);
    if (after) this.writeHostsFile(after);
  }

  private writeHostsFile(record: ContainerRecord, all?: ContainerRecord[]): void {
    try {
      writeFileSync(join(this.store.containerDir(record.id), 'userdata', 'hosts'), this.hostsFor(record, all));
    } catch {
      // never started yet: written at start
    }
  }

  // A container's /etc/hosts: itself, its networks' other members, the host, --add-host. `all`:
  // every container, when the caller has read them already.
  private hostsFor(record: ContainerRecord, all?: ContainerRecord[]): string {
    const c = record.config;
    const joined = memberships(c);
    const mine = new Set(joined.map((m) => m.network));
    const peers = (joined.length ? (all ?? this.store.list()) : [])
      .filter((peer) => peer.id !== record.id)
      .flatMap((peer) => memberships(peer.config).filter((pm) => mine.has(pm.network)).map((pm) => ({ ip: pm.ip, names: [peer.name, ...pm.aliases, peer.id.slice(0, 12)] })));
    const outward = joined.some((m) => this.ctx.networks.get(m.network)?.internal === false);
    const host = c.network === 'slirp4netns' ? 'host-address' : c.network === 'pasta' ? pastaAddresses()?.gateway : outward ? SLIRP_GATEWAY : undefined;
    return etcHosts(c, record.name, peers, host);
  }

  // The containers on a named network (of `all`, when the caller has read them already).
  onNetwork(name: string, all = this.store.list()): ContainerRecord[] {
    return all.filter((c) => memberships(c.config).some((m) => m.network === name));
  }

  // Rewrites /etc/hosts of every container on a network so each knows the others by name, alias
  // and short id: written in place, since the file is bind-mounted into running containers.
  // The container list is read once for all of them.
  refreshHosts(network: string): void {
    const all = this.store.list();
    writeDnsHosts(this.ctx, all);
    for (const member of this.onNetwork(network, all)) this.writeHostsFile(member, all);
  }

  // Waits for one of the conditions ("stopped"/"exited", "running", "created"); returns the exit code.
  async wait(input: string, conditions: string[] = ['stopped'], intervalMs = 50): Promise<number> {
    const record = this.store.find(input);
    const wanted = new Set(conditions.map((c) => (c === 'stopped' ? 'exited' : c)));
    for (const c of wanted)
      if (!['exited', 'running', 'created'].includes(c)) throw new CliError('EUSAGE', `invalid wait condition "${c}": use stopped, exited, running or created`);
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

  // Runs a process in a running container through the runtime, with this process's stdio.
  async exec(input: string, options: ExecOptions): Promise<number> {
    const record = this.store.find(input);
    const state = this.store.effectiveState(record.id);
    if (!isRunning(state)) throw new CliError('ESTATE', `can only exec in running containers: ${record.name} is ${state.status}`);
    if (options.workdir !== undefined && !options.workdir.startsWith('/')) throw new CliError('EUSAGE', `invalid working directory ${JSON.stringify(options.workdir)}: it must be an absolute path`);
    const spec = JSON.parse(readFileSync(join(this.store.containerDir(record.id), 'bundle', 'config.json'), 'utf8')) as { process: Record<string, unknown>; root: { path: string } };
    const c = record.config;
    const user = options.user !== undefined ? resolveUser(spec.root.path, options.user) : undefined;
    const processSpec = {
      ...spec.process,
      terminal: Boolean(options.tty),
      args: options.command,
      env: mergeEnv(spec.process.env as string[], (options.env ?? []).flatMap(expandEnv)),
      cwd: options.workdir ?? c.workdir,
      ...(user ? { user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) } } : {}),
    };
    const file = join(this.store.runtimeDir(record.id), `exec-${randomId().slice(0, 12)}.json`);
    writeJsonAtomic(file, processSpec, 0o644, false);
    const runtime = this.runtime(record);
    const [bin, argv] = runtimeCommand(runtime, 'exec', [...(options.detach ? ['--detach'] : []), ...(options.tty ? ['--tty'] : []), '--process', file, record.id]);
    const { spawn } = await import('node:child_process');
    try {
      return await new Promise<number>((resolve) => {
        const child = spawn(bin, argv, { stdio: options.detach ? ['ignore', 'ignore', 'pipe'] : [options.interactive || options.tty ? 'inherit' : 'ignore', 'inherit', 'pipe'] });
        let tail = '';
        child.stderr!.on('data', (d: Buffer) => {
          options.stderr?.(d);
          tail = (tail + d.toString()).slice(-2000);
        });
        child.on('exit', (code, signal) => {
          // The runtime's own failure to run the command (not the command's exit) maps to 126/127.
          const failure = code !== 0 ? exitCodeForRuntimeError(tail) : 125;
          if (failure !== 125) return resolve(failure);
          resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 1) : 1));
        });
        child.on('error', () => resolve(125));
      });
    } finally {
      rmSync(file, { force: true });
    }
  }

  // Runs `fn` with the container's root filesystem mounted (counted: a running container's mount
  // is shared, a stopped one is mounted for the call). Caller has joined the user namespace.
  async withRootfs<T>(input: string, fn: (rootfs: string, record: ContainerRecord, upper: string | undefined) => Promise<T>): Promise<T> {
    const record = this.store.find(input);
    const dir = this.store.containerDir(record.id);
    const rootfs = this.rootfs(record.rootfsDriver);
    const mountpoint = await this.store.withContainerLock(record.id, () => rootfs.mount(record.id, { dir, lowers: this.lowers(record) }));
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

  // Removes every container that is not running.
  async prune(): Promise<ContainerRecord[]> {
    const removed: ContainerRecord[] = [];
    for (const { record, state } of this.list()) {
      if (isRunning(state)) continue;
      try {
        removed.push(await this.remove(record.id));
      } catch {
        // started meanwhile, or removed by someone else
      }
    }
    return removed;
  }
}

// skiff-dns's view of every named network: "CIDR IP NAME ALIAS... ID" per container and
// "internal CIDR" per internal network, replaced whole (it re-reads the file when it changes).
export const writeDnsHosts = (ctx: EngineContext, containers: ContainerRecord[]): void => {
  const networks = ctx.networks.list();
  const lines = networks.filter((n) => n.internal).map((n) => `internal ${n.subnet}`);
  for (const c of containers)
    for (const m of memberships(c.config)) {
      const network = networks.find((n) => n.name === m.network);
      if (network) lines.push(`${network.subnet} ${m.ip} ${[c.name, ...m.aliases, c.id.slice(0, 12)].join(' ')}`);
    }
  writeFileAtomic(join(ctx.paths.run, 'dns.hosts'), `${lines.join('\n')}\n`, 0o644, false);
};
