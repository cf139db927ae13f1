// Launching a container's monitor: what it runs (the OCI runtime, pasta or slirp4netns as network
// helper, the ports it forwards itself, the exit command), started before the bundle is written
// and held until its go.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { launchMonitor, type MonitorLaunch } from '../monitor/monitor.js';
import type { PortMapping } from '../network/ports.js';
import { networkMode } from '../network/modes.js';
import { keepSpareTemplate, type SpareNetwork } from '../network/spare.js';
import type { OciRuntime } from '../runtime/runtime.js';
import { memberships, type ContainerRecord } from '../state/containers.js';
import { requireHelperBinary } from '../util/exec.js';
import { log } from '../util/log.js';
import { startTimeOf } from '../util/proc.js';
import type { ContainerNetworks } from './container-networks.js';
import type { EngineContext } from './context.js';

// A container's monitor, launched and waiting for its go.
export interface Launched {
  monitor: MonitorLaunch;
  /** The monitor starts the container itself (nothing to do between create and start). */
  monitorStarts: boolean;
  /** Ports slirp4netns publishes once the container exists. */
  viaSlirp: PortMapping[];
  /** The monitor's start time (/proc), read as soon as it runs: later, while it sets the runtime up, the read waits on it. */
  monitorStartTime: string | undefined;
}

// A launched monitor told to create nothing: it undoes its set-up (pasta's namespace) and ends.
export const cancelLaunch = async (launched: Launched | undefined): Promise<void> => {
  launched?.monitor.abort();
  await launched?.monitor.finish().catch(() => undefined);
};

// Starts the container's monitor, which sets up (pasta's start above all) and then waits for its
// go: the caller mounts the root and writes the bundle meanwhile.
export const launch = async (
  ctx: EngineContext,
  networking: ContainerNetworks,
  record: ContainerRecord,
  runtime: OciRuntime,
  spare: SpareNetwork | undefined,
  preserveFds = 0,
  /** `init`: the monitor only creates the container; its start is left to a later `start`. */
  initOnly = false,
): Promise<Launched> => {
  const store = ctx.containers;
  const dir = store.containerDir(record.id);
  const runDir = store.runtimeDir(record.id);
  // (A new container has none: Node's recursive rm is a module of its own to load.)
  if (existsSync(runDir)) rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  mkdirSync(join(ctx.paths.run, 'sock'), { recursive: true });
  const mode = networkMode(record.config);
  const helper = mode.helper ? requireHelperBinary(mode.helper.binary, mode.helper.package) : undefined;
  const pasta = mode.kind === 'pasta' ? helper : undefined;
  const slirpSocket = store.slirpSocketPath(record.id);
  if (mode.kind === 'slirp4netns') rmSync(slirpSocket, { force: true });
  const ports = mode.planPorts(record.config.ports ?? []);
  // The launcher's spare network, when create() found it fit; else the launcher's next spare
  // is made to fit.
  const adopted = spare?.id === record.id ? spare : undefined;
  if (pasta && !adopted && !ports.viaHelper.length) keepSpareTemplate(ctx.paths.run, pasta);
  const joined = memberships(record.config);
  if ((pasta && !adopted) || joined.length) {
    networking.releaseNetns(record.id);
    mkdirSync(dirname(store.netnsPath(record.id)), { recursive: true });
  }
  const pastaPidFile = adopted?.pidFile ?? join(runDir, 'pasta.pid');
  const paths = { netnsPath: store.netnsPath(record.id), pastaPidFile, slirpSocket };
  const viaSlirp = ports.viaSlirpApi;
  // With nothing to do between create and start (no named network, no slirp4netns forwarding
  // to set up), the monitor starts the container itself (one `run --detach` where it can): an
  // attaching caller connects before the monitor goes ahead, and gets all the output.
  // On a named network the monitor makes the namespace and joins it to the bridge itself; only more
  // networks (run --network a --network b) are joined after the create, by the CLI.
  const monitorStarts = !initOnly && !viaSlirp.length && joined.length <= 1;
  let bridgeAttach: string | undefined;
  let publishVia: string | undefined;
  if (joined.length) {
    const bridge = await import('../network/bridge.js');
    const [first, all] = [ctx.networks.find(joined[0].network), ctx.networks.list()];
    bridgeAttach = await bridge.bridgeAttachSpec(ctx.paths.run, first, all, record.id, joined[0].ip, joined[0].mac);
    // Published ports are dialled from skiff's network namespace, to the container's address on
    // its bridge (keeping remote clients' addresses).
    if (ports.viaMonitor.length) publishVia = await bridge.publishVia(ctx.paths.run, first, all, joined[0].ip);
  }
  const notify = notifyPlan(ctx, record);
  if (notify?.proxy) {
    // (Anything a container of this id left there before goes: the monitor binds a new socket.)
    rmSync(dirname(notify.proxy), { recursive: true, force: true });
    mkdirSync(dirname(notify.proxy), { recursive: true, mode: 0o755 });
  }
  const monitor = await launchMonitor({
    id: record.id,
    runtimePath: runtime.path,
    runtimeArgs: runtime.globalArgs,
    bundle: join(dir, 'bundle'),
    pidFile: join(runDir, 'pidfile'),
    logPath: record.config.logDriver === 'none' ? '/dev/null' : (record.config.logPath ?? store.logPath(record.id)),
    logSizeMax: record.config.logSizeMax ?? 10_000_000,
    exitFile: store.exitFile(record.id),
    socketPath: store.socketPath(record.id),
    monitorPidFile: join(runDir, 'monitor.pid'),
    terminal: record.config.tty,
    stdin: record.config.interactive,
    exitCommand: cleanupCommand(ctx, record.id),
    netHelper: helper ? [helper, ...mode.helperArgs(paths, ports.viaHelper)] : undefined,
    netNsPath: pasta || joined.length ? store.netnsPath(record.id) : undefined,
    netHelperPidFile: pasta ? pastaPidFile : undefined,
    netHelperPorts: ports.viaHelper.length > 0,
    netHelperAdopt: adopted?.pasta,
    publish: ports.viaMonitor.map((p) => ({ protocol: p.protocol, spec: `${p.hostIp},${p.hostPort},${p.containerPort}` })),
    publishVia,
    bridgeAttach,
    // Containers share one session keyring (runtime.c's runtime_join_keyring) only where skiff's
    // seccomp profile denies them keyctl: one allowed it would read and change the others' keys.
    ownKeyring: record.config.privileged || record.config.seccomp !== 'default',
    start: monitorStarts,
    scope: monitorScope(record),
    ...(record.config.healthcheck?.intervalMs
      ? { healthCommand: skiffCommand(ctx, 'healthcheck', 'run', record.id), healthIntervalMs: record.config.healthcheck.intervalMs }
      : {}),
    ...(notify ? { sdnotifySocket: notify.socket, sdnotifyProxy: notify.proxy } : {}),
    ...(record.config.timeout ? { timeoutSeconds: record.config.timeout } : {}),
    ...(preserveFds ? { preserveFds } : {}),
  });
  const monitorStartTime = startTimeOf(monitor.pid);
  log.debug(adopted ? "start: monitor launched, with the launcher's pasta" : 'start: monitor launched');
  return { monitor, monitorStarts, viaSlirp, monitorStartTime };
};

// The user's systemd moves a new container's process into its scope itself when the process is
// already under user@UID.service; from a login session's scope (root's) it asks the system manager,
// which moves only processes of the user's own uid. A container with its own user namespace runs
// as a subordinate id from the start, so its monitor (and so the runtime's process) starts in a
// scope of the user's manager, as Podman's conmon does.
const monitorScope = (record: ContainerRecord): string | undefined =>
  record.cgroupManager === 'systemd' && record.config.idMappings ? requireHelperBinary('systemd-run', 'systemd') : undefined;

// A command the monitor runs: this same skiff, same stores.
export const skiffCommand = (ctx: EngineContext, ...args: string[]): string[] => [
  process.execPath,
  ...process.execArgv,
  process.argv[1],
  '--root',
  ctx.paths.data,
  '--runroot',
  ctx.paths.run,
  ...(ctx.hooksDirsFlag ?? []).flatMap((dir) => ['--hooks-dir', dir]),
  ...(ctx.paths.volumesGiven ? ['--volumepath', ctx.paths.volumes] : []),
  ...(ctx.paths.networksGiven ? ['--network-config-dir', ctx.paths.networks] : []),
  ...args,
];

// The command the monitor runs when the container exits.
export const cleanupCommand = (ctx: EngineContext, id: string): string[] => skiffCommand(ctx, 'container', 'cleanup', id);

// How a systemd unit running this start (Type=notify, NOTIFY_SOCKET) hears that the container is
// ready (--sdnotify): the monitor says so once it runs (conmon), or passes on what the container
// sends to the socket `proxy`, which the bundle mounts at /run/notify (container, the default).
export const notifyPlan = (ctx: EngineContext, record: ContainerRecord): { socket: string; proxy?: string } | undefined => {
  const mode = record.config.sdnotify ?? 'container';
  if (!ctx.notifySocket || mode === 'ignore') return undefined;
  return { socket: ctx.notifySocket, ...(mode === 'container' ? { proxy: join(ctx.containers.notifyDir(record.id), 'notify.sock') } : {}) };
};
