// A container's own user namespace (--userns=keep-id, nomap, auto, --uidmap/--gidmap): its map from
// container ids to the ids of skiff's namespace, where 0 is the user and 1..N the subordinate range.
// `host` (the default) means no namespace of its own: root inside is the user outside.
import { readFileSync } from 'node:fs';
import { CliError } from '../errors.js';

/** Container ids inner..inner+count-1 are skiff's namespace's ids outer..outer+count-1. */
export interface IdMapRange {
  inner: number;
  outer: number;
  count: number;
}

export interface IdMappings {
  uid: IdMapRange[];
  gid: IdMapRange[];
}

export type UsernsRequest =
  | { mode: 'host' }
  | { mode: 'keep-id'; uid?: number; gid?: number }
  | { mode: 'nomap' }
  | { mode: 'auto'; size?: number }
  | { mode: 'map'; uid: IdMapRange[]; gid: IdMapRange[] };

/** Podman's smallest --userns=auto range. */
export const AUTO_SIZE = 1024;
const MAX_RANGES = 64;

const wholeNumber = (text: string | undefined, what: string): number => {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > 0xfffffffe) throw new CliError('EUSAGE', `invalid ${what}: use a whole number`);
  return Number(text);
};

// "container:host:size" (Podman's --uidmap), host being an id of skiff's namespace.
export const parseIdMap = (text: string, flag: string): IdMapRange => {
  const parts = text.split(':');
  if (parts.length !== 3) throw new CliError('EUSAGE', `invalid ${flag} "${text}": use CONTAINER_ID:HOST_ID:SIZE (HOST_ID counts from 0, you)`);
  const [inner, outer, count] = parts.map((p) => wholeNumber(p, `${flag} "${text}"`)) as [number, number, number];
  if (count === 0) throw new CliError('EUSAGE', `invalid ${flag} "${text}": the size must be at least 1`);
  return { inner, outer, count };
};

const keyValues = (text: string, flag: string, known: string[]): Map<string, string> => {
  const values = new Map<string, string>();
  for (const part of text.split(',')) {
    const [key, value] = part.split('=', 2) as [string, string | undefined];
    if (!known.includes(key) || value === undefined)
      throw new CliError('EUSAGE', `invalid ${flag}: "${part}" is not one of ${known.map((k) => `${k}=N`).join(', ')}`);
    values.set(key, value);
  }
  return values;
};

// --userns and --uidmap/--gidmap as given; checked before anything is made.
export const parseUserns = (mode: string | undefined, uidmap: string[] = [], gidmap: string[] = []): UsernsRequest => {
  if (uidmap.length || gidmap.length) {
    if (mode && mode !== 'host' && mode !== 'private') throw new CliError('EUSAGE', `--uidmap and --gidmap cannot be used with --userns=${mode}`);
    const uid = uidmap.map((m) => parseIdMap(m, '--uidmap'));
    const gid = gidmap.map((m) => parseIdMap(m, '--gidmap'));
    // One given alone serves for both, as in Podman.
    return { mode: 'map', uid: uid.length ? uid : gid, gid: gid.length ? gid : uid };
  }
  if (mode === undefined || mode === '' || mode === 'host') return { mode: 'host' };
  const [name, rest] = mode.split(/:(.*)/s, 2) as [string, string | undefined];
  if (name === 'nomap' && rest === undefined) return { mode: 'nomap' };
  if (name === 'keep-id') {
    if (rest === undefined) return { mode: 'keep-id' };
    const values = keyValues(rest, `--userns=${mode}`, ['uid', 'gid']);
    const uid = values.has('uid') ? wholeNumber(values.get('uid'), `--userns=${mode} uid`) : undefined;
    const gid = values.has('gid') ? wholeNumber(values.get('gid'), `--userns=${mode} gid`) : undefined;
    return { mode: 'keep-id', ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) };
  }
  if (name === 'auto') {
    if (rest === undefined) return { mode: 'auto' };
    const values = keyValues(rest, `--userns=${mode}`, ['size']);
    const size = wholeNumber(values.get('size'), `--userns=${mode} size`);
    if (size < 1) throw new CliError('EUSAGE', `invalid --userns=${mode}: the size must be at least 1`);
    return { mode: 'auto', size };
  }
  if (name === 'private' && rest === undefined) return { mode: 'host' };
  throw new CliError('EUSAGE', `invalid --userns "${mode}": use host, keep-id[:uid=N,gid=N], nomap or auto[:size=N] (or --uidmap/--gidmap)`);
};

export interface NamespaceIds {
  /** The user's ids outside (what 0 is in skiff's namespace). */
  hostUid: number;
  hostGid: number;
  /** How many ids skiff's namespace has (1 + the subordinate ranges). */
  uids: number;
  gids: number;
}

const readMap = (file: string, own: number | undefined): { zero: number; size: number } => {
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  // Not in a user namespace (the whole identity map): the ids are the process's own.
  const initial = lines.length === 1 && lines[0]![0] === 0 && lines[0]![1] === 0 && lines[0]![2] === 4294967295;
  const zero = initial ? (own ?? 0) : (lines.find((l) => l[0] === 0)?.[1] ?? 0);
  return { zero, size: lines.reduce((n, l) => Math.max(n, l[0] + l[2]), 0) };
};

// What skiff's namespace maps, read from the inside (the CLI runs in it).
export const namespaceIds = (): NamespaceIds => {
  const uid = readMap('/proc/self/uid_map', process.getuid?.());
  const gid = readMap('/proc/self/gid_map', process.getgid?.());
  return { hostUid: uid.zero, hostGid: gid.zero, uids: uid.size, gids: gid.size };
};

// The user's id at `at` inside, the rest of the namespace around it (Podman's keep-id map).
const keepIdMap = (at: number, size: number): IdMapRange[] => [
  ...(at > 0 ? [{ inner: 0, outer: 1, count: Math.min(at, size - 1) }] : []),
  { inner: at, outer: 0, count: 1 },
  ...(at + 1 < size ? [{ inner: at + 1, outer: at + 1, count: size - at - 1 }] : []),
];

const overlaps = (a: IdMapRange[], pick: (r: IdMapRange) => number): IdMapRange | undefined => {
  const sorted = [...a].sort((x, y) => pick(x) - pick(y));
  return sorted.find((r, i) => i > 0 && pick(sorted[i - 1]!) + sorted[i - 1]!.count > pick(r));
};

const checkMap = (ranges: IdMapRange[], size: number, flag: string): void => {
  if (ranges.length > MAX_RANGES) throw new CliError('EUSAGE', `too many ${flag} ranges: at most ${MAX_RANGES}`);
  for (const r of ranges)
    if (r.outer + r.count > size)
      throw new CliError(
        'EUSAGE',
        `${flag} ${r.inner}:${r.outer}:${r.count} goes past skiff's user namespace, which has ids 0-${size - 1} (0 is you, the rest your /etc/subuid range)`,
      );
  if (overlaps(ranges, (r) => r.inner) || overlaps(ranges, (r) => r.outer)) throw new CliError('EUSAGE', `${flag}: two ranges overlap`);
};

// The lowest `size` ids of 1..limit-1 that no range in `taken` uses, or undefined.
export const freeRange = (taken: IdMapRange[], size: number, limit: number): number | undefined => {
  let start = 1;
  for (const r of [...taken].sort((a, b) => a.outer - b.outer)) {
    if (r.outer >= start + size) break;
    start = Math.max(start, r.outer + r.count);
  }
  return start + size <= limit ? start : undefined;
};

// The container's maps, or undefined for `host`. `autoTaken`: what other auto containers use.
export const idMappingsFor = (request: UsernsRequest, ns: NamespaceIds, autoTaken: IdMapRange[] = []): IdMappings | undefined => {
  const needRange = (what: string) => {
    if (ns.uids < 2 || ns.gids < 2)
      throw new CliError('EUSAGE', `--userns=${what} needs subordinate ids: skiff maps only your own uid (storage.userns = "single", or no /etc/subuid range)`);
  };
  switch (request.mode) {
    case 'host':
      return undefined;
    case 'keep-id': {
      needRange('keep-id');
      const uid = request.uid ?? ns.hostUid;
      const gid = request.gid ?? ns.hostGid;
      if (uid >= ns.uids || gid >= ns.gids)
        throw new CliError('EUSAGE', `--userns=keep-id: uid ${uid} or gid ${gid} is past skiff's user namespace (ids 0-${Math.min(ns.uids, ns.gids) - 1})`);
      return { uid: keepIdMap(uid, ns.uids), gid: keepIdMap(gid, ns.gids) };
    }
    case 'nomap':
      needRange('nomap');
      return { uid: [{ inner: 0, outer: 1, count: ns.uids - 1 }], gid: [{ inner: 0, outer: 1, count: ns.gids - 1 }] };
    case 'auto': {
      needRange('auto');
      const size = request.size ?? AUTO_SIZE;
      const limit = Math.min(ns.uids, ns.gids);
      const start = freeRange(autoTaken, size, limit);
      if (start === undefined)
        throw new CliError(
          'EUSAGE',
          `--userns=auto: no ${size} ids are free in skiff's user namespace (ids 1-${limit - 1}; other auto containers use the rest)`,
        );
      return { uid: [{ inner: 0, outer: start, count: size }], gid: [{ inner: 0, outer: start, count: size }] };
    }
    case 'map':
      checkMap(request.uid, ns.uids, '--uidmap');
      checkMap(request.gid, ns.gids, '--gidmap');
      return { uid: request.uid, gid: request.gid };
  }
};

// A container id as skiff's namespace sees it (an id the map leaves out stays as it is).
export const toOuter = (ranges: IdMapRange[] | undefined, id: number): number => {
  const r = ranges?.find((x) => id >= x.inner && id < x.inner + x.count);
  return r ? r.outer + (id - r.inner) : id;
};

// An id of skiff's namespace as the container sees it (65534, nobody, where it is not mapped).
export const toInner = (ranges: IdMapRange[] | undefined, id: number): number => {
  if (!ranges) return id;
  const r = ranges.find((x) => id >= x.outer && id < x.outer + x.count);
  return r ? r.inner + (id - r.outer) : 65534;
};

// The flat [inner, outer, count, ...] form the native copier takes.
export const flatRanges = (ranges: IdMapRange[]): number[] => ranges.flatMap((r) => [r.inner, r.outer, r.count]);

// A container's uid and gid as skiff's namespace sees them (the same ids without a map).
export const outerIds = (mappings: IdMappings | undefined, ids: { uid: number; gid: number }): { uid: number; gid: number } => ({
  uid: toOuter(mappings?.uid, ids.uid),
  gid: toOuter(mappings?.gid, ids.gid),
});

// Who root inside is, as skiff's namespace sees it (the owner of the container's own files).
export const rootOwner = (mappings: IdMappings | undefined): { uid: number; gid: number } | undefined => mappings && outerIds(mappings, { uid: 0, gid: 0 });

// Podman's --subuidname/--subgidname (build's --userns-uid-map-user/--userns-gid-map-group): NAME's
// ranges in /etc/subuid (or /etc/subgid) from container id 0 on, as ids of skiff's namespace
// (`nsMap`, its uid_map or gid_map): only ranges the namespace holds, the user's own, can be used.
export const subordinateMap = (file: string, nsMap: string, name: string, flag: string): IdMapRange[] => {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(':'))
    .filter((f) => f.length === 3 && f[0] === name)
    .map((f) => [Number(f[1]), Number(f[2])] as [number, number]);
  if (!entries.length) throw new CliError('EUSAGE', `${flag} ${name}: ${file} has no range for ${name}`);
  const lines = readFileSync(nsMap, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
  const out: IdMapRange[] = [];
  let inner = 0;
  for (const [start, count] of entries) {
    const line = lines.find(([, outer, size]) => start >= outer && start + count <= outer + size);
    if (!line)
      throw new CliError(
        'EUSAGE',
        `${flag} ${name}: its range ${start}-${start + count - 1} in ${file} is not in skiff's user namespace (only your own ranges are)`,
      );
    out.push({ inner, outer: line[0] + (start - line[1]), count });
    inner += count;
  }
  return out;
};
