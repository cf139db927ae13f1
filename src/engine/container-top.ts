// `top`: a running container's processes in the columns Podman's descriptors (psgo's, AIX ps
// format plus container ones) name, read from /proc inside skiff's user namespace.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { groupNames, userNames } from '../oci/passwd.js';
import { ALL_CAPABILITIES } from '../oci/spec.js';
import { type IdMapRange, type IdMappings, toInner, toOuter } from '../util/idmap.js';
import { goDuration, goTime } from '../util/units.js';

// What a descriptor's column reads of one process.
interface Proc {
  hostPid: string;
  pid: string;
  ppid: string;
  pgid: string;
  state: string;
  tty: number;
  nice: string;
  /** CPU seconds (user and system). */
  cpu: number;
  /** Start, in ms since the epoch (to the clock tick). */
  start: number;
  vsz: number;
  rss: number;
  comm: string;
  args: string;
  /** Real, effective ids as the container sees them, and the effective ones on the host. */
  ruid: string;
  euid: string;
  rgid: string;
  egid: string;
  huid: string;
  hgid: string;
  groups: string[];
  hostGroups: string[];
  caps: Record<'CapInh' | 'CapPrm' | 'CapEff' | 'CapBnd' | 'CapAmb', bigint>;
  seccomp: string;
  label: string;
}

interface Names {
  users: Map<string, string>;
  groups: Map<string, string>;
  now: number;
}

const HZ = 100;

// Capability names, sorted, for a mask: "none" without any, "full" with every one the kernel has.
const capabilities = (mask: bigint): string => {
  if (mask === 0n) return 'none';
  const last = lastCap();
  if (mask === (1n << BigInt(last + 1)) - 1n) return 'full';
  return ALL_CAPABILITIES.filter((_, bit) => mask & (1n << BigInt(bit)))
    .map((c) => c.slice(4))
    .sort()
    .join(',');
};

let cachedLastCap: number | undefined;
const lastCap = (): number => {
  cachedLastCap ??= Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  return cachedLastCap;
};

// "pts/3" for a pseudo terminal, "?" without one (psgo's), the device numbers otherwise.
const ttyName = (nr: number): string => {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${minor + (major - 136) * 256}`;
  if (major === 4 && minor < 64) return `tty${minor}`;
  return '?';
};

const seconds = (p: Proc, now: number): number => Math.max(0.001, (now - p.start) / 1000);

// psgo's descriptors: header and value; the AIX codes (%C ...) name the same columns.
const DESCRIPTORS: Record<string, { header: string; value: (p: Proc, n: Names) => string }> = {
  args: { header: 'COMMAND', value: (p) => p.args },
  capamb: { header: 'AMBIENT CAPS', value: (p) => capabilities(p.caps.CapAmb) },
  capbnd: { header: 'BOUNDING CAPS', value: (p) => capabilities(p.caps.CapBnd) },
  capeff: { header: 'EFFECTIVE CAPS', value: (p) => capabilities(p.caps.CapEff) },
  capinh: { header: 'INHERITED CAPS', value: (p) => capabilities(p.caps.CapInh) },
  capprm: { header: 'PERMITTED CAPS', value: (p) => capabilities(p.caps.CapPrm) },
  comm: { header: 'COMMAND', value: (p) => p.comm },
  etime: { header: 'ELAPSED', value: (p, n) => goDuration(BigInt(Math.round((n.now - p.start) * 1e6))) },
  group: { header: 'GROUP', value: (p, n) => n.groups.get(p.egid) ?? p.egid },
  groups: { header: 'GROUPS', value: (p, n) => p.groups.map((g) => n.groups.get(g) ?? g).join(',') },
  hgroup: { header: 'HGROUP', value: (p) => p.hgid },
  hgroups: { header: 'HGROUPS', value: (p) => p.hostGroups.join(',') },
  hpid: { header: 'HPID', value: (p) => p.hostPid },
  huser: { header: 'HUSER', value: (p) => p.huid },
  label: { header: 'LABEL', value: (p) => p.label },
  nice: { header: 'NI', value: (p) => p.nice },
  pcpu: { header: '%CPU', value: (p, n) => ((100 * p.cpu) / seconds(p, n.now)).toFixed(3) },
  pgid: { header: 'PGID', value: (p) => p.pgid },
  pid: { header: 'PID', value: (p) => p.pid },
  ppid: { header: 'PPID', value: (p) => p.ppid },
  rgroup: { header: 'RGROUP', value: (p, n) => n.groups.get(p.rgid) ?? p.rgid },
  rss: { header: 'RSS', value: (p) => String(p.rss) },
  ruser: { header: 'RUSER', value: (p, n) => n.users.get(p.ruid) ?? p.ruid },
  seccomp: { header: 'SECCOMP', value: (p) => p.seccomp },
  state: { header: 'STATE', value: (p) => p.state },
  stime: { header: 'STIME', value: (p) => goTime(new Date(p.start).toISOString(), { fraction: false }) },
  time: { header: 'TIME', value: (p) => goDuration(BigInt(Math.floor(p.cpu)) * 1_000_000_000n) },
  tty: { header: 'TTY', value: (p) => ttyName(p.tty) },
  user: { header: 'USER', value: (p, n) => n.users.get(p.euid) ?? p.euid },
  vsz: { header: 'VSZ', value: (p) => String(p.vsz) },
};

const AIX_CODES: Record<string, string> = {
  '%C': 'pcpu',
  '%G': 'group',
  '%P': 'ppid',
  '%U': 'user',
  '%a': 'args',
  '%c': 'comm',
  '%g': 'rgroup',
  '%n': 'nice',
  '%p': 'pid',
  '%r': 'pgid',
  '%t': 'etime',
  '%u': 'ruser',
  '%x': 'time',
  '%y': 'tty',
  '%z': 'vsz',
};

// Podman's default columns: USER PID PPID %CPU ELAPSED TTY TIME COMMAND.
export const DEFAULT_TOP_DESCRIPTORS = ['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args'];

export const TOP_DESCRIPTORS = Object.keys(DESCRIPTORS);

// The descriptors (each argument may hold several, comma-separated) as psgo's names; undefined
// when one is not a descriptor: Podman then runs ps(1) in the container with the arguments.
export const parseTopDescriptors = (args: string[]): string[] | undefined => {
  const names = args.flatMap((a) => a.split(',')).filter(Boolean);
  if (!names.length) return DEFAULT_TOP_DESCRIPTORS;
  const known = names.map((d) => AIX_CODES[d] ?? (d in DESCRIPTORS ? d : undefined));
  return known.every((d) => d !== undefined) ? (known as string[]) : undefined;
};

export interface TopReport {
  headers: string[];
  rows: string[][];
}

// The processes in the pid namespace of `initPid` (the container's), by pid. `root` is where
// the container's /etc is seen; `mappings` its own user namespace's, if it has one.
export const topReport = (initPid: number, descriptors: string[], root: string, mappings: IdMappings | undefined): TopReport => {
  const pidNs = readlinkSync(`/proc/${initPid}/ns/pid`);
  const names: Names = { users: userNames(root), groups: groupNames(root), now: Date.now() };
  const hostUids = selfMap('uid');
  const hostGids = selfMap('gid');
  const bootMs = bootTime() * 1000;
  const procs: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== pidNs) continue;
      procs.push(readProc(entry, pidNs, bootMs, { mappings, hostUids, hostGids }));
    } catch {
      // the process ended while we looked
    }
  }
  procs.sort((a, b) => Number(a.pid) - Number(b.pid));
  const columns = descriptors.map((d) => DESCRIPTORS[d]);
  return { headers: columns.map((c) => c.header), rows: procs.map((p) => columns.map((c) => c.value(p, names))) };
};

interface IdViews {
  mappings: IdMappings | undefined;
  hostUids: IdMapRange[];
  hostGids: IdMapRange[];
}

const readProc = (entry: string, pidNs: string, bootMs: number, ids: IdViews): Proc => {
  const status = readFileSync(`/proc/${entry}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '';
  const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
  const [ruid, euid] = field('Uid').split(/\s+/).map(Number);
  const [rgid, egid] = field('Gid').split(/\s+/).map(Number);
  const groups = field('Groups').split(/\s+/).filter(Boolean).map(Number);
  const inner = (ranges: IdMapRange[] | undefined, id: number) => String(ranges ? toInner(ranges, id) : id);
  const hex = (name: string) => BigInt(`0x${field(name) || '0'}`);
  return {
    hostPid: entry,
    pid: field('NSpid').split(/\s+/).pop() ?? entry,
    ppid: nsPid(field('PPid'), pidNs),
    pgid: nsPid(f[2], pidNs),
    state: f[0],
    tty: Number(f[4]),
    nice: f[16],
    cpu: (Number(f[11]) + Number(f[12])) / HZ,
    start: bootMs + (Number(f[19]) * 1000) / HZ,
    vsz: Math.floor(Number(f[20]) / 1024),
    rss: Number(/^(\d+)/.exec(field('VmRSS'))?.[1] ?? 0),
    comm: field('Name'),
    // (psgo joins the NUL-separated words with spaces, the empty one after the last NUL too.)
    args: cmdline ? cmdline.split('\0').join(' ') : `[${field('Name')}]`,
    ruid: inner(ids.mappings?.uid, ruid),
    euid: inner(ids.mappings?.uid, euid),
    rgid: inner(ids.mappings?.gid, rgid),
    egid: inner(ids.mappings?.gid, egid),
    huid: String(toOuter(ids.hostUids, euid)),
    hgid: String(toOuter(ids.hostGids, egid)),
    groups: groups.map((g) => inner(ids.mappings?.gid, g)),
    hostGroups: groups.map((g) => String(toOuter(ids.hostGids, g))),
    caps: { CapInh: hex('CapInh'), CapPrm: hex('CapPrm'), CapEff: hex('CapEff'), CapBnd: hex('CapBnd'), CapAmb: hex('CapAmb') },
    seccomp: ['disabled', 'strict', 'filter'][Number(field('Seccomp'))] ?? '?',
    label: label(entry),
  };
};

// A pid as the container sees it; 0 for one outside the container (the monitor).
const nsPid = (hostPid: string, pidNs: string): string => {
  try {
    if (readlinkSync(`/proc/${hostPid}/ns/pid`) !== pidNs) return '0';
    const status = readFileSync(`/proc/${hostPid}/status`, 'utf8');
    return /^NSpid:\s*(.*)$/m.exec(status)?.[1].split(/\s+/).pop() ?? '0';
  } catch {
    return '0';
  }
};

// The security label (SELinux, AppArmor); "?" where the host has none.
const label = (pid: string): string => {
  try {
    return readFileSync(`/proc/${pid}/attr/current`, 'utf8').replace(/\0/g, '').trim() || '?';
  } catch {
    return '?';
  }
};

// This process's user namespace's map onto the host (ids as skiff's namespace sees them → host ids).
const selfMap = (kind: 'uid' | 'gid'): IdMapRange[] =>
  readFileSync(`/proc/self/${kind}_map`, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isFinite))
    .map(([inner, outer, count]) => ({ inner, outer, count }));

const bootTime = (): number => Number(/^btime\s+(\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
