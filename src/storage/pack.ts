// Packs a directory tree into a tar stream (export, commit, cp out): owners, modes, times, symlinks,
// hard links, fifos and devices as they are on disk. With `layer`, an overlay upper dir becomes an
// image layer: 0/0 character devices become `.wh.NAME` whiteouts and opaque directories get a
// `.wh..wh..opq` marker, as the OCI image spec writes them.
import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { native } from '../util/native.js';

const OPAQUE_XATTRS = ['user.overlay.opaque', 'trusted.overlay.opaque', 'user.fuseoverlayfs.opaque'];

const isOpaque = (path: string): boolean =>
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

export const packTree = async (root: string, out: NodeJS.WritableStream, options: PackOptions = {}): Promise<void> => {
  const { pack } = await import('tar-stream');
  const p = pack();
  const done = pipeline(p, out);
  const links = new Map<string, string>();
  const add = (header: Header, body?: Buffer | NodeJS.ReadableStream): Promise<void> =>
    new Promise((resolve, reject) => {
      if (!body || Buffer.isBuffer(body)) {
        p.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
        return;
      }
      const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
      body.on('error', reject);
      body.pipe(sink as unknown as NodeJS.WritableStream);
    });
  const base = (st: Stats, name: string) => ({ name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime });
  const walk = async (path: string, name: string): Promise<void> => {
    const st = lstatSync(path);
    if (st.isDirectory()) {
      if (name) await add({ ...base(st, `${name}/`), type: 'directory' });
      if (options.layer && name && isOpaque(path)) await add({ ...base(st, `${name}/.wh..wh..opq`), mode: 0o644, type: 'file', size: 0 });
      for (const child of readdirSync(path).sort()) await walk(join(path, child), name ? `${name}/${child}` : child);
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
    if (st.isSymbolicLink()) await add({ ...base(st, name), type: 'symlink', linkname: readlinkSync(path) });
    else if (st.isFile()) await add({ ...base(st, name), type: 'file', size: st.size }, st.size ? createReadStream(path) : undefined);
    else if (st.isFIFO()) await add({ ...base(st, name), type: 'fifo' });
    else if (st.isCharacterDevice() || st.isBlockDevice())
      await add({ ...base(st, name), type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256), devminor: st.rdev % 256 });
  };
  await walk(root, options.prefix ?? '');
  p.finalize();
  await done;
};
