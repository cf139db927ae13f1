// Where skiff keeps its state, per user, following the XDG base directory spec.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Paths {
  /** Persistent store: images, layers, containers, volumes ($XDG_DATA_HOME/skiff). */
  data: string;
  /** Volatile state: pause.pid, locks, sockets ($XDG_RUNTIME_DIR/skiff). */
  run: string;
  /** The user's configuration file (skiff.conf, TOML). */
  configFile: string;
  /** Where `login` writes credentials (containers-auth.json format): REGISTRY_AUTH_FILE, else
   *  $XDG_RUNTIME_DIR/containers/auth.json (image/registry/auth.ts reads more files). */
  authFile: string;
  /** $XDG_CONFIG_HOME: systemd user units go under it (systemd/user). */
  configHome: string;
  /** `data` and `run` are the user's default stores (no --root, --runroot or SKIFF_ROOT/SKIFF_RUNROOT). */
  defaultStores: boolean;
  /** Named volumes (--volumepath; default DATA/volumes). */
  volumes: string;
  /** Named networks' records (--network-config-dir; default DATA/networks). */
  networks: string;
  /** Given explicitly (--volumepath, --network-config-dir): commands skiff runs later get them too. */
  volumesGiven?: boolean;
  networksGiven?: boolean;
}

export interface PathOverrides {
  root?: string;
  runroot?: string;
  volumePath?: string;
  networkConfigDir?: string;
}

const uid = (): number => process.getuid?.() ?? 0;

// The runtime dir: $XDG_RUNTIME_DIR when set, else a per-uid directory under /tmp (as Podman does).
export const runtimeBase = (): string => process.env.XDG_RUNTIME_DIR || `/tmp/skiff-run-${uid()}`;

export const resolvePaths = (overrides: PathOverrides = {}): Paths => {
  const home = process.env.HOME || homedir();
  const dataHome = process.env.XDG_DATA_HOME || join(home, '.local/share');
  const configHome = process.env.XDG_CONFIG_HOME || join(home, '.config');
  const data = overrides.root ?? process.env.SKIFF_ROOT ?? join(dataHome, 'skiff');
  return {
    data,
    volumes: overrides.volumePath ?? join(data, 'volumes'),
    networks: overrides.networkConfigDir ?? join(data, 'networks'),
    ...(overrides.volumePath ? { volumesGiven: true } : {}),
    ...(overrides.networkConfigDir ? { networksGiven: true } : {}),
    run: overrides.runroot ?? process.env.SKIFF_RUNROOT ?? join(runtimeBase(), 'skiff'),
    configFile: process.env.SKIFF_CONFIG ?? join(configHome, 'skiff', 'skiff.conf'),
    authFile: process.env.REGISTRY_AUTH_FILE || join(runtimeBase(), 'containers', 'auth.json'),
    configHome,
    defaultStores: !overrides.root && !overrides.runroot && !process.env.SKIFF_ROOT && !process.env.SKIFF_RUNROOT,
  };
};
