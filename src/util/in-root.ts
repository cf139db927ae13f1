// Files inside a root that is not ours to trust: a container's root filesystem (which a running
// container may change while we look) or an unpacked archive. Every path is resolved by the kernel
// as if the root were "/" (openat2 RESOLVE_IN_ROOT): symlinks, absolute or relative, and ".." stay
// inside it, in one system call, so no swap of a directory for a symlink leads outside.
import { closeSync, constants, fstatSync, lchownSync, mkdirSync } from 'node:fs';
import { CliError } from '../errors.js';
import { readBoundedFd, type Bound } from './bounded-read.js';
import { native, O_PATH } from './native.js';

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
 * Makes `path` and its missing parents inside `root` (0755; the last, when made here, owned by
 * `owner`): each component looked up from the root, made with one name after a descriptor, never
 * through a link. A descriptor (O_PATH) of it; a component that is not a directory is an error.
 */
export const mkdirInRoot = (root: string, path: string, owner?: { uid: number; gid: number }): number => {
  const parts = path.split('/').filter(Boolean);
  let fd = openInRoot(root, '/', O_PATH | constants.O_DIRECTORY);
  for (let i = 0; i < parts.length; i++) {
    const partial = `/${parts.slice(0, i + 1).join('/')}`;
    let next = openInRootIfExists(root, partial, O_PATH | constants.O_DIRECTORY);
    if (next === undefined) {
      const child = `/proc/self/fd/${fd}/${parts[i]}`;
      try {
        mkdirSync(child, 0o755);
        if (owner && i === parts.length - 1) lchownSync(child, owner.uid, owner.gid);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          closeQuietly(fd);
          throw error;
        }
      }
      try {
        next = openInRoot(root, partial, O_PATH | constants.O_DIRECTORY);
      } catch (error) {
        closeQuietly(fd);
        throw new CliError('EUSAGE', `${partial} is not a directory in the image`, { cause: error });
      }
    }
    closeQuietly(fd);
    fd = next;
  }
  return fd;
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
