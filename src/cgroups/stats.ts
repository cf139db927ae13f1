// A running container's numbers, read from its cgroup v2 files and its network namespace: what
// `stats` prints. Nothing here is estimated: a container without a cgroup of its own has no stats.
import { readTextIfExists as read } from '../util/fs.js';

export interface CgroupSample {
  /** CPU time used, in microseconds (cpu.stat usage_usec). */
  cpuUsec: number;
  memUsage: number;
  /** memory.max, or the host's memory where it is "max". */
  memLimit: number;
  pids: number;
  blockRead: number;
  blockWrite: number;
  netRx: number;
  netTx: number;
  /** When it was taken (ms since the epoch). */
  at: number;
}

let memTotal: number | undefined;
// The host's memory (the limit of a container without one), read once per command.
const hostMemory = (): number => (memTotal ??= Number(/MemTotal:\s+(\d+)/.exec(read('/proc/meminfo') ?? '')?.[1] ?? 0) * 1024);

// Sums the rbytes=/wbytes= of every device in io.stat.
const ioTotals = (text: string | undefined): [number, number] => {
  let r = 0;
  let w = 0;
  for (const m of (text ?? '').matchAll(/rbytes=(\d+) wbytes=(\d+)/g)) {
    r += Number(m[1]);
    w += Number(m[2]);
  }
  return [r, w];
};

// Received and sent bytes of every interface but lo in the namespace of `pid`.
const netTotals = (pid: number): [number, number] => {
  let rx = 0;
  let tx = 0;
  for (const line of (read(`/proc/${pid}/net/dev`) ?? '').split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name!.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return [rx, tx];
};

// One sample of the cgroup at `dir` (the container's) and the network of its init `pid`.
export const sampleCgroup = (dir: string, pid: number): CgroupSample => {
  const max = read(`${dir}/memory.max`)?.trim();
  const [blockRead, blockWrite] = ioTotals(read(`${dir}/io.stat`));
  const [netRx, netTx] = netTotals(pid);
  return {
    cpuUsec: Number(/usage_usec (\d+)/.exec(read(`${dir}/cpu.stat`) ?? '')?.[1] ?? 0),
    memUsage: Number(read(`${dir}/memory.current`) ?? 0),
    memLimit: max && max !== 'max' ? Number(max) : hostMemory(),
    pids: Number(read(`${dir}/pids.current`) ?? 0),
    blockRead,
    blockWrite,
    netRx,
    netTx,
    at: Date.now(),
  };
};
