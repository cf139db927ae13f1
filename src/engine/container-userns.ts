// A container with a user namespace of its own (see util/idmap.ts): its map, chosen at create, and
// what it needs besides: for keep-id, an /etc/passwd and /etc/group entry for the user (bind-mounted copies of the
// container's files with the entry added, as the image's are never changed) and a home directory.
import { chmodSync, lchownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError } from '../errors.js';
import { hostAccount as hostEntry } from '../oci/passwd.js';
import { readSubids } from '../rootless/subid.js';
import type { Mount } from '../oci/spec.js';
import type { ContainerConfig, ContainerRecord } from '../state/containers.js';
import { isRootful } from '../rootless/rootful.js';
import type { CreateOptions } from './container-config.js';
import type { EngineContext } from './context.js';
import { type IdMapRange, type IdMappings, idMappingsFor, namespaceIds, outerIds, parseUserns, rootOwner } from '../util/idmap.js';
import { closeQuietly, mkdirInRoot, readFileInRoot } from '../util/in-root.js';
import { ACCOUNTS_FILE_MAX } from '../util/limits.js';

// The user's name and home outside, from the host's /etc/passwd (the CLI runs as root of its namespace).
const hostAccount = (uid: number): { name: string; home: string } => {
  let line: string[] | undefined;
  try {
    line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[2] === String(uid));
  } catch {
    // no host passwd: the environment's names
  }
  const name = line?.[0] || process.env.USER || process.env.LOGNAME || `user${uid}`;
  return { name, home: line?.[5] || process.env.HOME || `/home/${name}` };
};

const accountsFile = (rootfs: string, file: string): string | undefined =>
  readFileInRoot(rootfs, file, { what: `the container's /${file}`, limit: ACCOUNTS_FILE_MAX, code: 'EUSAGE' })?.toString('utf8');

const hasId = (text: string | undefined, id: number): boolean => (text ?? '').split('\n').some((l) => l.split(':')[2] === String(id));
const hasName = (text: string | undefined, name: string): boolean => (text ?? '').split('\n').some((l) => l.split(':')[0] === name);
const appended = (text: string | undefined, line: string): string => `${text && !text.endsWith('\n') ? `${text}\n` : (text ?? '')}${line}\n`;

// keep-id: the user's /etc/passwd and /etc/group entries (when the image has none for their ids)
// as mounts of files in `userdata`, and their home made in the container's own layer.
export const keepIdAccounts = (record: ContainerRecord, rootfs: string, userdata: string, mappings: IdMappings): { mounts: Mount[]; home?: string } => {
  if (!record.config.userns?.startsWith('keep-id')) return { mounts: [] };
  const [uid, gid] = record.config.user.split(':').map(Number) as [number, number];
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return { mounts: [] }; // --user named someone else
  const { hostUid } = namespaceIds();
  const account = hostAccount(hostUid);
  const root = rootOwner(mappings)!;
  const mounts: Mount[] = [];
  let home: string | undefined;
  const write = (file: string, text: string) => {
    const path = join(userdata, file);
    writeFileSync(path, text, { mode: 0o644 });
    lchownSync(path, root.uid, root.gid);
    mounts.push({ destination: `/etc/${file}`, type: 'bind', source: path, options: ['bind', 'rprivate'] });
  };
  try {
    const passwd = accountsFile(rootfs, 'etc/passwd');
    if (!hasId(passwd, uid)) {
      const name = hasName(passwd, account.name) ? `user${uid}` : account.name;
      write('passwd', appended(passwd, `${name}:*:${uid}:${gid}:${name}:${account.home}:/bin/sh`));
      home = account.home;
      if (!record.config.readOnly) {
        // (An image whose tree cannot hold the home, a file on its way: no home.)
        try {
          closeQuietly(mkdirInRoot(rootfs, account.home, outerIds(mappings, { uid, gid })));
        } catch (error) {
          if (!(error instanceof CliError)) throw error;
        }
      }
    }
    const group = accountsFile(rootfs, 'etc/group');
    if (!hasId(group, gid)) write('group', appended(group, `${hasName(group, account.name) ? `group${gid}` : account.name}:x:${gid}:`));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('EUSAGE', `cannot add your user to the container's /etc/passwd (keep-id): ${(error as Error).message}`, { cause: error });
  }
  return { mounts, ...(home ? { home } : {}) };
};

// The container's own user namespace, if --userns or --uidmap asks for one: its map, and for
// keep-id the user's ids as the default user. `auto` takes ids no other auto container has (the
// caller holds the lock that makes that true).
export const setUserns = (ctx: EngineContext, options: CreateOptions, config: ContainerConfig, containerDir: string): void => {
  if (!config.userns) return;
  if (isRootful()) throw new CliError('EUSAGE', `--userns=${config.userns} is for rootless use: as root, containers run with the host's ids`);
  const maps = idMapFlags(options);
  const request = parseUserns(options.userns, maps.uidmap, maps.gidmap);
  const ns = namespaceIds();
  const taken = ctx.containers
    .list()
    .filter((r) => r.config.userns?.startsWith('auto'))
    .flatMap((r) => r.config.idMappings?.uid ?? []);
  config.idMappings = idMappingsFor(request, ns, taken);
  if (!config.idMappings) return;
  const sources = (config.mounts ?? []).map((m) => (m.type === 'bind' ? m.source : ctx.volumes.dataDir(m.source)));
  // skiff's own directories let others search them (not list them), as Podman's do for such containers.
  for (const dir of [ctx.paths.data, join(ctx.paths.data, 'containers'), ctx.paths.volumes]) searchable(dir);
  checkReachable([join(containerDir, 'merged'), ...sources], config.idMappings, config.userns);
  if (request.mode === 'keep-id' && !options.user) config.user = `${request.uid ?? ns.hostUid}:${request.gid ?? ns.hostGid}`;
};

// Lets others search (not list) a directory of skiff's, if it is there.
export const searchable = (dir: string): void => {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st && !(st.mode & 0o001)) chmodSync(dir, (st.mode & 0o7777) | 0o001);
};

// The runtime mounts the root and the binds as root of the container's namespace. Where that is
// not you (nomap, auto, a --uidmap that leaves 0 out), it reaches a directory of yours only when
// others may search it: each directory above `paths` is checked, so the create fails in one line
// naming the directory, not at the start with the runtime's "Permission denied".
export const checkReachable = (paths: string[], mappings: IdMappings, mode: string): void => {
  const mapped = (ranges: IdMapRange[], id: number) => ranges.some((r) => id >= r.outer && id < r.outer + r.count);
  if (mapped(mappings.uid, 0)) return;
  const checked = new Set<string>();
  for (const path of paths) {
    for (let dir = dirname(path); !checked.has(dir); dir = dirname(dir)) {
      checked.add(dir);
      const st = statSync(dir, { throwIfNoEntry: false });
      if (st && !(st.mode & 0o001) && !(mapped(mappings.uid, st.uid) && mapped(mappings.gid, st.gid)))
        throw new CliError(
          'EUSAGE',
          `--userns=${mode}: root in the container is not you, and cannot reach ${dir}: let others search it (chmod o+x ${dir}), as Podman needs too`,
        );
      if (dir === '/') break;
    }
  }
};

// --subuidname/--subgidname NAME: NAME's /etc/subuid (/etc/subgid) ranges as --uidmap (--gidmap)
// entries, container ids from 0 up, as Podman's. The ranges are host ids: rootless, only those
// inside skiff's namespace (your own subordinate range, or a part of it) can be mapped, given here
// as that namespace's ids. One name alone serves for both.
export const subidMaps = (uidName: string | undefined, gidName: string | undefined): { uidmap: string[]; gidmap: string[] } => {
  if (uidName === undefined && gidName === undefined) return { uidmap: [], gidmap: [] };
  const forFile = (name: string, file: '/etc/subuid' | '/etc/subgid', map: string, flag: string): string[] => {
    const owner = hostEntry(name);
    const ranges = readSubids(file, { name, uid: owner ? Number(owner.uid) : -1, gid: -1 });
    if (!ranges.length) throw new CliError('EUSAGE', `${flag} ${name}: ${file} has no range for ${name}`);
    const lines = readFileSync(map, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
    let inner = 0;
    return ranges.map((r) => {
      const line = lines.find(([, outside, count]) => r.start >= outside && r.start + r.count <= outside + count);
      if (!line)
        throw new CliError(
          'EUSAGE',
          `${flag} ${name}: its range ${r.start}-${r.start + r.count - 1} is not among the ids your user may map (your /etc/subuid and /etc/subgid ranges)`,
        );
      const entry = `${inner}:${line[0] + (r.start - line[1])}:${r.count}`;
      inner += r.count;
      return entry;
    });
  };
  const uid = uidName ?? gidName!;
  const gid = gidName ?? uidName!;
  return {
    uidmap: forFile(uid, '/etc/subuid', '/proc/self/uid_map', uidName ? '--subuidname' : '--subgidname'),
    gidmap: forFile(gid, '/etc/subgid', '/proc/self/gid_map', gidName ? '--subgidname' : '--subuidname'),
  };
};

// --uidmap/--gidmap with --subuidname/--subgidname's entries first.
export const idMapFlags = (options: CreateOptions): { uidmap: string[]; gidmap: string[] } => {
  const sub = subidMaps(options.subuidname, options.subgidname);
  return { uidmap: [...sub.uidmap, ...(options.uidmap ?? [])], gidmap: [...sub.gidmap, ...(options.gidmap ?? [])] };
};
