// The layer store: layers/<chain-id hex>/{diff/,layer.json}, content addressed and shared by every
// image that uses them. A layer is built in a temp directory and renamed into place only when it is
// complete and verified, so a killed pull never leaves half a layer behind.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { type IdMappings, flatRanges } from '../util/idmap.js';
import { sha256Digest } from '../util/digest.js';
import { native } from '../util/native.js';
import { digestHex } from '../util/digest-format.js';
import { listDir, readJsonIfExists, readRecords, sweepStaleTemps, tempSibling, writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';

export interface LayerRecord {
  chainId: string;
  diffId: string;
  parent?: string;
  /** Uncompressed size in bytes (file content). */
  size: number;
  /** Bytes of the uncompressed tar, what Podman counts as the layer's size (absent in older stores). */
  tarSize?: number;
  compressedDigest?: string;
  compressedSize?: number;
  /** Media type of the kept compressed blob (layers/<id>/blob). */
  compressedMediaType?: string;
  created: string;
}

// A layer's size as Podman counts it: its uncompressed tar (file content in stores from before).
export const layerTarSize = (record: LayerRecord | undefined): number => record?.tarSize ?? record?.size ?? 0;

export class LayerStore {
  constructor(private readonly root: string) {}

  private dir(chainId: string): string {
    return join(this.root, 'layers', digestHex(chainId));
  }

  diffPath(chainId: string): string {
    return join(this.dir(chainId), 'diff');
  }

  // The layer's compressed blob as it was pulled (or made by load), for push and save.
  blobPath(chainId: string): string {
    return join(this.dir(chainId), 'blob');
  }

  // The layer's copy for containers with a user namespace of their own (see mapped()).
  mappedPath(chainId: string, key: string): string {
    return join(this.dir(chainId), 'idmaps', key);
  }

  // Makes (once per map, shared by every container with that map) the layer's id-shifted copy:
  // owners as the map presents the image's ids (native/addon/idshift.c). Built in a temp directory
  // under the layer's lock and renamed into place, so a killed copy leaves nothing that is used.
  // Lives in the layer's directory: it goes when the layer goes.
  async mapped(chainId: string, mappings: IdMappings): Promise<string> {
    const key = mappingsKey(mappings);
    const final = this.mappedPath(chainId, key);
    if (existsSync(final)) return final;
    const hex = digestHex(chainId);
    return withLock(join(this.root, 'locks', `layer-${hex}.lock`), async () => {
      if (existsSync(final)) return final;
      if (!this.get(chainId)) throw new CliError('ENOIMAGE', `layer ${chainId} is not in the store: pull the image again`);
      const dir = join(this.dir(chainId), 'idmaps');
      sweepStaleTemps(dir, removeTree); // copies a killed command left (of any map: this lock covers the layer's)
      const temp = tempSibling(final);
      mkdirSync(temp, { recursive: true });
      try {
        await native().shiftCopy(this.diffPath(chainId), temp, flatRanges(mappings.uid), flatRanges(mappings.gid), 1);
        renameSync(temp, final);
      } catch (error) {
        removeTree(temp);
        throw new CliError('EUNPACK', `cannot make the image's copy for this user namespace: ${messageOf(error)}`, { cause: error });
      }
      return final;
    });
  }

  get(chainId: string): LayerRecord | undefined {
    return readJsonIfExists<LayerRecord>(join(this.dir(chainId), 'layer.json'));
  }

  list(): LayerRecord[] {
    return readRecords<LayerRecord>(join(this.root, 'layers'), 'layer.json');
  }

  // Installs a layer once: under the layer's lock, `produce` fills a fresh temp diff directory and
  // returns its record; the directory is renamed into place only if produce succeeds.
  // Returns false when the layer was already present (another pull may have just installed it).
  async install(chainId: string, produce: (diffDir: string) => Promise<LayerRecord>): Promise<boolean> {
    const hex = digestHex(chainId);
    const final = this.dir(chainId);
    return withLock(join(this.root, 'locks', `layer-${hex}.lock`), async () => {
      if (this.get(chainId)) return false;
      this.removeStaleTemps(hex);
      const temp = tempSibling(final);
      mkdirSync(join(temp, 'diff'), { recursive: true, mode: 0o755 });
      try {
        const record = await produce(join(temp, 'diff'));
        writeJsonAtomic(join(temp, 'layer.json'), record);
        rmSync(final, { recursive: true, force: true });
        renameSync(temp, final);
      } catch (error) {
        removeTree(temp);
        throw error;
      }
      return true;
    });
  }

  // Temp directories whose pull was killed (layers and image records alike).
  sweepTemps(): void {
    sweepStaleTemps(join(this.root, 'layers'), removeTree);
    sweepStaleTemps(join(this.root, 'images'), removeTree);
    sweepStaleTemps(join(this.root, 'tmp'), removeTree);
  }

  // Temp directories of this layer left by a killed pull (we hold the layer's lock, so none is live).
  private removeStaleTemps(hex: string): void {
    const layers = join(this.root, 'layers');
    const names = listDir(layers);
    for (const name of names) if (name.startsWith(`.tmp-${hex}-`)) removeTree(join(layers, name));
  }

  // Deletes a layer. Caller holds the store's exclusive lock and knows nothing references it.
  remove(chainId: string): void {
    removeTree(this.dir(chainId));
  }

  // Disk usage of a layer's diff directory (apparent size of regular files).
  static du(path: string): number {
    let total = 0;
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) total += statSync(p).size;
      }
    };
    walk(path);
    return total;
  }
}

// A short name for a map (its copies' directory name).
export const mappingsKey = (mappings: IdMappings): string =>
  digestHex(sha256Digest(JSON.stringify([flatRanges(mappings.uid), flatRanges(mappings.gid)]))).slice(0, 16);

// rm -rf that also copes with read-only directories from images (0555 dirs need u+w first).
export const removeTree = (path: string): void => {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES' && (error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
  }
  const unlock = (p: string) => {
    const st = lstatSync(p);
    if (!st.isDirectory()) return;
    chmodSync(p, 0o700);
    for (const name of readdirSync(p)) unlock(join(p, name));
  };
  unlock(path);
  rmSync(path, { recursive: true, force: true });
};
