// Files inside a root that is not ours to trust: a container's root filesystem (which a running
// container may change while we look) or an unpacked archive. Every path is resolved by the kernel
// as if the root were "/" (openat2 RESOLVE_IN_ROOT): symlinks, absolute or relative, and ".." stay
// inside it, in one system call, so no swap of a directory for a symlink leads outside.
import { closeSync, constants, fstatSync } from 'node:fs';
import { CliError } from '../errors.js';
import { readBoundedFd, type Bound } from './bounded-read.js';
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

/** A regular file inside `root`, read whole within its bound; undefined when it is not there. */
export const readFileInRoot = (root: string | number, path: string, bound: Bound): Buffer | undefined => {
  const fd = openInRootIfExists(root, path, constants.O_RDONLY | constants.O_NONBLOCK);
  if (fd === undefined) return undefined;
  try {
    if (!fstatSync(fd).isFile()) throw new CliError(bound.code ?? 'EUSAGE', `${bound.what} is not a regular file`);
    return readBoundedFd(fd, bound);
  } finally {
    closeQuietly(fd);
  }
};
