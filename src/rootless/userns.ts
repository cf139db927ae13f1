// The rootless user namespace: a pause process keeps it (and its mount namespace) alive, and later
// commands join it through nsenter before Node starts, so Node itself never calls setns.
//
// Mapping: 0 → the user's uid, 1..N → the /etc/subuid (/etc/subgid) range, written by the setuid
// helpers newuidmap/newgidmap; or, in single-uid mode, only 0 → the user's uid.
import { closeSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { listDir, writeJsonAtomic } from '../util/fs.js';
import { requireHelperBinary, runHelper, signalQuietly, startHelper } from '../util/exec.js';
import { native } from '../util/native.js';
import { withLock } from '../util/lock.js';
import { liveRecord, startTimeOf, userNsOf } from '../util/proc.js';
import { followParent, livePause, reexecInside, type PauseRecord } from './enter.js';
import { inUserNamespace } from './rootful.js';
import { currentUser, readSubids, type IdRange } from './subid.js';

export type UsernsMode = 'auto' | 'single';

export interface Mapping {
  uids: IdRange[];
  gids: IdRange[];
}

// The subordinate ranges to map, or a clear error telling how to get them.
export const resolveMapping = (mode: UsernsMode): Mapping | undefined => {
  if (mode === 'single') return undefined;
  const uids = readSubids('/etc/subuid');
  const gids = readSubids('/etc/subgid');
  if (uids.length === 0 || gids.length === 0) {
    const { name } = currentUser();
    const missing = uids.length === 0 ? '/etc/subuid' : '/etc/subgid';
    throw new CliError(
      'EUSERNS',
      `no subordinate id range for user ${name} in ${missing}: ask an admin to run \`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name}\`, or set storage.userns = "single" in skiff.conf to map only your own uid`,
    );
  }
  return { uids, gids };
};

const waitForUnshare = async (pid: number, exited: () => string | undefined): Promise<void> => {
  const own = userNsOf('self');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const failure = exited();
    if (failure !== undefined) throw new CliError('EUSERNS', `cannot create a user namespace: ${failure || 'unshare exited'}`);
    const ns = userNsOf(pid);
    if (ns && ns !== own) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new CliError('EUSERNS', 'timed out waiting for the user namespace to be created');
};

const writeMappings = async (pid: number, mapping: Mapping | undefined): Promise<void> => {
  const { uid, gid } = currentUser();
  if (!mapping) {
    writeFileSync(`/proc/${pid}/uid_map`, `0 ${uid} 1\n`);
    writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    writeFileSync(`/proc/${pid}/gid_map`, `0 ${gid} 1\n`);
    return;
  }
  const args = (own: number, ranges: IdRange[]) => {
    const out = [String(pid), '0', String(own), '1'];
    let inside = 1;
    for (const r of ranges) {
      out.push(String(inside), String(r.start), String(r.count));
      inside += r.count;
    }
    return out;
  };
  await runHelper(requireHelperBinary('newuidmap', 'uidmap'), args(uid, mapping.uids));
  await runHelper(requireHelperBinary('newgidmap', 'uidmap'), args(gid, mapping.gids));
};

// Starts the pause process that holds the namespaces, or returns the live one.
export const ensurePause = async (runDir: string, mode: UsernsMode): Promise<PauseRecord> => {
  const pidFile = join(runDir, 'pause.pid');
  const live = livePause(runDir);
  if (live) return live;
  // Concurrent first commands serialise here: one creates the namespace, the others join it.
  return withLock(join(runDir, 'pause.lock'), async () => {
    const again = livePause(runDir);
    if (again) return again;
    // The pause process was killed while containers ran: their monitors keep its namespaces
    // alive, and a new pause process holds those again (a new namespace would see none of their
    // mounts, and exec could not join them: "fchown std stream 0: Bad file descriptor").
    const survivor = survivingMonitor(runDir);
    if (survivor) return rejoin(pidFile, survivor, mode);
    const mapping = resolveMapping(mode);
    const unshare = requireHelperBinary('unshare', 'util-linux');
    // The pause process: in a session of its own, reading "go" once its ids are mapped.
    const n = native();
    const [inRead, inWrite] = n.pipe();
    const [errRead, errWrite] = n.pipe();
    let pid: number;
    try {
      pid = startHelper(
        unshare,
        ['--user', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'read go && exec sleep infinity'],
        [inRead, null, errWrite],
        { cwd: '/', setsid: true },
      );
    } catch (error) {
      for (const fd of [inWrite, errRead]) closeSync(fd);
      throw new CliError('EUSERNS', `cannot run ${unshare}: ${messageOf(error)}`, { cause: error });
    } finally {
      for (const fd of [inRead, errWrite]) closeSync(fd);
    }
    const { Socket } = await import('node:net');
    const errors = new Socket({ fd: errRead, readable: true, writable: false });
    let stderr = '';
    let exitedWith: string | undefined;
    // Its stderr ends only when it exits (sleep keeps it open): an end before the go is a failure.
    errors
      .on('data', (d: Buffer) => (stderr += d))
      .on('close', () => (exitedWith = stderr.trim()))
      .on('error', () => undefined);
    try {
      await waitForUnshare(pid, () => exitedWith);
      await writeMappings(pid, mapping);
    } catch (error) {
      signalQuietly(pid, 'SIGKILL');
      errors.destroy();
      closeSync(inWrite);
      throw error instanceof CliError ? error : new CliError('EUSERNS', `cannot set up the user namespace: ${messageOf(error)}`, { cause: error });
    }
    writeSync(inWrite, 'go\n');
    closeSync(inWrite);
    errors.destroy();
    const startTime = startTimeOf(pid);
    if (!startTime) throw new CliError('EUSERNS', `the pause process exited at once: ${stderr.trim()}`);
    const record: PauseRecord = { pid, startTime, mode };
    writeJsonAtomic(pidFile, record);
    return record;
  });
};

// The live skiff-monitors under `runDir` (RUNDIR/containers/ID/monitor.pid, the command line
// naming that id), whatever store their containers are in.
export const liveMonitors = (runDir: string): { id: string; pid: number }[] => {
  const ids = listDir(join(runDir, 'containers'));
  return ids.flatMap((id) => {
    try {
      const pid = Number(readFileSync(join(runDir, 'containers', id, 'monitor.pid'), 'utf8').trim());
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0].endsWith('skiff-monitor') && argv[argv.indexOf('--cid') + 1] === id && startTimeOf(pid) ? [{ id, pid }] : [];
    } catch {
      return []; // no monitor, or gone
    }
  });
};

// A live monitor in a user namespace other than this process's: skiff's, whose pause process is gone.
const survivingMonitor = (runDir: string): number | undefined => {
  const own = userNsOf('self');
  return liveMonitors(runDir).find((m) => {
    const ns = userNsOf(m.pid);
    return ns && ns !== own;
  })?.pid;
};

// Starts a pause process inside the namespaces `target` is in (nsenter; it keeps its own ids,
// which single-uid mode needs) and records it.
const rejoin = async (pidFile: string, target: number, mode: UsernsMode): Promise<PauseRecord> => {
  const nsenter = requireHelperBinary('nsenter', 'util-linux');
  let pid: number;
  try {
    pid = startHelper(nsenter, ['--target', String(target), '--user', '--mount', '--preserve-credentials', '--', 'sleep', 'infinity'], [], {
      cwd: '/',
      setsid: true,
    });
  } catch (error) {
    throw new CliError('EUSERNS', `cannot run ${nsenter}: ${messageOf(error)}`, { cause: error });
  }
  const wanted = userNsOf(target);
  const deadline = Date.now() + 5000;
  // startTimeOf reads an exited (zombie) nsenter as gone.
  while (userNsOf(pid) !== wanted) {
    if (!startTimeOf(pid) || Date.now() > deadline) {
      signalQuietly(pid, 'SIGKILL');
      throw new CliError('EUSERNS', `cannot rejoin skiff's user namespace through its running containers (monitor ${target}): nsenter failed`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const startTime = startTimeOf(pid);
  if (!startTime) throw new CliError('EUSERNS', 'the new pause process exited at once');
  const record: PauseRecord = { pid, startTime, mode };
  writeJsonAtomic(pidFile, record);
  return record;
};

// Re-runs this very command inside the rootless namespaces (through nsenter, so no thread of Node
// ever calls setns) and exits with its exit code. Returns at once when already inside.
export const joinUserNamespace = async (runDir: string, mode: UsernsMode): Promise<void> => {
  if (inUserNamespace()) return followParent();
  const pause = await ensurePause(runDir, mode);
  await reexecInside(requireHelperBinary('nsenter', 'util-linux'), { ...pause, mode });
};

// Removes the pause process (system reset): later commands create a fresh namespace.
// (Called from inside the namespace: only the recorded start time is checked, not that the
// pause process's namespace differs from ours.)
export const stopPause = (runDir: string): void => {
  const pid = liveRecord(join(runDir, 'pause.pid'))?.pid;
  if (pid) process.kill(pid, 'SIGKILL');
};
