// Container root filesystems: the image's layers (read-only, shared) under a per-container writable
// layer. Native overlayfs inside the user namespace when the kernel allows it (5.11+, `userxattr`),
// fuse-overlayfs when it does not, a plain copy last. The choice is probed once per boot and cached
// in the runtime dir. Mounts live in the rootless mount namespace and are counted, so a container
// that is both running and being copied from is unmounted only when the last user lets go.
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { RootfsDriverSetting } from '../config/config.js';
import { CliError, messageOf } from '../errors.js';
import { findHelperBinary, runHelper } from '../util/exec.js';
import { writeFileAtomic } from '../util/fs.js';
import { log } from '../util/log.js';
import { MNT_DETACH, native } from '../util/native.js';

export type RootfsDriver = 'overlay' | 'fuse-overlayfs' | 'copy';

export interface RootfsDirs {
  /** The container's own dir: upper/, work/, merged/ (or rootfs/ for the copy driver). */
  dir: string;
  /** Layer content dirs, lowest first. */
  lowers: string[];
}

// Whether something is mounted on `path` (a container's mountpoint, a plain directory until then):
// a mount has a device of its own (overlayfs gives its directories its own; so does FUSE), so two
// stats answer, where /proc/self/mountinfo grows with every running container. A FUSE mount whose
// daemon died fails to stat (ENOTCONN): mounted, so that it gets unmounted.
const isMounted = (path: string): boolean => {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
};

const overlayOptions = (dirs: RootfsDirs, extra: string[]): string => {
  // Overlay reads lowerdir paths relative to the caller's cwd: relative names keep the option
  // short (the kernel takes one page), so images with many layers still mount.
  const base = join(dirs.lowers[0] ?? dirs.dir, '..', '..');
  const lowers = dirs.lowers.length ? [...dirs.lowers].reverse().map((l) => relative(base, l)) : [relative(base, join(dirs.dir, 'empty'))];
  return [`lowerdir=${lowers.join(':')}`, `upperdir=${join(dirs.dir, 'upper')}`, `workdir=${join(dirs.dir, 'work')}`, ...extra].join(',');
};

const withCwd = <T>(dir: string, fn: () => T): T => {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(before);
  }
};

// `volatile`: no sync of the writable layer reaches the file system under it (the container's
// fsyncs, syncfs, the one at unmount), for a container that does not outlive its run (`--rm`), as
// Podman does. The kernel refuses to mount a work dir that was mounted so again: its marker goes first.
// `readOnly`: the merged tree is mounted read-only (MS_RDONLY), as an image's own root is (image mount).
const MS_RDONLY = 1;
const mountOverlay = (dirs: RootfsDirs, target: string, volatile: boolean, readOnly = false): void => {
  const base = join(dirs.lowers[0] ?? dirs.dir, '..', '..');
  withCwd(base, () =>
    native().mount('overlay', target, 'overlay', readOnly ? MS_RDONLY : 0, overlayOptions(dirs, ['userxattr', ...(volatile ? ['volatile'] : [])])),
  );
};

const mountFuse = async (dirs: RootfsDirs, target: string, volatile: boolean, readOnly = false): Promise<void> => {
  const bin = findHelperBinary('fuse-overlayfs');
  if (!bin) throw new CliError('EHELPER', 'fuse-overlayfs not found: install it (Debian/Ubuntu: apt-get install fuse-overlayfs)', { exitCode: 127 });
  const base = join(dirs.lowers[0] ?? dirs.dir, '..', '..');
  await runHelper(bin, ['-o', overlayOptions(dirs, [...(volatile ? ['volatile'] : []), ...(readOnly ? ['ro'] : [])]), target], { cwd: base });
};

// Applies one layer onto a plain directory: whiteouts delete, opaque markers empty, the rest is
// copied with its owner, mode and times (hard links within the layer stay links).
const applyLayerCopy = (layer: string, target: string): void => {
  const links = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(layer, rel))) {
      const path = join(rel, name);
      const from = join(layer, path);
      const to = join(target, path);
      const st = lstatSync(from);
      if (st.isCharacterDevice() && st.rdev === 0) {
        rmSync(to, { recursive: true, force: true });
        continue;
      }
      // A directory merges with what lower layers put there, unless it is opaque.
      const merges = st.isDirectory() && lstatSync(to, { throwIfNoEntry: false })?.isDirectory() && readXattr(from, 'user.overlay.opaque') !== 'y';
      if (!merges) rmSync(to, { recursive: true, force: true });
      const key = `${st.dev}:${st.ino}`;
      if (!st.isDirectory() && st.nlink > 1 && links.has(key)) {
        linkSync(links.get(key)!, to);
        continue;
      }
      if (st.isDirectory()) mkdirSync(to, { recursive: true });
      else if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
      else if (st.isFile()) copyFileSync(from, to);
      else native().mknod(to, st.mode, Math.floor(st.rdev / 256), st.rdev % 256);
      if (st.nlink > 1 && !st.isDirectory()) links.set(key, to);
      lchownSync(to, st.uid, st.gid);
      if (!st.isSymbolicLink()) chmodSync(to, st.mode & 0o7777);
      if (st.isDirectory()) walk(path);
      lutimesSync(to, st.atime, st.mtime);
    }
  };
  walk('');
};

const readXattr = (path: string, name: string): string | undefined => {
  try {
    return native().lgetxattr(path, name)?.toString();
  } catch {
    return undefined;
  }
};

// Tries a native overlay mount inside the user namespace on scratch dirs under `dataDir`.
const overlayWorks = (dataDir: string): boolean => {
  const probe = join(dataDir, 'tmp', `.probe-overlay-${process.pid}`);
  const dirs: RootfsDirs = { dir: probe, lowers: [join(probe, 'l', 'lower')] };
  try {
    for (const d of ['l/lower', 'upper', 'work', 'merged']) mkdirSync(join(probe, d), { recursive: true });
    writeFileSync(join(probe, 'l/lower/file'), 'x');
    mountOverlay(dirs, join(probe, 'merged'), false);
    const ok = existsSync(join(probe, 'merged', 'file'));
    native().umount(join(probe, 'merged'), MNT_DETACH);
    return ok;
  } catch (error) {
    log.debug(`native overlay not available: ${messageOf(error)}`);
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
};

const fuseWorks = (): boolean => {
  if (!findHelperBinary('fuse-overlayfs')) return false;
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

// The driver to use: the configured one, or the probed best (cached in the runtime dir).
export const rootfsDriver = (runDir: string, dataDir: string, setting: RootfsDriverSetting): RootfsDriver => {
  if (setting !== 'auto') return setting;
  const cache = join(runDir, 'rootfs-driver');
  try {
    const cached = readFileSync(cache, 'utf8').trim() as RootfsDriver;
    if (cached === 'overlay' || cached === 'fuse-overlayfs' || cached === 'copy') return cached;
  } catch {
    // not probed yet
  }
  const driver: RootfsDriver = overlayWorks(dataDir) ? 'overlay' : fuseWorks() ? 'fuse-overlayfs' : 'copy';
  writeFileAtomic(cache, `${driver}\n`);
  return driver;
};

export class Rootfs {
  constructor(
    private readonly driver: RootfsDriver,
    private readonly countDir: string,
  ) {}

  mountpoint(dir: string): string {
    return join(dir, this.driver === 'copy' ? 'rootfs' : 'merged');
  }

  // Whether the tree made in `dir` is mounted now (the copy driver's always is).
  mounted(dir: string): boolean {
    return this.driver === 'copy' || isMounted(this.mountpoint(dir));
  }

  // Makes the container's dirs; for the copy driver, also its full copy of the image. `rootOwner`:
  // who root in the container's own user namespace is (the root directory's owner, which the
  // writable layer's gives the merged tree).
  prepare(dirs: RootfsDirs, rootOwner?: { uid: number; gid: number }): void {
    const own = (path: string) => rootOwner && lchownSync(path, rootOwner.uid, rootOwner.gid);
    if (this.driver === 'copy') {
      const target = join(dirs.dir, 'rootfs');
      mkdirSync(target, { recursive: true });
      own(target);
      for (const layer of dirs.lowers) applyLayerCopy(layer, target);
      return;
    }
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dirs.dir, d), { recursive: true });
    own(join(dirs.dir, 'upper'));
    if (!dirs.lowers.length) mkdirSync(join(dirs.dir, 'empty'), { recursive: true });
  }

  private countFile(id: string): string {
    return join(this.countDir, id);
  }

  private count(id: string): number {
    try {
      return Number(readFileSync(this.countFile(id), 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  // Mounts (or counts one more user of) the container's root; the caller holds the container's lock.
  // `volatile`: see mountOverlay; `readOnly`: a read-only mount (image mount).
  async mount(id: string, dirs: RootfsDirs, volatile = false, readOnly = false): Promise<string> {
    const target = this.mountpoint(dirs.dir);
    if (this.driver === 'copy') return target;
    const mounted = isMounted(target);
    const count = mounted ? this.count(id) : 0;
    if (!mounted) {
      try {
        const incompat = join(dirs.dir, 'work', 'work', 'incompat');
        if (existsSync(incompat)) rmSync(incompat, { recursive: true, force: true });
        if (this.driver === 'overlay') mountOverlay(dirs, target, volatile, readOnly);
        else await mountFuse(dirs, target, volatile, readOnly);
      } catch (error) {
        throw new CliError('EHELPER', `cannot mount the root filesystem (${this.driver}): ${messageOf(error)}`, { cause: error });
      }
    }
    writeFileAtomic(this.countFile(id), String(count + 1), 0o644, false);
    return target;
  }

  // Lets go of one use; unmounts with the last one (or at once with `force`).
  unmount(id: string, dir: string, force = false): void {
    const target = this.mountpoint(dir);
    if (this.driver === 'copy') return;
    const left = force ? 0 : Math.max(0, this.count(id) - 1);
    if (left === 0) {
      if (isMounted(target)) native().umount(target, MNT_DETACH);
      rmSync(this.countFile(id), { force: true });
    } else {
      writeFileAtomic(this.countFile(id), String(left), 0o644, false);
    }
  }
}
