// What /proc tells of a process: its start time (which tells it from a later process given the same
// pid), its user namespace, and whether a recorded {pid, startTime} is still that process.
import { readFileSync, readlinkSync } from 'node:fs';

// A process as skiff records one (pause process, network holder): its pid and start time.
export interface ProcessRecord {
  pid: number;
  startTime: string;
}

// /proc/PID/stat field 22: the start time, which tells a live pause process from a reused pid.
// A zombie (state Z: killed, not yet reaped) counts as gone.
export const startTimeOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
  } catch {
    return undefined;
  }
};

// A process's namespace of a kind ("pid:[4026531836]"), or undefined when it cannot be read.
export const namespaceOf = (pid: number | 'self', type: string): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/ns/${type}`);
  } catch {
    return undefined;
  }
};

export const userNsOf = (pid: number | 'self'): string | undefined => namespaceOf(pid, 'user');

// A {pid, startTime} record whose process is still the one recorded; undefined otherwise.
export const liveRecord = <T extends ProcessRecord = ProcessRecord>(path: string): T | undefined => {
  let record: T;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
  return startTimeOf(record.pid) === record.startTime ? record : undefined;
};

// A hard limit (Node has no getrlimit) from /proc/self/limits' text (its line for `name`, e.g. "Max open files"): undefined
// where it is unlimited or not listed.
export const hardLimit = (name: string, limits = readFileSync('/proc/self/limits', 'utf8')): number | undefined => {
  const line = limits.split('\n').find((l) => l.startsWith(name));
  const value = line?.slice(26).trim().split(/\s+/)[1];
  return value === undefined || value === 'unlimited' ? undefined : Number(value);
};
