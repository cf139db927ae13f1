// Loads skiff's N-API addon (native/addon): flock, mknod, lgetxattr, mount, which Node lacks, and the
// layer unpacker.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../errors.js';

export interface NativeAddon {
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  funlock(fd: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount(target: string, flags: number): void;
  /** A close-on-exec pipe: [readFd, writeFd]; the read end non-blocking if asked. */
  pipe(readNonBlocking?: boolean): [number, number];
  lgetxattr(path: string, name: string): Buffer | undefined;
  /** posix_spawn (a vfork: cheap whatever Node's size): fds[i] becomes the child's fd i. Returns the pid. */
  spawn(file: string, argv: string[], fds: number[], cwd: string | null, setsid?: boolean): number;
  /** Waits for a child started by spawn (on the thread pool); the raw wait status, or -errno. */
  waitpid(pid: number): Promise<number>;
  /** waitpid(2) on this thread (a child that has exited or is about to): the raw status, or -errno. */
  reap(pid: number): number;
  /** A sealed memfd copy of an executable (close-on-exec), or -1: see native/common/sealed-copy.h. */
  sealedCopy(path: string): number;
  /**
   * Unpacks a layer on a thread of its own (native/addon/unpack.c): push the blob's bytes (false:
   * wait for 'drain'), then end(); 'done' comes once, with the digests or a failure.
   */
  unpacker(
    target: string | number,
    blob: string | null,
    gzip: boolean,
    /** true: the tar's owners; false: ours; [uid, gid]: these for every entry. */
    chown: boolean | [number, number],
    onEvent: (event: 'drain' | 'done', result?: UnpackResult) => void,
    plain?: boolean,
  ): NativeUnpacker;
  /**
   * openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` resolved as if `root` (a path or
   * a directory's descriptor) were "/", race-free. A close-on-exec descriptor; throws with err.code.
   */
  openInRoot(root: string | number, path: string, flags: number): number;
  /**
   * An id-shifted copy of a layer directory into the empty directory `target` (native/addon/idshift.c):
   * owners become map(owner); maps are flat [inner, outer, count, ...]. Rejects with err.code.
   */
  shiftCopy(source: string, target: string, uidMap: number[], gidMap: number[], threads: number): Promise<{ files: number; bytes: number }>;
}

export interface NativeUnpacker {
  push(chunk: Buffer): boolean;
  end(): void;
  abort(): void;
}

export interface UnpackResult {
  /**
   * refuse: a layer entry that would escape or is not allowed; range: an owner outside the user's ids;
   * sys: a system call failed; corrupt: not gzip/tar; aborted: the source failed.
   */
  failure?: 'refuse' | 'range' | 'sys' | 'corrupt' | 'aborted';
  message?: string;
  /** sha256:… of the bytes pushed (the blob), and of the tar (the same when not gzipped). */
  pushedDigest: string;
  tarDigest: string;
  pushedBytes: number;
  /** Bytes of regular file content written. */
  size: number;
  /** Bytes of the uncompressed tar (Podman's layer size). */
  tarBytes: number;
  entries: number;
  /** Device nodes that a rootless user cannot create and were left out. */
  skippedDevices: string[];
}

/** open(2)'s O_PATH (Node's fs.constants lacks it): a descriptor that names a file without opening it. */
export const O_PATH = 0o10000000;

/** umount2's flag: detach now, release when no longer busy. */
export const MNT_DETACH = 2;

let addon: NativeAddon | undefined;

// skiff's native files (the addon, skiff-monitor, skiff-dns) sit at native/build/ in the package,
// above wherever this code is bundled under dist/.
export const findNative = (name: string): string | undefined => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'native', 'build', name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
};

export const native = (): NativeAddon => {
  if (!addon) {
    const require = createRequire(import.meta.url);
    const path =
      process.env.SKIFF_NATIVE_ADDON ??
      findNative('skiff_native.node') ??
      join(dirname(fileURLToPath(import.meta.url)), 'native', 'build', 'skiff_native.node');
    try {
      addon = require(path) as NativeAddon;
    } catch (error) {
      throw new CliError('EINTERNAL', `cannot load skiff's native addon ${path}: build it with \`make -C native\``, { cause: error });
    }
  }
  return addon;
};
