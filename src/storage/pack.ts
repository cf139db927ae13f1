// Packs a directory tree into a tar stream (export, commit, cp out): owners, modes, times, symlinks,
// hard links, fifos and devices as they are on disk. With `layer`, an overlay upper dir becomes an
// image layer: 0/0 character devices become `.wh.NAME` whiteouts and opaque directories get a
// `.wh..wh..opq` marker, as the OCI image spec writes them.
//
// The tree may belong to a running container that changes it while we read: nothing is looked up
// by a path that could pass through a symlink. Each directory is held open and its entries are
// reached as /proc/self/fd/DIR/NAME (one component after a descriptor), opened with O_NOFOLLOW and
// checked with fstat, so a file swapped for a symlink to a host file is never read.
import { constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { closeQuietly } from '../util/in-root.js';
import { native } from '../util/native.js';

const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque'];
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

export const isOpaque = (path: string): boolean =>
  OPAQUE_XATTRS.some((name) => {
    try {
      return native().lgetxattr(path, name)?.toString() === 'y';
    } catch {
      return false;
    }
  });

export interface PackOptions {
  /** Convert overlay whiteouts and opaque markers to OCI layer form. */
  layer?: boolean;
  /** Name of the top entry in the archive ("" packs the tree's contents at the archive root). */
  prefix?: string;
  /** Owners as the archive gives them (a container with a user namespace of its own: its ids). */
  owners?: { uid: (id: number) => number; gid: (id: number) => number };
  /**
   * Which entries go in (a build's .dockerignore), by their name in the archive: false leaves one
   * out, 'descend' leaves a directory's own entry out but looks inside (an exception may match there).
   */
  filter?: (name: string, isDirectory: boolean) => boolean | 'descend';
  /** The permission bits every entry gets (COPY --chmod). */
  mode?: number;
  /** The modification time every entry gets (build --timestamp: the same files give the same layer). */
  mtime?: Date;
}

/** One tree of a multi-tree archive (packTrees): where it is, and how its entries are named. */
export interface PackSource extends Pick<PackOptions, 'prefix' | 'owners' | 'filter' | 'mode'> {
  root: string | number;
  /** Only the top entry, not what is under it: a parent directory, with its attributes. */
  shallow?: boolean;
}

type Header = {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size?: number;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device' | 'block-device';
  linkname?: string;
  devmajor?: number;
  devminor?: number;
};

// Exactly `size` bytes of an open file: a file that grows meanwhile is cut, one that shrinks is
// padded with zeros, so the tar stays well-formed whatever a running container does to it.
const fileBody = (fd: number, size: number): Readable => {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= size) return this.push(null);
      const buffer = Buffer.alloc(Math.min(1 << 20, size - offset));
      let n = 0;
      try {
        n = readSync(fd, buffer, 0, buffer.length, offset);
      } catch (error) {
        return this.destroy(error as Error);
      }
      if (n < buffer.length) buffer.fill(0, n);
      offset += buffer.length;
      this.push(buffer);
    },
  });
};

const sameFile = (a: Stats, b: Stats): boolean => a.ino === b.ino && a.dev === b.dev;

/**
 * Packs `root` (a path, or a descriptor from openInRoot: a directory or any other file) into `out`.
 * A descriptor stays the caller's to close.
 */
export const packTree = (root: string | number, out: NodeJS.WritableStream, options: PackOptions = {}): Promise<void> =>
  packTrees([{ root, prefix: options.prefix, owners: options.owners, filter: options.filter, mode: options.mode }], out, options);

// Packs several trees into one archive, in order (a build's COPY: the destination's parents, then
// each source under its name there). Each source's own options name and own its entries.
export const packTrees = async (sources: PackSource[], out: NodeJS.WritableStream, options: Pick<PackOptions, 'layer' | 'mtime'> = {}): Promise<void> => {
  const { pack } = await import('tar-stream');
  const p = pack();
  const done = pipeline(p, out);
  const links = new Map<string, string>();
  const add = (header: Header, body?: Buffer | Readable): Promise<void> =>
    new Promise((resolve, reject) => {
      if (!body || Buffer.isBuffer(body)) {
        p.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
        return;
      }
      const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
      body.on('error', reject);
      body.pipe(sink as unknown as NodeJS.WritableStream);
    });
  let src: PackSource = sources[0];
  const base = (st: Stats, name: string) => ({
    name,
    mode: src.mode ?? st.mode & 0o7777,
    uid: src.owners ? src.owners.uid(st.uid) : st.uid,
    gid: src.owners ? src.owners.gid(st.gid) : st.gid,
    mtime: options.mtime ?? st.mtime,
  });

  // One entry: `fd` is open on it when it is a directory or a regular file, else undefined;
  // `path` names it as one component after an open directory (for readlink and xattrs).
  const entry = async (st: Stats, fd: number | undefined, path: string, name: string): Promise<void> => {
    const wanted = name && src.filter ? src.filter(name, st.isDirectory()) : true;
    if (!wanted || (wanted === 'descend' && !st.isDirectory())) return;
    if (st.isDirectory()) {
      if (name && wanted === true) await add({ ...base(st, `${name}/`), type: 'directory' });
      if (src.shallow) return;
      if (options.layer && name && isOpaque(path)) await add({ ...base(st, `${name}/.wh..wh..opq`), mode: 0o644, type: 'file', size: 0 });
      for (const child of readdirSync(`/proc/self/fd/${fd}`).sort()) await visit(fd!, child, name ? `${name}/${child}` : child);
      return;
    }
    if (options.layer && st.isCharacterDevice() && st.rdev === 0) {
      const slash = name.lastIndexOf('/');
      await add({ ...base(st, `${name.slice(0, slash + 1)}.wh.${name.slice(slash + 1)}`), mode: 0o644, type: 'file', size: 0 });
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1 && links.has(key)) {
      await add({ ...base(st, name), type: 'link', linkname: links.get(key)! });
      return;
    }
    if (st.nlink > 1) links.set(key, name);
    if (st.isSymbolicLink()) {
      let linkname: string;
      try {
        linkname = readlinkSync(path);
      } catch {
        return; // no longer a symlink: changed meanwhile
      }
      await add({ ...base(st, name), type: 'symlink', linkname });
    } else if (st.isFile()) await add({ ...base(st, name), type: 'file', size: st.size }, st.size ? fileBody(fd!, st.size) : undefined);
    else if (st.isFIFO()) await add({ ...base(st, name), type: 'fifo' });
    else if (st.isCharacterDevice() || st.isBlockDevice())
      await add({
        ...base(st, name),
        type: st.isCharacterDevice() ? 'character-device' : 'block-device',
        devmajor: Math.floor(st.rdev / 256),
        devminor: st.rdev % 256,
      });
  };

  // A child of an open directory. What it is comes from fstat of what was opened, never from the
  // lstat alone: a directory or file replaced meanwhile (by a symlink, say) is skipped.
  const visit = async (dirFd: number, child: string, name: string): Promise<void> => {
    const path = `/proc/self/fd/${dirFd}/${child}`;
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      return; // gone meanwhile
    }
    if (!st.isDirectory() && !st.isFile()) return entry(st, undefined, path, name);
    let fd: number;
    try {
      fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | (st.isDirectory() ? O_DIRECTORY : 0));
    } catch {
      return; // gone, or swapped for something else
    }
    try {
      const opened = fstatSync(fd);
      if (!sameFile(st, opened) || opened.isDirectory() !== st.isDirectory() || opened.isFile() !== st.isFile()) return;
      await entry(opened, fd, path, name);
    } finally {
      closeQuietly(fd);
    }
  };

  try {
    for (const source of sources) {
      src = source;
      const { root } = source;
      if (typeof root === 'number') {
        const st = fstatSync(root);
        await entry(st, st.isDirectory() || st.isFile() ? root : undefined, `/proc/self/fd/${root}`, source.prefix ?? '');
      } else {
        const fd = openSync(root, O_RDONLY | O_DIRECTORY);
        try {
          await entry(fstatSync(fd), fd, root, source.prefix ?? '');
        } finally {
          closeQuietly(fd);
        }
      }
    }
  } catch (error) {
    // The reader must hear of it, not wait for an end that never comes.
    p.destroy(error as Error);
    await done.catch(() => undefined);
    throw error;
  }
  p.finalize();
  await done;
};
