// image mount / unmount: an image's root filesystem, read-only, at image-mounts/<id>/merged in the
// store. Like every mount skiff makes it lives in the rootless mount namespace (the path is valid
// inside `skiff unshare`). Each mount is counted ($XDG_RUNTIME_DIR/skiff/image-mounts/<id>), so an
// unmount lets go of one use and the last one unmounts; a count whose mount is gone (the namespace
// was restarted) counts nothing.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageRecord } from '../storage/image-store.js';
import { removeTree } from '../storage/layer-store.js';
import { Rootfs, rootfsDriver, type RootfsDriver } from '../storage/rootfs.js';
import { digestHex } from '../util/digest-format.js';
import { writeFileAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { MNT_DETACH, native } from '../util/native.js';
import type { EngineContext } from './context.js';

export interface ImageMountReport {
  id: string;
  digest: string;
  names: string[];
  path: string;
}

export class ImageMounts {
  private readonly driver: RootfsDriver;
  private readonly rootfs: Rootfs;
  private readonly counts: string;

  constructor(private readonly ctx: EngineContext) {
    this.driver = rootfsDriver(ctx.paths.run, ctx.paths.data, ctx.config.storage.rootfs);
    this.counts = join(ctx.paths.run, 'image-mounts');
    this.rootfs = new Rootfs(this.driver, join(this.counts, 'rootfs'));
  }

  private dir(id: string): string {
    return join(this.ctx.paths.data, 'image-mounts', digestHex(id));
  }

  private countFile(id: string): string {
    return join(this.counts, digestHex(id));
  }

  private lock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.counts, `${digestHex(id)}.lock`), fn);
  }

  // How many mounts of the image are held (0 when its mount is gone).
  count(id: string): number {
    let n = 0;
    try {
      n = Number(readFileSync(this.countFile(id), 'utf8')) || 0;
    } catch {
      return 0;
    }
    return n > 0 && this.rootfs.mounted(this.dir(id)) ? n : 0;
  }

  // Mounts the image read-only (or counts one more use of its mount); its path.
  async mount(image: ImageRecord): Promise<string> {
    mkdirSync(join(this.counts, 'rootfs'), { recursive: true });
    return this.lock(image.id, async () => {
      const dirs = { dir: this.dir(image.id), lowers: image.layers.map((l) => this.ctx.layers.diffPath(l)) };
      const count = this.count(image.id);
      if (count === 0) {
        this.rootfs.unmount(image.id, dirs.dir, true);
        removeTree(dirs.dir);
        this.rootfs.prepare(dirs);
        await this.rootfs.mount(image.id, dirs, false, true);
      }
      writeFileAtomic(this.countFile(image.id), String(count + 1), 0o644, false);
      return this.rootfs.mountpoint(dirs.dir);
    });
  }

  // Lets go of one use of the image's mount (all of them with `force`); false when it was not mounted.
  async unmount(image: ImageRecord, force = false): Promise<boolean> {
    return this.lock(image.id, async () => {
      const count = this.count(image.id);
      const left = force ? 0 : Math.max(0, count - 1);
      if (left > 0) {
        writeFileAtomic(this.countFile(image.id), String(left), 0o644, false);
        return true;
      }
      this.rootfs.unmount(image.id, this.dir(image.id), true);
      removeTree(this.dir(image.id));
      rmSync(this.countFile(image.id), { force: true });
      return count > 0;
    });
  }

  // Unmounts every image mount there is, counted or not (system reset, before the store goes).
  unmountAll(): void {
    const root = join(this.ctx.paths.data, 'image-mounts');
    let dirs: string[];
    try {
      dirs = readdirSync(root);
    } catch {
      return;
    }
    for (const hex of dirs) {
      try {
        native().umount(join(root, hex, 'merged'), MNT_DETACH);
      } catch {
        // not mounted
      }
      rmSync(join(this.counts, hex), { force: true });
    }
  }

  // The images mounted now, of `images`.
  mounted(images: ImageRecord[]): ImageMountReport[] {
    let held: string[];
    try {
      held = readdirSync(this.counts).filter((n) => /^[a-f0-9]{64}$/.test(n));
    } catch {
      return [];
    }
    return images
      .filter((i) => held.includes(digestHex(i.id)) && this.count(i.id) > 0)
      .map((i) => ({ id: i.id, digest: i.digest, names: i.names, path: this.rootfs.mountpoint(this.dir(i.id)) }));
  }
}
