// What every engine call works against: the user's paths, configuration and stores.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CgroupManagerSetting, configLoader, type RootfsDriverSetting, runtimeByName, type SkiffConfig } from '../config/config.js';
import { DEFAULT_HOOKS_DIRS } from '../oci/hooks.js';
import { resolvePaths, type PathOverrides, type Paths } from '../config/paths.js';
import { NetworkStore } from '../network/networks.js';
import { ContainerStore } from '../state/containers.js';
import { ImageStore } from '../storage/image-store.js';
import { LayerStore } from '../storage/layer-store.js';
import { VolumeStore } from '../storage/volumes.js';
import { SecretStore } from '../storage/secrets.js';
import { withLock } from '../util/lock.js';

export interface EngineContext {
  paths: Paths;
  config: SkiffConfig;
  images: ImageStore;
  layers: LayerStore;
  containers: ContainerStore;
  networks: NetworkStore;
  volumes: VolumeStore;
  secrets: SecretStore;
  /** systemd's NOTIFY_SOCKET when a Type=notify unit runs this command (see notifySocket). */
  notifySocket?: string;
  /** --runtime-flag: more global options for the OCI runtime ("--debug"). */
  runtimeFlags?: string[];
  /** --events-backend none: no events are recorded. */
  eventsBackend?: 'file' | 'none';
  /** The OCI hook directories: --hooks-dir, else containers.conf's hooks_dir, else Podman's. */
  hooksDirs: string[];
  /** --hooks-dir as given (the monitor's clean-up command, which may restart the container, gets it too). */
  hooksDirsFlag?: string[];
}

// A unit's NOTIFY_SOCKET is the monitor's to use (native/monitor/notify.c): kept as
// SKIFF_NOTIFY_SOCKET, out of what skiff's children inherit, since an OCI runtime that sees it
// proxies the socket itself (and a nested skiff, the re-exec into the namespace, still finds it).
const notifySocket = (): string | undefined => {
  if (process.env.NOTIFY_SOCKET) {
    process.env.SKIFF_NOTIFY_SOCKET = process.env.NOTIFY_SOCKET;
    delete process.env.NOTIFY_SOCKET;
  }
  return process.env.SKIFF_NOTIFY_SOCKET || undefined;
};

export interface ContextOverrides extends PathOverrides {
  cgroupManager?: CgroupManagerSetting;
  /** --storage-driver (as skiff.conf's storage.rootfs). */
  rootfs?: RootfsDriverSetting;
  /** --runtime (global: skiff.conf's engine.runtime). */
  runtime?: string;
  runtimeFlags?: string[];
  eventsBackend?: 'file' | 'none';
  /** --hooks-dir (repeatable). */
  hooksDirs?: string[];
}

// skiff.conf is read here; Podman's registries.conf and containers.conf when a value of the
// configuration is first needed (config.ts configLoader), and the flags that override them then.
export const createContext = async (overrides: ContextOverrides = {}): Promise<EngineContext> => {
  const paths = resolvePaths(overrides);
  const load = configLoader(paths.configFile);
  let settled: SkiffConfig | undefined;
  const config = (): SkiffConfig => {
    if (settled) return settled;
    const loaded = load();
    if (overrides.cgroupManager) loaded.engine.cgroupManager = overrides.cgroupManager;
    if (overrides.rootfs) loaded.storage.rootfs = overrides.rootfs;
    if (overrides.runtime) loaded.engine.runtime = overrides.runtime;
    // A runtime named in containers.conf's [engine.runtimes] is at one of the paths given there.
    loaded.engine.runtime = runtimeByName(loaded, loaded.engine.runtime, existsSync);
    // containers.conf's tmp_dir is skiff's TMPDIR, below --tmpdir and TMPDIR.
    if (loaded.engine.tmpDir && !process.env.TMPDIR) process.env.TMPDIR = loaded.engine.tmpDir;
    settled = loaded;
    return settled;
  };
  return {
    paths,
    get config() {
      return config();
    },
    images: new ImageStore(paths.data),
    layers: new LayerStore(paths.data),
    containers: new ContainerStore(paths.data, paths.run),
    networks: new NetworkStore(paths.networks),
    volumes: new VolumeStore(paths.volumes),
    secrets: new SecretStore(paths.data),
    notifySocket: notifySocket(),
    ...(overrides.runtimeFlags?.length ? { runtimeFlags: overrides.runtimeFlags } : {}),
    get eventsBackend() {
      return overrides.eventsBackend ?? config().engine.eventsLogger;
    },
    get hooksDirs() {
      return overrides.hooksDirs ?? config().engine.hooksDir ?? DEFAULT_HOOKS_DIRS;
    },
    ...(overrides.hooksDirs ? { hooksDirsFlag: overrides.hooksDirs } : {}),
  };
};

// Writers that add content (pull, load) hold the store lock shared; removers of layers hold it
// exclusively, so a layer is never deleted between its install and the image that references it.
export const withStoreLock = <T>(ctx: EngineContext, exclusive: boolean, fn: () => Promise<T>, timeoutMs?: number): Promise<T> =>
  withLock(join(ctx.paths.data, 'locks', 'store.lock'), fn, { shared: !exclusive, timeoutMs });
