// cgroup detection: version, the user's delegated controllers, and whether systemd manages the user.
import { existsSync } from 'node:fs';
import { readTextIfExists } from '../util/fs.js';

export type CgroupVersion = 'v2' | 'v1' | 'hybrid' | 'none';

// This process's answer, read once: /proc/self/mounts is long in a namespace with many containers.
let own: CgroupVersion | undefined;

export const cgroupVersion = (mounts?: string): CgroupVersion => {
  if (mounts === undefined) return (own ??= cgroupVersion(safeRead('/proc/self/mounts')));
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
