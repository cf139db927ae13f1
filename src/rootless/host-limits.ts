// The limits of the host that a user with many containers runs into before the machine is full:
// open files, processes, namespaces. Read when one is hit, so that the error names the limit, its
// value and how to raise it. (Keys: monitor.ts; inotify: skiff watches no files, it polls.)
import { readFileSync } from 'node:fs';
import { namespaceIds } from '../util/idmap.js';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

// A limit of /proc/self/limits ("Max open files") as [soft, hard] text ("1024", "unlimited").
const rlimit = (name: string): [string, string] => {
  const line = (read('/proc/self/limits') ?? '').split('\n').find((l) => l.startsWith(name));
  const [soft, hard] = line?.slice(26).trim().split(/\s+/) ?? [];
  return [soft ?? '?', hard ?? '?'];
};

// EMFILE: this process's open-files limit.
export const openFilesHint = (): string => {
  const [soft, hard] = rlimit('Max open files');
  return `the open-files limit is reached (RLIMIT_NOFILE ${soft}, hard limit ${hard}): raise it (ulimit -n; LimitNOFILE= in a systemd unit; nofile in /etc/security/limits.conf)`;
};

// ENFILE: the machine's open-file table.
export const fileTableHint = (): string =>
  `the system's open-file table is full (fs.file-max=${read('/proc/sys/fs/file-max') ?? '?'}): raise it with sysctl as root`;

// The pids controller's limit nearest above this process (a systemd slice's TasksMax=), when set:
// [its cgroup, pids.max, pids.current].
const pidsCgroup = (): [string, number, number] | undefined => {
  const lines = (read('/proc/self/cgroup') ?? '').split('\n');
  const v2 = lines.find((l) => l.startsWith('0::'));
  const v1 = lines.find((l) => /^\d+:([^:]*,)?pids(,[^:]*)?:/.test(l));
  const [root, path] = v1 ? ['/sys/fs/cgroup/pids', v1.split(':')[2]] : v2 ? ['/sys/fs/cgroup', v2.slice(3)] : [];
  if (root === undefined || path === undefined) return undefined;
  for (let dir = path; ; dir = dir.slice(0, dir.lastIndexOf('/'))) {
    const max = read(`${root}${dir}/pids.max`);
    if (max !== undefined && max !== 'max') return [dir || '/', Number(max), Number(read(`${root}${dir}/pids.current`) ?? 0)];
    if (!dir || dir === '/') return undefined;
  }
};

// EAGAIN from fork, clone or a thread: which limit on processes (tasks) the user is at.
export const processesHint = (): string => {
  const cgroup = pidsCgroup();
  if (cgroup && cgroup[2] >= cgroup[1] - 1)
    return `the cgroup ${cgroup[0]} allows ${cgroup[1]} tasks (pids.max) and has them: raise it (TasksMax= of the user's slice or unit, e.g. systemctl set-property user-${namespaceIds().hostUid}.slice TasksMax=infinity as root)`;
  const [soft, hard] = rlimit('Max processes');
  const machine = `kernel.threads-max=${read('/proc/sys/kernel/threads-max') ?? '?'}, kernel.pid_max=${read('/proc/sys/kernel/pid_max') ?? '?'}`;
  return `no more processes can start: the user's limit is RLIMIT_NPROC ${soft} (hard ${hard}; ulimit -u, nproc in /etc/security/limits.conf, LimitNPROC= in a unit), the machine's ${machine} (sysctl as root)${cgroup ? `, the cgroup ${cgroup[0]}'s pids.max ${cgroup[1]} (TasksMax=)` : ''}: raise the one reached`;
};

// ENOSPC from unshare or clone: a per-user namespace count (each container takes one of each kind).
export const namespacesHint = (): string => {
  const kinds = ['user', 'mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup'];
  const values = kinds.map((k) => `${k} ${read(`/proc/sys/user/max_${k}_namespaces`) ?? '?'}`);
  return `a per-user namespace limit is reached (user.max_*_namespaces: ${values.join(', ')}; each container takes one of most kinds): raise it with sysctl as root`;
};

// The hint for a failure's text (a runtime's or a helper's error line, a system call's message),
// when it is one of these limits.
export const limitHint = (text: string): string | undefined => {
  if (/too many open files in system|file table overflow|\bENFILE\b/i.test(text)) return fileTableHint();
  if (/too many open files|\bEMFILE\b/i.test(text)) return openFilesHint();
  if (/(fork|clone|spawn|thread|pthread_create|exec)\b.*(resource temporarily unavailable|\bEAGAIN\b)/i.test(text)) return processesHint();
  if (/(unshare|clone|namespace).*(no space left on device|\bENOSPC\b)/i.test(text)) return namespacesHint();
  return undefined;
};
