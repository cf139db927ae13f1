// cgroup detection: version, the user's delegated controllers, and whether systemd manages the user.
import { existsSync, readdirSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { readTextIfExists } from '../util/fs.js';

export type CgroupVersion = 'v2' | 'v1' | 'hybrid' | 'none';

// This process's answer, read once.
let own: CgroupVersion | undefined;

// statfs(2)'s f_type of the file systems below.
const CGROUP2_MAGIC = 0x63677270;
const CGROUP_MAGIC = 0x27e0eb;

const fsType = (path: string): number | undefined => {
  try {
    return statfsSync(path).type;
  } catch {
    return undefined;
  }
};

// Whether `path` has a file system of its own mounted on it.
const mountPoint = (path: string): boolean => {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
};

// The version from the file systems at /sys/fs/cgroup (runc's way: cgroup2 there, or a tmpfs of v1
// hierarchies with cgroup2 at unified/ beside them), not from /proc/self/mounts, which holds a
// line for every running container's root and so cost a start more the more containers ran.
const mountedVersion = (): CgroupVersion => {
  if (fsType('/sys/fs/cgroup') === CGROUP2_MAGIC) return 'v2';
  let names: string[] = [];
  try {
    names = readdirSync('/sys/fs/cgroup');
  } catch {
    return 'none';
  }
  const v1 = names.some((name) => name !== 'unified' && fsType(`/sys/fs/cgroup/${name}`) === CGROUP_MAGIC);
  // (In skiff's namespace on a hybrid host crun needs the unified hierarchy hidden: a tmpfs over
  // it, runtime/runtime.ts. Something mounted there is the hierarchy all the same.)
  const unified = fsType('/sys/fs/cgroup/unified') === CGROUP2_MAGIC || mountPoint('/sys/fs/cgroup/unified');
  if (v1 && unified) return 'hybrid';
  return v1 ? 'v1' : 'none';
};

// The version; `mounts` (a /proc/mounts text): the version that mount table says.
export const cgroupVersion = (mounts?: string): CgroupVersion => {
  if (mounts === undefined) return (own ??= mountedVersion());
  const lines = mounts.split('\n').map((l) => l.split(' '));
  const v2Root = lines.some((f) => f[1] === '/sys/fs/cgroup' && f[2] === 'cgroup2');
  if (v2Root) return 'v2';
  const v1 = lines.some((f) => f[2] === 'cgroup');
  const unified = lines.some((f) => f[2] === 'cgroup2');
  if (v1 && unified) return 'hybrid';
  return v1 ? 'v1' : 'none';
};

const safeRead = (path: string): string => readTextIfExists(path) ?? '';

// Controllers systemd delegates to the user's manager (user@UID.service), on cgroup v2.
export const delegatedControllers = (uid: number): string[] | undefined => {
  const file = `/sys/fs/cgroup/user.slice/user-${uid}.slice/user@${uid}.service/cgroup.controllers`;
  if (!existsSync(file)) return undefined;
  return safeRead(file).trim().split(/\s+/).filter(Boolean);
};
