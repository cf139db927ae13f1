// Files inside a root that is not ours to trust: a container's root filesystem (which a running
// container may change while we look) or an unpacked archive. Every path is resolved by the kernel
// as if the root were "/" (openat2 RESOLVE_IN_ROOT): symlinks, absolute or relative, and ".." stay
// inside it, in one system call, so no swap of a directory for a symlink leads outside.
import { closeSync, constants, fstatSync, readSync, type Stats } from 'node:fs';
import { CliError } from '../errors.js';
import { native } from './native.js';

/** A descriptor of `path` inside `root` (a path or a directory descriptor); throws with the errno's code. */
export const openInRoot = (root: string | number, path: string, flags: number = constants.O_RDONLY): number => native().openInRoot(root, path, flags);

/** Like openInRoot, but undefined when nothing (or no directory on the way) is there. */
export const openInRootIfExists = (root: string | number, path: string, flags: number = constants.O_RDONLY): number | undefined => {
  try {
    return openInRoot(root, path, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
};

export const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
};

/**
 * A regular file's whole content, read through its descriptor, at most `cap` bytes: a larger file
 * (or one that grows past the cap while read) is refused with a message naming `what`.
 */
export const readBounded = (fd: number, cap: number, what: string): Buffer => {
  const st: Stats = fstatSync(fd);
  if (!st.isFile()) throw new CliError('EUSAGE', `${what} is not a regular file`);
  if (st.size > cap) throw new CliError('EUSAGE', `${what} is ${st.size} bytes, more than the ${cap} allowed`);
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buffer = Buffer.alloc(Math.min(1 << 16, cap + 1 - total) || 1);
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n === 0) break;
    total += n;
    if (total > cap) throw new CliError('EUSAGE', `${what} is more than the ${cap} bytes allowed`);
    chunks.push(buffer.subarray(0, n));
  }
  return Buffer.concat(chunks);
};

/** A regular file inside `root`, read whole with a cap; undefined when it is not there. */
export const readFileInRoot = (root: string | number, path: string, cap: number, what = path): Buffer | undefined => {
  const fd = openInRootIfExists(root, path, constants.O_RDONLY | constants.O_NONBLOCK);
  if (fd === undefined) return undefined;
  try {
    return readBounded(fd, cap, what);
  } finally {
    closeQuietly(fd);
  }
};
