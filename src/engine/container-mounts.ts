// Bind mounts and volumes: `-v` and `--mount` parsed into MountSpecs (Podman's forms), the volumes
// they name made when a container is created, an empty volume filled with the image's content at its
// destination on first start (Docker's rule; `nocopy` turns it off), and the runtime's mounts.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import type { ContainerRecord, MountSpec } from '../state/containers.js';
import { randomId } from '../state/names.js';
import { removeTree } from '../storage/layer-store.js';
import type { Rootfs } from '../storage/rootfs.js';
import type { VolumeStore } from '../storage/volumes.js';
import { closeQuietly, openInRootIfExists } from '../util/in-root.js';
import { O_PATH } from '../util/native.js';
import { log } from '../util/log.js';
import { checkName } from '../util/names.js';

const PROPAGATIONS = ['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave'];
const FLAGS = ['nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec'];

const absoluteDestination = (destination: string, flag: string, spec: string): string => {
  if (!destination.startsWith('/')) throw new CliError('EUSAGE', `invalid ${flag} "${spec}": the container path must be absolute`);
  const normal = resolve(destination);
  if (normal === '/') throw new CliError('EUSAGE', `invalid ${flag} "${spec}": cannot mount over the container's root`);
  return normal;
};

// A host path as Podman reads one: ~ is the home, a relative path is the working directory's.
const hostPath = (source: string): string => resolve(source === '~' || source.startsWith('~/') ? homedir() + source.slice(1) : source);

const isHostPath = (source: string): boolean => source.startsWith('/') || source.startsWith('.') || source.startsWith('~');

// -v [SOURCE:]DESTINATION[:OPTIONS]: a host path (/, ., ~) is a bind, a name a volume, and no
// source (`-v /data`, `-v /data:ro`) an anonymous volume.
export const parseVolumeFlag = (spec: string): MountSpec => {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new CliError('EUSAGE', `invalid -v "${spec}": use [SOURCE:]CONTAINER-PATH[:OPTIONS]`);
  if (parts.length === 1 || (parts.length === 2 && !parts[1].startsWith('/'))) {
    const destination = absoluteDestination(parts[0], '-v', spec);
    const options = mountOptions(parts[1], '-v', spec);
    if (options.overlay) throw new CliError('EUSAGE', `invalid -v "${spec}": :O takes a host directory, not a volume`);
    return { type: 'volume', source: '', destination, anonymous: true, ...options };
  }
  const [source, target, opts] = parts;
  const destination = absoluteDestination(target, '-v', spec);
  if (isHostPath(source)) return { type: 'bind', source: hostPath(source), destination, ...mountOptions(opts, '-v', spec) };
  checkName('volume', source);
  const options = mountOptions(opts, '-v', spec);
  if (options.overlay) throw new CliError('EUSAGE', `invalid -v "${spec}": :O takes a host directory, not a volume`);
  return { type: 'volume', source, destination, ...options };
};

const mountOptions = (opts: string | undefined, flag: string, spec: string): Pick<MountSpec, 'readOnly' | 'options' | 'nocopy' | 'chown' | 'overlay'> => {
  let readOnly = false;
  let overlay = false;
  let nocopy = false;
  let chown = false;
  const options: string[] = [];
  for (const opt of opts ? opts.split(',') : []) {
    if (opt === 'ro' || opt === 'rw') readOnly = opt === 'ro';
    else if (opt === 'z' || opt === 'Z') log.debug(`${flag} ${spec}: :${opt} ignored (no SELinux labels here)`);
    else if (opt === 'nocopy') nocopy = true;
    else if (opt === 'copy') nocopy = false;
    else if (PROPAGATIONS.includes(opt) || FLAGS.includes(opt)) options.push(opt);
    else if (opt === 'bind' || opt === 'rbind')
      continue; // always recursive
    else if (opt === 'U') chown = true;
    else if (opt === 'O') overlay = true;
    else throw new CliError('EUSAGE', `invalid ${flag} "${spec}": unknown option "${opt}" (ro, rw, nocopy, z, Z, propagation, nosuid, nodev, noexec)`);
  }
  if (overlay && (readOnly || chown)) throw new CliError('EUSAGE', `invalid ${flag} "${spec}": :O cannot be combined with ${readOnly ? 'ro' : 'U'}`);
  return { readOnly, options, nocopy: nocopy || undefined, chown: chown || undefined, overlay: overlay || undefined };
};

// The fields of a --mount value, as Docker's and Podman's CSV reader splits them: a field in double
// quotes ("source=/a,b") may hold commas, and "" in it is one quote.
export const mountFields = (spec: string): string[] => {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (spec[i] === '"') {
      for (i++; ; i++) {
        if (i >= spec.length) throw new CliError('EUSAGE', `invalid --mount "${spec}": a quote is not closed`);
        if (spec[i] === '"' && spec[i + 1] === '"') field += spec[i++];
        else if (spec[i] === '"') break;
        else field += spec[i];
      }
      i++;
      if (i < spec.length && spec[i] !== ',') throw new CliError('EUSAGE', `invalid --mount "${spec}": text after a quoted field`);
    } else {
      const end = spec.indexOf(',', i);
      field = spec.slice(i, end < 0 ? spec.length : end);
      i = end < 0 ? spec.length : end;
    }
    fields.push(field);
    if (i >= spec.length) return fields;
    i++; // the comma
  }
};

// A --mount field, quoted when it holds a comma or a quote (compose's and clone's generated flags).
export const mountField = (field: string): string => (/[",]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field);

// --mount type=bind|volume|tmpfs,source=…,target=…,readonly,… → a MountSpec, or a --tmpfs spec.
export const parseMountFlag = (spec: string): MountSpec | { tmpfs: string } => {
  const fields = new Map<string, string>();
  for (const field of mountFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim();
    if (!key) throw new CliError('EUSAGE', `invalid --mount "${spec}": an empty field`);
    fields.set(key, eq < 0 ? '' : field.slice(eq + 1));
  }
  const take = (...keys: string[]): string | undefined => keys.map((k) => fields.get(k)).find((v) => v !== undefined);
  const type = take('type');
  const target = take('target', 'destination', 'dst');
  if (!target) throw new CliError('EUSAGE', `invalid --mount "${spec}": target= is missing`);
  const destination = absoluteDestination(target, '--mount', spec);
  const flagValue = (...keys: string[]): boolean => {
    const v = take(...keys);
    if (v === undefined) return false;
    if (v === '' || v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new CliError('EUSAGE', `invalid --mount "${spec}": ${keys[0]}=${v} is not true or false`);
  };
  const known = new Set([
    'type',
    'target',
    'destination',
    'dst',
    'source',
    'src',
    'readonly',
    'ro',
    'bind-propagation',
    'volume-nocopy',
    'tmpfs-size',
    'tmpfs-mode',
    'consistency',
    'relabel',
    'rw',
  ]);
  const unknown = [...fields.keys()].find((k) => !known.has(k));
  if (unknown) throw new CliError('EUSAGE', `invalid --mount "${spec}": unknown field "${unknown}"`);
  if (type === 'tmpfs') {
    const opts = [...(take('tmpfs-size') ? [`size=${take('tmpfs-size')}`] : []), ...(take('tmpfs-mode') ? [`mode=${take('tmpfs-mode')}`] : [])];
    return { tmpfs: opts.length ? `${destination}:${opts.join(',')}` : destination };
  }
  const readOnly = flagValue('readonly', 'ro') || take('rw') === 'false' || take('rw') === '0';
  const propagation = take('bind-propagation');
  if (propagation !== undefined && !PROPAGATIONS.includes(propagation))
    throw new CliError('EUSAGE', `invalid --mount "${spec}": bind-propagation must be one of ${PROPAGATIONS.join(', ')}`);
  const source = take('source', 'src');
  if (type === 'bind') {
    if (!source) throw new CliError('EUSAGE', `invalid --mount "${spec}": a bind mount needs source=`);
    return { type: 'bind', source: hostPath(source), destination, readOnly, options: propagation ? [propagation] : [] };
  }
  if (type === 'volume') {
    if (source) checkName('volume', source);
    return {
      type: 'volume',
      source: source ?? '',
      destination,
      readOnly,
      options: [],
      anonymous: source ? undefined : true,
      nocopy: flagValue('volume-nocopy') || undefined,
    };
  }
  throw new CliError('EUSAGE', `invalid --mount "${spec}": type must be bind, volume or tmpfs`);
};

// --volumes-from CONTAINER[:ro|rw]: that container's binds and volumes, read-only or writable as
// asked (else as they are there). Its anonymous volumes stay its own: removing this container
// does not remove them.
export const inheritMounts = (spec: string, find: (name: string) => ContainerRecord): MountSpec[] => {
  const [name, mode, extra] = spec.split(':');
  if (extra !== undefined || (mode !== undefined && mode !== 'ro' && mode !== 'rw'))
    throw new CliError('EUSAGE', `invalid --volumes-from "${spec}": use CONTAINER[:ro|rw]`);
  return (find(name).config.mounts ?? []).map(({ anonymous: _, ...m }) => ({ ...m, readOnly: mode === undefined ? m.readOnly : mode === 'ro' }));
};

// --device HOST-PATH[:CONTAINER-PATH][:PERMISSIONS]: the node bind-mounted (a rootless container
// cannot make device nodes); without w in the permissions it is read-only.
export const parseDevice = (spec: string): { source: string; destination: string; readOnly: boolean } => {
  const parts = spec.split(':');
  const perms = parts.length > 1 && /^[rwm]+$/.test(parts[parts.length - 1]) ? parts.pop()! : 'rwm';
  const [source, destination = source, extra] = parts;
  if (extra !== undefined || !source?.startsWith('/') || !destination.startsWith('/'))
    throw new CliError('EUSAGE', `invalid --device "${spec}": use HOST-PATH[:CONTAINER-PATH][:PERMISSIONS], both paths absolute`);
  return { source, destination: resolve(destination), readOnly: !perms.includes('w') };
};

// The mounts of -v, --mount and the image's VOLUMEs (anonymous volumes where nothing else is
// mounted; `--image-volume tmpfs` makes them tmpfs, `ignore` leaves them out). Refuses a
// destination given twice.
export const containerMounts = (
  volumes: string[],
  mounts: string[],
  tmpfsFlags: string[],
  imageVolumes: string[],
  imageVolume: string,
  inherited: MountSpec[] = [],
): { mounts: MountSpec[]; tmpfs: string[] } => {
  if (!['bind', 'tmpfs', 'ignore', 'anonymous'].includes(imageVolume))
    throw new CliError('EUSAGE', `invalid --image-volume "${imageVolume}": use bind, tmpfs or ignore`);
  const out: MountSpec[] = volumes.map(parseVolumeFlag);
  const tmpfs: string[] = [...tmpfsFlags];
  for (const m of mounts.map(parseMountFlag)) {
    if ('tmpfs' in m) tmpfs.push(m.tmpfs);
    else out.push(m);
  }
  const seen = new Set<string>();
  for (const d of [...out.map((m) => m.destination), ...tmpfs.map((t) => t.split(':')[0])]) {
    if (seen.has(d)) throw new CliError('EUSAGE', `${d} is mounted twice: give each container path one -v, --mount or --tmpfs`);
    seen.add(d);
  }
  // --volumes-from: the other container's mounts where this one mounts nothing.
  for (const m of inherited) {
    if (seen.has(m.destination)) continue;
    out.push(m);
    seen.add(m.destination);
  }
  for (const path of imageVolumes.map((v) => resolve('/', v))) {
    if (seen.has(path) || imageVolume === 'ignore' || path === '/') continue;
    if (imageVolume === 'tmpfs') tmpfs.push(path);
    else out.push({ type: 'volume', source: '', destination: path, readOnly: false, options: [], anonymous: true });
    seen.add(path);
  }
  return { mounts: out, tmpfs };
};

// Checks bind sources and makes the volumes a new container's mounts name (anonymous ones get a
// random name). Under the volumes lock. Returns the names of the volumes it made.
export const prepareMounts = (store: VolumeStore, mounts: MountSpec[]): string[] => {
  const made: string[] = [];
  try {
    for (const m of mounts) {
      if (m.type === 'bind') {
        const st = statSync(m.source, { throwIfNoEntry: false });
        if (!st) throw new CliError('EUSAGE', `bind mount source ${m.source} does not exist: create it first, or check the path`);
        m.sourceId = `${st.dev}:${st.ino}`;
        continue;
      }
      if (m.anonymous) m.source = randomId();
      if (store.get(m.source)) continue;
      store.create(m.source, { anonymous: m.anonymous });
      made.push(m.source);
    }
  } catch (error) {
    for (const name of made) store.remove(name);
    throw error;
  }
  return made;
};

// Docker's rule: a new volume takes the image's content at its destination (owners and modes
// kept) the first time a container mounts it, unless it has content already or the mount says
// nocopy. `rootfs` is the container's mounted root.
// The volume's own directory takes the image directory's owner and mode (Podman's rule: an image
// with USER and VOLUME gets a volume its user can write), or the container user's where the image
// has none.
export const fillVolumes = async (store: VolumeStore, record: ContainerRecord, rootfs: string, user: { uid: number; gid: number }): Promise<void> => {
  const fresh = (record.config.mounts ?? []).filter((m) => {
    const volume = m.type === 'volume' ? store.get(m.source) : undefined;
    return volume?.NeedsCopyUp && volume.Options.type !== 'tmpfs';
  });
  if (!fresh.length) return;
  await store.withLock(async () => {
    for (const m of fresh) {
      const volume = store.get(m.source);
      if (!volume?.NeedsCopyUp) continue; // another container did it meanwhile
      const data = store.dataDir(m.source);
      await copyInto(rootfs, m.destination, data, !m.nocopy && !readdirSync(data).length, user);
      store.copiedUp(volume);
    }
  });
};

// The copy goes to a staging directory beside the (empty) data directory, which it then replaces
// in one rename: a copy killed midway leaves the volume empty and still to be filled, never half
// filled and taken for done.
const copyInto = async (rootfs: string, path: string, data: string, copy: boolean, user: { uid: number; gid: number }): Promise<void> => {
  const fd = openInRootIfExists(rootfs, path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NONBLOCK);
  try {
    const st = fd === undefined ? undefined : fstatSync(fd);
    if (st?.isDirectory() && copy) {
      const staging = join(dirname(data), '_staging');
      removeTree(staging);
      mkdirSync(staging, { mode: 0o755 });
      const { copyTree } = await import('../storage/copy.js');
      await copyTree(fd!, staging, { prefix: '', chown: true });
      renameSync(staging, data); // over the empty data directory
    }
    const dataFd = openSync(data, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      if (st?.isDirectory()) {
        fchownSync(dataFd, st.uid, st.gid);
        fchmodSync(dataFd, st.mode & 0o7777);
      } else fchownSync(dataFd, user.uid, user.gid);
    } finally {
      closeQuietly(dataFd);
    }
  } finally {
    if (fd !== undefined) closeQuietly(fd);
  }
};

// A bind source opened and checked to be the file it was when the container was made: a path
// whose parent someone replaced by a link meanwhile leads elsewhere, and is refused.
const openBindSource = (m: MountSpec, flags: number): number => {
  let fd: number;
  try {
    fd = openSync(m.source, flags | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError('EUSAGE', `bind mount source ${m.source} of ${m.destination}: ${code === 'ELOOP' ? 'it is a symbolic link now' : messageOf(error)}`);
  }
  try {
    checkSameSource(m, fstatSync(fd));
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
};

const checkSameSource = (m: MountSpec, st: { dev: number; ino: number }): void => {
  if (m.sourceId && m.sourceId !== `${st.dev}:${st.ino}`)
    throw new CliError('EUSAGE', `bind mount source ${m.source} of ${m.destination} is not the one the container was made with (moved or replaced)`);
};

// `:U`: every file of the mount chowned to the container's user and group (ids as the container
// sees them, which are the namespace's). The walk holds each directory open (O_NOFOLLOW) and
// changes entries through it without following links: a tree changed meanwhile by another
// container cannot send it out of the mount.
export const chownMounts = (store: VolumeStore, mounts: MountSpec[], uid: number, gid: number): void => {
  for (const m of mounts.filter((x) => x.chown)) {
    if (m.type === 'bind') {
      chownTree(openBindSource(m, constants.O_RDONLY | constants.O_DIRECTORY), uid, gid);
      continue;
    }
    let fd: number;
    try {
      fd = openSync(store.dataDir(m.source), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (error) {
      throw new CliError(
        'EUSAGE',
        `cannot chown ${m.destination} (:U): ${(error as NodeJS.ErrnoException).code === 'ELOOP' ? 'its source is a symbolic link' : messageOf(error)}`,
      );
    }
    chownTree(fd, uid, gid);
  }
};

const chownTree = (fd: number, uid: number, gid: number): void => {
  try {
    fchownSync(fd, uid, gid);
    const dir = `/proc/self/fd/${fd}`;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        let child: number;
        try {
          child = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
        } catch {
          continue; // replaced meanwhile (by a link, say): left alone
        }
        chownTree(child, uid, gid);
      } else lchownSync(path, uid, gid);
    }
  } finally {
    closeSync(fd);
  }
};

// Where a path in a container really is: in the volume or host directory mounted at it (the
// deepest mount that holds it), else in the container's root. cp goes through it.
export const throughMounts = (
  store: VolumeStore,
  mounts: MountSpec[],
  rootfs: string,
  path: string,
  overlayRoot?: (m: MountSpec) => string | undefined,
): { root: string | number; path: string; readOnly: boolean; mount?: string; close?: () => void } => {
  const normal = resolve('/', path);
  const holder = mounts
    .filter((m) => normal === m.destination || normal.startsWith(`${m.destination}/`))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
  if (!holder) return { root: rootfs, path, readOnly: false };
  const rest = normal.slice(holder.destination.length) || '/';
  // :O: the overlay, while it is mounted (never its host directory, which it must not change).
  if (holder.overlay) {
    const merged = overlayRoot?.(holder);
    if (!merged) throw new CliError('EUSAGE', `${holder.destination} is an overlay mount (:O): it exists only while the container runs`);
    return { root: merged, path: rest, readOnly: false, mount: holder.destination };
  }
  if (holder.type === 'volume' && store.get(holder.source)?.Options.type === 'tmpfs')
    throw new CliError('EUSAGE', `${holder.destination} is a tmpfs volume: its files exist only inside the container (use exec)`);
  // A bind of one file: its directory is the root, the file the path (checked to be the file it was).
  const st = holder.type === 'bind' ? statSync(holder.source, { throwIfNoEntry: false }) : undefined;
  if (st) checkSameSource(holder, st);
  if (holder.type === 'bind' && !st?.isDirectory())
    return {
      root: dirname(holder.source),
      path: `/${basename(holder.source)}${rest === '/' ? '' : rest}`,
      readOnly: holder.readOnly,
      mount: holder.destination,
    };
  if (holder.type === 'volume') return { root: store.dataDir(holder.source), path: rest, readOnly: holder.readOnly, mount: holder.destination };
  // A directory bind: held open once checked, and resolved in through that descriptor.
  const fd = openBindSource(holder, O_PATH | constants.O_DIRECTORY);
  return { root: fd, path: rest, readOnly: holder.readOnly, mount: holder.destination, close: () => closeQuietly(fd) };
};

// Checks that each --device is a device node this user may open.
export const checkDevices = (devices: { source: string }[]): void => {
  for (const d of devices) {
    const st = statSync(d.source, { throwIfNoEntry: false });
    if (!st || !(st.isCharacterDevice() || st.isBlockDevice()))
      throw new CliError('EUSAGE', `--device ${d.source}: ${st ? 'not a device node' : 'no such device'} on this host`);
  }
};

// Where a :O mount's overlay lives: overlays/<index of the mount>/ under the container's directory.
export const overlayDir = (containerDir: string, mounts: MountSpec[], m: MountSpec): string => join(containerDir, 'overlays', String(mounts.indexOf(m)));

// :O mounts: an overlay each (the host directory under a writable layer of the container's), made
// afresh at each start, so what a run wrote there goes with it; unmounted when the run ends.
export const mountOverlays = async (rootfs: Rootfs, containerDir: string, mounts: MountSpec[]): Promise<void> => {
  for (const m of mounts.filter((x) => x.overlay)) {
    const dir = overlayDir(containerDir, mounts, m);
    const key = `${basename(containerDir)}-${basename(dir)}`;
    rootfs.unmount(key, dir, true);
    removeTree(dir);
    const st = statSync(m.source, { throwIfNoEntry: false });
    if (!st?.isDirectory()) throw new CliError('EUSAGE', `-v ${m.source}:${m.destination}:O: ${m.source} is not a directory on this host`);
    rootfs.prepare({ dir, lowers: [m.source] }, { uid: st.uid, gid: st.gid });
    chmodSync(join(dir, 'upper'), st.mode & 0o7777);
    await rootfs.mount(key, { dir, lowers: [m.source] });
  }
};

export const unmountOverlays = (rootfs: Rootfs, containerDir: string, mounts: MountSpec[]): void => {
  for (const m of mounts.filter((x) => x.overlay)) {
    const dir = overlayDir(containerDir, mounts, m);
    rootfs.unmount(`${basename(containerDir)}-${basename(dir)}`, dir, true);
    removeTree(dir);
  }
};

// A :O mount's overlay while it is mounted (a running container's), else undefined.
export const mountedOverlay = (rootfs: Rootfs, containerDir: string, mounts: MountSpec[], m: MountSpec): string | undefined => {
  const dir = overlayDir(containerDir, mounts, m);
  return rootfs.mounted(dir) ? rootfs.mountpoint(dir) : undefined;
};

// The runtime's mounts for a container's binds and volumes; a :O mount's source is its overlay (overlaySource).
export const runtimeMounts = (
  store: VolumeStore,
  mounts: MountSpec[],
  overlaySource: (m: MountSpec) => string = (m) => m.source,
): { destination: string; type: string; source: string; options: string[] }[] =>
  mounts.map((m) => {
    if (m.overlay) return { ...runtimeMount(store, m), source: overlaySource(m) };
    const tmpfs = m.type === 'volume' ? store.get(m.source)?.Options : undefined;
    if (tmpfs?.type === 'tmpfs')
      return {
        destination: m.destination,
        type: 'tmpfs',
        source: 'tmpfs',
        options: [m.readOnly ? 'ro' : 'rw', 'nosuid', 'nodev', ...(tmpfs.o ? tmpfs.o.split(',') : [])],
      };
    return runtimeMount(store, m);
  });

const runtimeMount = (store: VolumeStore, m: MountSpec) => ({
  destination: m.destination,
  type: 'bind',
  source: m.type === 'bind' ? m.source : store.dataDir(m.source),
  options: ['rbind', m.readOnly ? 'ro' : 'rw', ...(m.options.some((o) => PROPAGATIONS.includes(o)) ? [] : ['rprivate']), ...m.options],
});

// `inspect`'s Mounts, as Podman shows them.
export const inspectMounts = (store: VolumeStore, mounts: MountSpec[]) =>
  mounts.map((m) => ({
    Type: m.type,
    ...(m.type === 'volume' ? { Name: m.source } : {}),
    Source: m.type === 'bind' ? m.source : store.dataDir(m.source),
    Destination: m.destination,
    Driver: m.type === 'volume' ? 'local' : '',
    Mode: '',
    // (As Podman's: the propagation has its own key, rbind comes last.)
    Options: [...m.options.filter((o) => !PROPAGATIONS.includes(o)), 'rbind', ...(m.overlay ? ['O'] : [])],
    RW: !m.readOnly,
    Propagation: m.options.find((o) => PROPAGATIONS.includes(o)) ?? 'rprivate',
  }));
