// `exec`: a process in a running container, through the runtime's exec with a process spec made
// from the container's own (its user, environment and working directory, as asked).
import { closeSync, fstatSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupOfPid } from '../cgroups/manager.js';
import { CliError } from '../errors.js';
import { exitCodeForRuntimeError } from '../monitor/monitor.js';
import { resolveUser } from '../oci/passwd.js';
import { runtimeCommand, type OciRuntime } from '../runtime/runtime.js';
import type { ContainerRecord, ContainerState, ContainerStore } from '../state/containers.js';
import { randomId } from '../state/names.js';
import { namespaceOf } from '../util/proc.js';
import { findHelperBinary, signalQuietly, spawnHelper, type Spawned } from '../util/exec.js';
import { readPidFile } from '../state/liveness.js';
import { writeJsonAtomic } from '../util/fs.js';
import { native } from '../util/native.js';
import { expandEnv, mergeEnv, readEnvFile } from './container-config.js';

export interface ExecOptions {
  command: string[];
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  env?: string[];
  /** --env-file: KEY=VALUE lines, before -e (which wins). */
  envFile?: string[];
  /** --preserve-fds N: this process's fds 3 .. 3+N-1 passed on to the command as the same numbers. */
  preserveFds?: number;
  user?: string;
  workdir?: string;
  privileged?: boolean;
  /** Receives the runtime's and the command's standard error (the caller prints it). */
  stderr?: (chunk: Buffer) => void;
}

const isRunning = (state: ContainerState) => state.status === 'running' || state.status === 'stopping';

// The runtime's exec of `options.command` in the container: the process spec written to a file
// (removed by the caller), and the command line that runs it.
const prepareExec = (
  store: ContainerStore,
  record: ContainerRecord,
  runtime: OciRuntime,
  state: ContainerState,
  options: ExecOptions,
  runtimeFlags: string[],
): { file: string; bin: string; argv: string[] } => {
  if (!isRunning(state)) throw new CliError('ESTATE', `can only exec in running containers: ${record.name} is ${state.status}`);
  if (options.workdir !== undefined && !options.workdir.startsWith('/'))
    throw new CliError('EUSAGE', `invalid working directory ${JSON.stringify(options.workdir)}: it must be an absolute path`);
  const spec = JSON.parse(readFileSync(join(store.containerDir(record.id), 'bundle', 'config.json'), 'utf8')) as {
    process: Record<string, unknown>;
    root: { path: string };
  };
  const c = record.config;
  const user = options.user !== undefined ? resolveUser(spec.root.path, options.user) : undefined;
  const processSpec = {
    ...spec.process,
    terminal: Boolean(options.tty),
    args: options.command,
    env: mergeEnv(spec.process.env as string[], [...(options.envFile ?? []).flatMap(readEnvFile), ...(options.env ?? [])].flatMap(expandEnv)),
    cwd: options.workdir ?? c.workdir,
    ...(user ? { user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) } } : {}),
  };
  const file = join(store.runtimeDir(record.id), `exec-${randomId().slice(0, 12)}.json`);
  writeJsonAtomic(file, processSpec, 0o644, false);
  const [runtimeBin, runtimeArgv] = runtimeCommand(runtime, 'exec', [...runtimeFlags, '--process', file, record.id]);
  // A container in a systemd scope, or in a cgroup under the user's manager (a unit with
  // Delegate=yes made it), is joined from a scope of the user's manager too: moving a process into
  // a cgroup takes write access to the two cgroups' common parent, which under the user's login
  // session is root's, under user@UID.service the user's (Podman's conmon does the same).
  const underManager = (pid: number | 'self') => cgroupOfPid(pid)?.includes('/user@') === true;
  const joinFromManager =
    record.cgroupManager === 'systemd' || (record.cgroupManager === 'cgroupfs' && state.pid && underManager(state.pid) && !underManager('self'));
  const scope = joinFromManager ? findHelperBinary('systemd-run') : undefined;
  const [bin, argv] = scope ? [scope, ['--user', '--scope', '--quiet', '--collect', '--', runtimeBin, ...runtimeArgv]] : [runtimeBin, runtimeArgv];
  return { file, bin, argv };
};

// --preserve-fds N: fds 3 .. 3+N-1, each checked to be open here (the runtime passes them on).
// (SKIFF_INHERITED_FDS: how many the launcher was given; past those, fds 3.. are Node's own.)
const inherited = process.env.SKIFF_INHERITED_FDS;
delete process.env.SKIFF_INHERITED_FDS;
export const preservedFds = (count: number): number[] => {
  if (!Number.isInteger(count) || count < 0) throw new CliError('EUSAGE', `invalid --preserve-fds "${count}": use a number of file descriptors`);
  const fds = Array.from({ length: count }, (_, i) => 3 + i);
  for (const fd of fds) {
    try {
      if (inherited !== undefined && fd >= 3 + Number(inherited)) throw new Error('not given');
      fstatSync(fd);
    } catch {
      throw new CliError('EUSAGE', `--preserve-fds ${count}: file descriptor ${fd} is not open; open fds 3 to ${2 + count} for skiff, or pass fewer`);
    }
  }
  return fds;
};

// Runs a process in a running container through the runtime, with this process's stdio.
export const execInContainer = async (
  store: ContainerStore,
  record: ContainerRecord,
  runtime: OciRuntime,
  state: ContainerState,
  options: ExecOptions,
): Promise<number> => {
  const preserved = preservedFds(options.preserveFds ?? 0);
  const { file, bin, argv } = prepareExec(store, record, runtime, state, options, [
    ...(options.detach ? ['--detach'] : []),
    ...(options.tty ? ['--tty'] : []),
    ...(preserved.length ? ['--preserve-fds', String(preserved.length)] : []),
  ]);
  const [errRead, errWrite] = native().pipe();
  let child: Spawned;
  try {
    const stdin = !options.detach && (options.interactive || options.tty) ? 0 : null;
    child = spawnHelper(bin, argv, [stdin, options.detach ? null : 1, errWrite, ...preserved]);
  } catch {
    closeSync(errRead);
    rmSync(file, { force: true });
    return 125;
  } finally {
    closeSync(errWrite);
  }
  try {
    let tail = '';
    const { Socket } = await import('node:net');
    const stderr = new Socket({ fd: errRead, readable: true, writable: false });
    stderr.on('data', (d: Buffer) => {
      options.stderr?.(d);
      tail = (tail + d.toString()).slice(-2000);
    });
    const drained = new Promise((resolve) => stderr.on('close', resolve).on('error', resolve));
    const code = await child.exited;
    // What it wrote last may still be in the pipe; a process it left running may keep the pipe
    // open for good (exec -d, a background job): a moment, then no more.
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, options.detach ? 50 : 200))]);
    stderr.destroy();
    // The runtime's own failure to run the command (not the command's exit) maps to 126/127.
    const failure = code !== 0 ? exitCodeForRuntimeError(tail) : 125;
    return failure !== 125 ? failure : code;
  } finally {
    rmSync(file, { force: true });
  }
};

export interface CapturedExec {
  code: number;
  /** Its standard output and error together, the last `keep` bytes. */
  output: string;
  timedOut: boolean;
}

// Runs a command in a running container with its output captured (stdout and stderr as one), for
// at most `timeoutMs`: then the process is killed (its pid from the runtime's pid file) and the
// result says so. A healthcheck's exec.
export const execCaptured = async (
  store: ContainerStore,
  record: ContainerRecord,
  runtime: OciRuntime,
  state: ContainerState,
  command: string[],
  timeoutMs: number,
  keep = 4096,
): Promise<CapturedExec> => {
  const pidFile = join(store.runtimeDir(record.id), `exec-${randomId().slice(0, 12)}.pid`);
  const { file, bin, argv } = prepareExec(store, record, runtime, state, { command }, ['--pid-file', pidFile]);
  const [outRead, outWrite] = native().pipe();
  let child: Spawned;
  try {
    child = spawnHelper(bin, argv, [null, outWrite, outWrite]);
  } catch (error) {
    closeSync(outRead);
    rmSync(file, { force: true });
    throw error;
  } finally {
    closeSync(outWrite);
  }
  let output = Buffer.alloc(0);
  const { Socket } = await import('node:net');
  const out = new Socket({ fd: outRead, readable: true, writable: false });
  out.on('data', (d: Buffer) => {
    output = Buffer.concat([output, d]);
    if (output.length > keep) output = output.subarray(output.length - keep);
  });
  const drained = new Promise((resolve) => out.on('close', resolve).on('error', resolve));
  let timedOut = false;
  // (The pid file's process only while it is still in the container's pid namespace: a pid is
  // reused once its process is gone.)
  const timer = setTimeout(() => {
    timedOut = true;
    const pid = readPidFile(pidFile);
    const inside = pid && state.pid ? namespaceOf(pid, 'pid') : undefined;
    if (pid && inside !== undefined && inside === namespaceOf(state.pid!, 'pid')) signalQuietly(pid, 'SIGKILL');
    signalQuietly(child.pid, 'SIGKILL');
  }, timeoutMs);
  try {
    const code = await child.exited;
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 200))]);
    return { code, output: output.toString(), timedOut };
  } finally {
    clearTimeout(timer);
    out.destroy();
    rmSync(file, { force: true });
    rmSync(pidFile, { force: true });
  }
};
