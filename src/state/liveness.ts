// What a container's processes say about it, read from the files and /proc alone: whether its
// monitor and its process still run (pid and start time, so a reused pid never counts), whether
// its starter still holds its lock, and how long to wait for a monitor that is still creating it.
// state.json is what the last command wrote; a command killed before it wrote what happened next
// leaves it behind the truth, and these are what the truth is read from (see reconcileState).
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTimeOf } from '../util/proc.js';
import { native } from '../util/native.js';

// Whether `pid` is still the process that had `startTime` (a zombie is gone).
export const isAlive = (pid: number | undefined, startTime: string | undefined): pid is number => Boolean(pid && startTime && startTimeOf(pid) === startTime);

// The pid a pid file holds, or undefined.
export const readPidFile = (path: string): number | undefined => {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

// A container's process found by its runtime's pid file, when no start time was recorded for it
// (its starter died first): it must have started after its monitor, and within a minute of it
// (/proc start times are clock ticks since boot; the runtime's create comes seconds at most after
// the monitor's start), so a pid reused later by another process does not pass.
export const startedAfter = (pid: number, monitorStartTime: string | undefined): boolean => {
  if (!isNamespaceInit(pid)) return false;
  const own = Number(startTimeOf(pid));
  const monitor = Number(monitorStartTime);
  if (!own || !monitor) return false;
  return own >= monitor && own - monitor < 60 * 100;
};

// Whether `pid` is the first process of a pid namespace of its own, as a container's is.
const isNamespaceInit = (pid: number): boolean => {
  try {
    const ids =
      /^NSpid:\s+(.*)$/m
        .exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
        .trim()
        .split(/\s+/) ?? [];
    return ids.length > 1 && ids[ids.length - 1] === '1';
  } catch {
    return false;
  }
};

// A container the runtime created and has not started: its process waits on the runtime's
// exec.fifo (crun's and runc's alike), which `start` removes. `runtimeRoots`: the runtimes' --root dirs.
export const isUnstarted = (runtimeRoots: string[], id: string): boolean => runtimeRoots.some((root) => existsSync(join(root, id, 'exec.fifo')));

// Whether a process other than the caller holds the lock at `path` (a command at work on that
// object, which will record what it did). Probed by taking it for an instant.
export const isLockHeld = (path: string): boolean => {
  if (!existsSync(path)) return false;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    return !native().flock(fd, true, false);
  } finally {
    closeSync(fd);
  }
};

const pause = new Int32Array(new SharedArrayBuffer(4));
// Blocks this thread for `ms` (readers of state are synchronous; this is for rare waits only).
export const sleepSync = (ms: number): void => {
  Atomics.wait(pause, 0, 0, ms);
};
