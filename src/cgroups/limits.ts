// Resource limits from `run`/`create` flags, parsed as Docker and Podman parse them ("512m", "1g",
// "1.5" cpus), checked before anything is made, and turned into the OCI spec's linux.resources.
// Each limit names the cgroup controller that enforces it: where that controller is not there
// (cgroup v1 or hybrid, or not delegated to the user), asking for the limit is an error, never a
// silent no-op. rlimits (--ulimit) and --oom-score-adj need no cgroup and work on every host.
import { CliError } from '../errors.js';
import { log } from '../util/log.js';
import { hardLimit } from '../util/proc.js';
import { cgroupVersion } from './detect.js';

export interface DeviceRate {
  path: string;
  rate: number;
}

/** What the flags asked for, as recorded with the container (bytes, microseconds, counts). */
export interface ResourceLimits {
  memory?: number;
  /** Memory plus swap; -1: unlimited swap. */
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number;
  oomKillDisable?: boolean;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  deviceReadBps?: DeviceRate[];
  deviceWriteBps?: DeviceRate[];
  deviceReadIops?: DeviceRate[];
  deviceWriteIops?: DeviceRate[];
  /** --blkio-weight-device DEV:WEIGHT (io.bfq.weight_device). */
  blkioWeightDevice?: { path: string; weight: number }[];
  /** --cpu-rt-period/--cpu-rt-runtime: cgroup v1's realtime limits (kept only off cgroup v2, where they are refused). */
  cpuRtPeriod?: number;
  cpuRtRuntime?: number;
  /** --cgroup-conf KEY=VALUE: cgroup v2 files written as they are (linux.resources.unified). */
  unified?: Record<string, string>;
}

export interface LimitFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  cpus?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  cgroupConf?: string[];
  blkioWeightDevice?: string[];
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
}

export interface Ulimit {
  type: string;
  soft: number;
  hard: number;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

// docker/go-units RAMInBytes: "512m", "1g", "1.5G", "100", "64mb", "2gib" (binary multiples).
export const parseBytes = (text: string, flag: string): number => {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtpb]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new CliError('EUSAGE', `invalid ${flag} "${text}": use a size such as 512m or 1g (b, k, m, g, t)`);
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
};

const wholeNumber = (text: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max)
    throw new CliError(
      'EUSAGE',
      `invalid ${flag} "${text}": use a whole number${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` of at least ${min}`}`,
    );
  return n;
};

// "0-3", "0,2", "1-2,5": the kernel's cpu/mem list syntax.
const cpuList = (text: string, flag: string): string => {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text)) throw new CliError('EUSAGE', `invalid ${flag} "${text}": use a list such as 0-3 or 0,2`);
  return text;
};

// --device-read-bps /dev/sda:10mb (the rate: a size for bps, a count for iops).
const deviceRates = (values: string[] | undefined, flag: string, bytes: boolean): DeviceRate[] | undefined =>
  values?.length
    ? values.map((v) => {
        const colon = v.lastIndexOf(':');
        if (colon <= 0 || !v.startsWith('/')) throw new CliError('EUSAGE', `invalid ${flag} "${v}": use DEVICE-PATH:RATE, e.g. /dev/sda:10mb`);
        const rate = v.slice(colon + 1);
        return { path: v.slice(0, colon), rate: bytes ? parseBytes(rate, flag) : wholeNumber(rate, flag, 0) };
      })
    : undefined;

// --blkio-weight-device /dev/sda:200 (a weight from 10 to 1000, or 0: the device's default).
const weightDevices = (values: string[] | undefined): { path: string; weight: number }[] | undefined =>
  values?.length
    ? values.map((v) => {
        const colon = v.lastIndexOf(':');
        if (colon <= 0 || !v.startsWith('/')) throw new CliError('EUSAGE', `invalid --blkio-weight-device "${v}": use DEVICE-PATH:WEIGHT, e.g. /dev/sda:200`);
        const weight = wholeNumber(v.slice(colon + 1), '--blkio-weight-device weight', 0, 1000);
        if (weight > 0 && weight < 10) throw new CliError('EUSAGE', `invalid --blkio-weight-device "${v}": the weight is 0 or from 10 to 1000`);
        return { path: v.slice(0, colon), weight };
      })
    : undefined;

// --cpu-rt-period/--cpu-rt-runtime: cgroup v1's cpu.rt_* files. cgroup v2 has none: as Podman, a
// warning and no limit (`v2`: the host's cgroups are v2).
const realtime = (f: LimitFlags, r: ResourceLimits, v2: boolean): void => {
  for (const [flag, value, key, what] of [
    ['--cpu-rt-period', f.cpuRtPeriod, 'cpuRtPeriod', 'period'],
    ['--cpu-rt-runtime', f.cpuRtRuntime, 'cpuRtRuntime', 'runtime'],
  ] as const) {
    if (value === undefined) continue;
    const n = wholeNumber(value, flag, key === 'cpuRtRuntime' ? -1 : 0);
    if (v2) log.warn(`${flag}: realtime ${what} not supported on cgroups V2 systems: ignored`);
    else r[key] = n;
  }
};

const MIN_MEMORY = 6 * 1024 * 1024;
const CPU_PERIOD = 100_000;

export const parseLimits = (f: LimitFlags, v2 = cgroupVersion() === 'v2'): ResourceLimits => {
  const r: ResourceLimits = {};
  realtime(f, r, v2);
  if (f.memory !== undefined) {
    r.memory = parseBytes(f.memory, '--memory');
    if (r.memory > 0 && r.memory < MIN_MEMORY) throw new CliError('EUSAGE', `--memory ${f.memory} is too small: the least is 6m`);
  }
  if (f.memorySwap !== undefined) {
    r.memorySwap = f.memorySwap.trim() === '-1' ? -1 : parseBytes(f.memorySwap, '--memory-swap');
    if (r.memory === undefined) throw new CliError('EUSAGE', '--memory-swap needs --memory: it is memory plus swap');
    if (r.memorySwap !== -1 && r.memorySwap < r.memory)
      throw new CliError('EUSAGE', `--memory-swap ${f.memorySwap} is less than --memory ${f.memory}: it counts memory plus swap (-1: unlimited swap)`);
  }
  if (f.memoryReservation !== undefined) r.memoryReservation = parseBytes(f.memoryReservation, '--memory-reservation');
  if (f.memorySwappiness !== undefined) r.memorySwappiness = wholeNumber(f.memorySwappiness, '--memory-swappiness', 0, 100);
  if (f.oomKillDisable) r.oomKillDisable = true;
  if (f.cpus !== undefined) {
    const cpus = Number(f.cpus);
    if (!/^\d*\.?\d+$/.test(f.cpus.trim()) || !(cpus > 0)) throw new CliError('EUSAGE', `invalid --cpus "${f.cpus}": use a number of CPUs such as 0.5 or 2`);
    if (f.cpuQuota !== undefined || f.cpuPeriod !== undefined)
      throw new CliError('EUSAGE', '--cpus conflicts with --cpu-quota and --cpu-period: use one or the other');
    r.cpuPeriod = CPU_PERIOD;
    r.cpuQuota = Math.round(cpus * CPU_PERIOD);
  }
  if (f.cpuShares !== undefined) r.cpuShares = wholeNumber(f.cpuShares, '--cpu-shares', 2, 262144);
  if (f.cpuQuota !== undefined) r.cpuQuota = wholeNumber(f.cpuQuota, '--cpu-quota', 1000);
  if (f.cpuPeriod !== undefined) r.cpuPeriod = wholeNumber(f.cpuPeriod, '--cpu-period', 1000, 1_000_000);
  if (f.cpusetCpus !== undefined) r.cpusetCpus = cpuList(f.cpusetCpus, '--cpuset-cpus');
  if (f.cpusetMems !== undefined) r.cpusetMems = cpuList(f.cpusetMems, '--cpuset-mems');
  if (f.pidsLimit !== undefined) r.pidsLimit = wholeNumber(f.pidsLimit, '--pids-limit', -1);
  if (f.blkioWeight !== undefined) r.blkioWeight = wholeNumber(f.blkioWeight, '--blkio-weight', 10, 1000);
  const rates = {
    deviceReadBps: deviceRates(f.deviceReadBps, '--device-read-bps', true),
    deviceWriteBps: deviceRates(f.deviceWriteBps, '--device-write-bps', true),
    deviceReadIops: deviceRates(f.deviceReadIops, '--device-read-iops', false),
    deviceWriteIops: deviceRates(f.deviceWriteIops, '--device-write-iops', false),
  };
  for (const [k, v] of Object.entries(rates)) if (v) (r as Record<string, unknown>)[k] = v;
  const weights = weightDevices(f.blkioWeightDevice);
  if (weights) r.blkioWeightDevice = weights;
  if (f.cgroupConf?.length) {
    r.unified = {};
    for (const kv of f.cgroupConf) {
      const eq = kv.indexOf('=');
      const key = kv.slice(0, eq);
      if (eq <= 0 || !/^[a-z]+\.[A-Za-z0-9_.]+$/.test(key)) throw new CliError('EUSAGE', `invalid --cgroup-conf "${kv}": use FILE=VALUE, e.g. memory.high=1g`);
      r.unified[key] = kv.slice(eq + 1);
    }
  }
  return r;
};

// The controllers a container's limits need, each with the flag that asked (for the message).
export const neededControllers = (r: ResourceLimits): Map<string, string> => {
  const need = new Map<string, string>();
  const add = (controller: string, flag: string, asked: unknown) => {
    if (asked !== undefined && !need.has(controller)) need.set(controller, flag);
  };
  add('memory', '--memory', r.memory);
  add('memory', '--memory-swap', r.memorySwap);
  add('memory', '--memory-reservation', r.memoryReservation);
  add('cpu', '--cpus', r.cpuQuota);
  add('cpu', '--cpu-shares', r.cpuShares);
  add('cpu', '--cpu-period', r.cpuPeriod);
  add('cpuset', '--cpuset-cpus', r.cpusetCpus);
  add('cpuset', '--cpuset-mems', r.cpusetMems);
  add('pids', '--pids-limit', r.pidsLimit);
  add('io', '--blkio-weight', r.blkioWeight);
  add('io', '--device-read-bps', r.deviceReadBps);
  add('io', '--device-write-bps', r.deviceWriteBps);
  add('io', '--device-read-iops', r.deviceReadIops);
  add('io', '--device-write-iops', r.deviceWriteIops);
  add('io', '--blkio-weight-device', r.blkioWeightDevice);
  add('cpu', '--cpu-rt-period', r.cpuRtPeriod);
  add('cpu', '--cpu-rt-runtime', r.cpuRtRuntime);
  for (const key of Object.keys(r.unified ?? {})) add(key.split('.')[0]!, '--cgroup-conf', key);
  return need;
};

// --ulimit TYPE=SOFT[:HARD] ("nofile=1024:2048", "nproc=-1" unlimited), as Docker's.
const RLIMITS = [
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
  'as',
];
export const parseUlimit = (text: string): Ulimit => {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(text);
  if (!m || !RLIMITS.includes(m[1]!)) throw new CliError('EUSAGE', `invalid --ulimit "${text}": use TYPE=SOFT[:HARD], TYPE one of ${RLIMITS.join(', ')}`);
  // -1: unlimited (kept as -1 here; the spec writes RLIM_INFINITY, 2^64-1, which a JS number cannot hold).
  const value = (s: string) => Number(s);
  const soft = value(m[2]!);
  const hard = m[3] !== undefined ? value(m[3]) : soft;
  if ((hard !== -1 && soft === -1) || (hard !== -1 && soft > hard))
    throw new CliError('EUSAGE', `invalid --ulimit "${text}": the soft limit is above the hard one`);
  return { type: `RLIMIT_${m[1]!.toUpperCase()}`, soft, hard };
};

// /proc/self/limits' names for the rlimits.
const LIMIT_NAMES: Record<string, string> = {
  RLIMIT_CPU: 'Max cpu time',
  RLIMIT_FSIZE: 'Max file size',
  RLIMIT_DATA: 'Max data size',
  RLIMIT_STACK: 'Max stack size',
  RLIMIT_CORE: 'Max core file size',
  RLIMIT_RSS: 'Max resident set',
  RLIMIT_NPROC: 'Max processes',
  RLIMIT_NOFILE: 'Max open files',
  RLIMIT_MEMLOCK: 'Max locked memory',
  RLIMIT_AS: 'Max address space',
  RLIMIT_LOCKS: 'Max file locks',
  RLIMIT_SIGPENDING: 'Max pending signals',
  RLIMIT_MSGQUEUE: 'Max msgqueue size',
  RLIMIT_NICE: 'Max nice priority',
  RLIMIT_RTPRIO: 'Max realtime priority',
  RLIMIT_RTTIME: 'Max realtime timeout',
};

// A rootless container cannot raise a hard limit past the user's own: said before anything is made
// (the runtime would fail at the start with "setrlimit: Operation not permitted"). `limits`: the
// text of /proc/self/limits.
export const checkUlimits = (ulimits: Ulimit[], limits: string): void => {
  for (const u of ulimits) {
    const hard = hardLimit(LIMIT_NAMES[u.type] ?? '\0', limits);
    if (hard === undefined) continue;
    if (u.hard === -1 || u.hard > hard)
      throw new CliError(
        'EUSAGE',
        `--ulimit ${u.type.slice(7).toLowerCase()}: the hard limit ${u.hard === -1 ? 'unlimited' : u.hard} is above yours (${hard}), which a rootless container cannot raise`,
      );
  }
};

const throttle = (rates: DeviceRate[] | undefined, major: (path: string) => [number, number]) =>
  rates?.map((d) => {
    const [maj, min] = major(d.path);
    return { major: maj, minor: min, rate: d.rate };
  });

// linux.resources of the OCI spec (the runtime writes the cgroup v2 files: memory.max, cpu.max, ...).
export const ociResources = (r: ResourceLimits, device: (path: string) => [number, number]): Record<string, unknown> | undefined => {
  const out: Record<string, unknown> = {};
  const memory = {
    ...(r.memory !== undefined ? { limit: r.memory } : {}),
    ...(r.memorySwap !== undefined ? { swap: r.memorySwap } : {}),
    ...(r.memoryReservation !== undefined ? { reservation: r.memoryReservation } : {}),
    // (swappiness and disableOOMKiller are cgroup v1's: skiff's managers are v2 only.)
  };
  if (Object.keys(memory).length) out.memory = memory;
  const cpu = {
    ...(r.cpuShares !== undefined ? { shares: r.cpuShares } : {}),
    ...(r.cpuQuota !== undefined ? { quota: r.cpuQuota } : {}),
    ...(r.cpuPeriod !== undefined ? { period: r.cpuPeriod } : {}),
    ...(r.cpusetCpus !== undefined ? { cpus: r.cpusetCpus } : {}),
    ...(r.cpusetMems !== undefined ? { mems: r.cpusetMems } : {}),
  };
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit };
  const blockIO = {
    ...(r.blkioWeight !== undefined ? { weight: r.blkioWeight } : {}),
    ...(r.deviceReadBps ? { throttleReadBpsDevice: throttle(r.deviceReadBps, device) } : {}),
    ...(r.deviceWriteBps ? { throttleWriteBpsDevice: throttle(r.deviceWriteBps, device) } : {}),
    ...(r.deviceReadIops ? { throttleReadIOPSDevice: throttle(r.deviceReadIops, device) } : {}),
    ...(r.deviceWriteIops ? { throttleWriteIOPSDevice: throttle(r.deviceWriteIops, device) } : {}),
    // (The runtime writes io.bfq.weight_device, "MAJOR:MINOR WEIGHT", one line per device.)
    ...(r.blkioWeightDevice
      ? {
          weightDevice: r.blkioWeightDevice.map((d) => {
            const [major, minor] = device(d.path);
            return { major, minor, weight: d.weight };
          }),
        }
      : {}),
  };
  if (Object.keys(blockIO).length) out.blockIO = blockIO;
  if (r.unified) out.unified = r.unified;
  return Object.keys(out).length ? out : undefined;
};
