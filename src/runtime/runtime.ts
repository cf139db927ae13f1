// The OCI runtime adapters: crun (default) and runc, run inside skiff's rootless namespaces with
// their state under the runtime dir. Both take the same verbs for what skiff needs.
//
// crun 1.8 refuses hybrid cgroup hosts whose unified hierarchy has controllers ("cgroups in hybrid
// mode not supported"). A rootless container gets no cgroup limits on such a host anyway, so skiff
// hides /sys/fs/cgroup/unified behind an empty read-only tmpfs in its own mount namespace, where
// crun then sees a plain cgroup v1 host. The host's mounts are untouched.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cgroupVersion } from '../cgroups/detect.js';
import { type CgroupManager, runtimeManagerArgs } from '../cgroups/manager.js';
import { CliError, messageOf } from '../errors.js';
import { inUserNamespace, isRootful } from '../rootless/rootful.js';
import { findHelperBinary, runHelper } from '../util/exec.js';
import { native } from '../util/native.js';

export type RuntimeName = 'crun' | 'runc';

export interface OciRuntime {
  name: RuntimeName;
  path: string;
  /** Global options that come before the verb. */
  globalArgs: string[];
}

const UNIFIED = '/sys/fs/cgroup/unified';

const hybridWithControllers = (): boolean => {
  if (cgroupVersion() !== 'hybrid') return false;
  try {
    return readFileSync(join(UNIFIED, 'cgroup.controllers'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
};

// Masks the unified hierarchy in skiff's mount namespace (never the host's), once.
const maskUnifiedHierarchy = (): void => {
  try {
    native().mount('tmpfs', UNIFIED, 'tmpfs', 1 /* MS_RDONLY */, 'size=4k,mode=555');
  } catch (error) {
    throw new CliError('EHELPER', `crun cannot run on this hybrid cgroup host and ${UNIFIED} could not be hidden (${messageOf(error)}): use --runtime runc`, {
      cause: error,
    });
  }
};

const resolved = new Map<string, OciRuntime>();

// Resolves `--runtime` / engine.runtime ("crun", "runc", or a path) to a runtime ready to use;
// once per process (a `run` asks when it creates and again when it starts).
// `cgroups`: who makes the container's cgroup, which the runtime is told on every call (crun's
// --cgroup-manager, runc's --systemd-cgroup).
export const resolveRuntime = (wanted: string, runDir: string, cgroups: CgroupManager | 'disabled' = 'none'): OciRuntime => {
  const key = `${wanted}\0${runDir}\0${cgroups}`;
  let runtime = resolved.get(key);
  if (!runtime) {
    const baseKey = `${wanted}\0${runDir}`;
    let base = resolved.get(baseKey);
    if (!base) resolved.set(baseKey, (base = findRuntime(wanted, runDir)));
    runtime = { ...base, globalArgs: [...base.globalArgs, ...runtimeManagerArgs(base.name, cgroups)] };
    resolved.set(key, runtime);
  }
  return runtime;
};

const findRuntime = (wanted: string, runDir: string): OciRuntime => {
  const path = wanted.includes('/') ? wanted : findHelperBinary(wanted);
  if (!path || !existsSync(path)) {
    const hint = wanted === 'crun' && findHelperBinary('runc') ? ', or use --runtime runc' : '';
    // 125, not 127: 127 means the container's command was not found.
    throw new CliError('EHELPER', `OCI runtime ${wanted} not found: install it (Debian/Ubuntu: apt-get install ${basename(wanted)})${hint}`);
  }
  const name: RuntimeName = basename(path).includes('runc') ? 'runc' : 'crun';
  if (name === 'crun' && hybridWithControllers()) {
    if (!inUserNamespace() || isRootful()) throw new CliError('EHELPER', 'crun does not support this hybrid cgroup host: use --runtime runc');
    maskUnifiedHierarchy();
  }
  return { name, path, globalArgs: ['--root', join(runDir, 'runtime', name)] };
};

export const runtimeCommand = (runtime: OciRuntime, verb: string, args: string[]): [string, string[]] => [runtime.path, [...runtime.globalArgs, verb, ...args]];

// The runtime runs from a sealed copy made once per process, so that it need not re-execute
// itself from one on every call (see native/common/sealed-copy.h); from its path if that fails.
const sealed = new Map<string, number>();
const sealedPath = (path: string): string | undefined => {
  let fd = sealed.get(path);
  if (fd === undefined) sealed.set(path, (fd = native().sealedCopy(path)));
  return fd >= 0 ? `/proc/self/fd/${fd}` : undefined;
};

const run = (runtime: OciRuntime, verb: string, args: string[]) => {
  const [bin, argv] = runtimeCommand(runtime, verb, args);
  return runHelper(bin, argv, { exe: sealedPath(bin) });
};

// Whether the runtime still has a record of the container (crun and runc keep ROOT/ID).
export const knowsContainer = (runtime: OciRuntime, id: string): boolean => existsSync(join(runtime.globalArgs[1], id));

export const startContainer = (runtime: OciRuntime, id: string) => run(runtime, 'start', [id]);

export const killContainer = (runtime: OciRuntime, id: string, signal: string) => run(runtime, 'kill', [id, signal]);

// Freezes (pause) or thaws (resume) the container's cgroup.
export const freezeContainer = (runtime: OciRuntime, id: string, freeze: boolean) => run(runtime, freeze ? 'pause' : 'resume', [id]);

// New limits for a running container (`update`): the runtime writes its cgroup's files.
export const updateContainer = (runtime: OciRuntime, id: string, resourcesFile: string) => run(runtime, 'update', ['--resources', resourcesFile, id]);

// Removes the runtime's record of a container; a container the runtime no longer knows is fine.
export const deleteContainer = async (runtime: OciRuntime, id: string): Promise<void> => {
  try {
    await run(runtime, 'delete', ['--force', id]);
  } catch (error) {
    const text = messageOf(error);
    if (!/does not exist|not exist|No such file|not found/i.test(text)) throw error;
  }
};
