// The image store: images/<image-id>/{manifest.json,config.json,image.json}. The image id is the
// config digest. Names ("registry/repo:tag") are unique across images; moving a name to a new image
// leaves the old one dangling. Readers take no lock; writers hold images.lock.
import { CliError } from '../errors.js';
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { digestHex } from '../util/digest-format.js';
import { readJsonIfExists, readRecords, tempSibling, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import type { ImageConfig, ImageManifest } from '../image-format.js';

export interface ImageRecord {
  /** sha256:<hex> of the config blob. */
  id: string;
  /** Tagged names, "registry/repo:tag". */
  names: string[];
  /** "registry/repo@sha256:..." for each registry the manifest came from. */
  repoDigests: string[];
  /** Digest of the manifest as stored. */
  digest: string;
  manifestMediaType: string;
  /** Chain ids of the layers, bottom first. */
  layers: string[];
  /** Podman's image size: the layers' uncompressed tars, the config and the manifest twice
   * (containers/storage keeps it under two keys and counts both). */
  size: number;
  created: string;
  /** When skiff stored it. */
  stored: string;
  architecture: string;
  os: string;
  /** A build's step (its layer cache): hidden from `images` but with -a, as Podman's intermediate images. */
  intermediate?: boolean;
  /** A manifest list's (manifest.json is then its index): where each entry's manifest is, by its
   * digest: "containers-storage:<image id>" or "docker://<registry>/<repository>@<digest>". */
  listSources?: Record<string, string>;
  /** Every name the image has had, the latest first (images --history, inspect's NamesHistory). */
  namesHistory?: string[];
}

// The record with `names` set and each of them moved to the front of its names history
// (containers/storage's rule: a name given again is recent again; a name removed stays in it).
const named = (record: ImageRecord, names: string[]): ImageRecord => {
  let history = record.namesHistory ?? [];
  for (const name of names) history = [name, ...history.filter((h) => h !== name)];
  return { ...record, names, namesHistory: history };
};

// A new image's record: the fields its config and its layers decide are derived here.
export const makeImageRecord = (
  config: ImageConfig,
  fields: Pick<ImageRecord, 'id' | 'names' | 'repoDigests' | 'digest' | 'manifestMediaType' | 'layers'>,
  layerSize: (chainId: string) => number,
  documents: { manifest: Buffer; config: Buffer },
): ImageRecord => ({
  ...fields,
  size: fields.layers.reduce((sum, id) => sum + layerSize(id), 0) + documents.config.length + 2 * documents.manifest.length,
  created: config.created ?? new Date(0).toISOString(),
  stored: new Date().toISOString(),
  architecture: config.architecture ?? 'unknown',
  os: config.os ?? 'linux',
});

export class ImageStore {
  constructor(private readonly root: string) {}

  private dir(id: string): string {
    return join(this.root, 'images', digestHex(id));
  }

  lockPath(): string {
    return join(this.root, 'locks', 'images.lock');
  }

  // Every stored image (records being written by a concurrent pull are not yet visible).
  list(): ImageRecord[] {
    return readRecords<ImageRecord>(join(this.root, 'images'), 'image.json');
  }

  get(id: string): ImageRecord | undefined {
    return readJsonIfExists<ImageRecord>(join(this.dir(id), 'image.json'));
  }

  config(id: string): ImageConfig {
    return JSON.parse(this.configBytes(id).toString('utf8')) as ImageConfig;
  }

  configBytes(id: string): Buffer {
    return readFileSync(join(this.dir(id), 'config.json'));
  }

  manifestBytes(id: string): Buffer {
    return readFileSync(join(this.dir(id), 'manifest.json'));
  }

  manifest(id: string): ImageManifest {
    return JSON.parse(this.manifestBytes(id).toString('utf8')) as ImageManifest;
  }

  // Adds an image (or merges names and repo digests into the stored one), then makes `names` point
  // at it alone. Runs under images.lock.
  async put(record: ImageRecord, manifest: Buffer, config: Buffer): Promise<ImageRecord> {
    return withLock(this.lockPath(), async () => this.putLocked(record, manifest, config));
  }

  // put() for a caller that holds images.lock.
  putLocked(record: ImageRecord, manifest: Buffer, config: Buffer): ImageRecord {
    const existing = this.get(record.id);
    let merged: ImageRecord;
    if (existing) {
      merged = {
        ...named(existing, [...new Set([...existing.names, ...record.names])]),
        repoDigests: [...new Set([...existing.repoDigests, ...record.repoDigests])],
      };
      // A build's cache step stored again as a result (the same config) is an image like any other,
      // with the result's manifest (a build's --format oci: its step was stored in docker's).
      if (!record.intermediate && existing.intermediate) {
        delete merged.intermediate;
        if (record.digest !== existing.digest) {
          writeFileAtomic(join(this.dir(record.id), 'manifest.json'), manifest);
          merged.digest = record.digest;
          merged.manifestMediaType = record.manifestMediaType;
        }
      }
      writeJsonAtomic(join(this.dir(record.id), 'image.json'), merged);
    } else {
      merged = named(record, record.names);
      const final = this.dir(record.id);
      const temp = tempSibling(final);
      mkdirSync(temp, { recursive: true });
      writeFileAtomic(join(temp, 'manifest.json'), manifest);
      writeFileAtomic(join(temp, 'config.json'), config);
      writeJsonAtomic(join(temp, 'image.json'), merged);
      renameSync(temp, final);
    }
    this.takeNamesLocked(merged.id, merged.names);
    return merged;
  }

  // Removes `names` from every image but `id`. Caller holds images.lock.
  private takeNamesLocked(id: string, names: string[]): void {
    for (const other of this.list()) {
      if (other.id === id) continue;
      const kept = other.names.filter((n) => !names.includes(n));
      if (kept.length !== other.names.length) writeJsonAtomic(join(this.dir(other.id), 'image.json'), { ...other, names: kept });
    }
  }

  // Replaces an image's names (tag/untag). Caller holds images.lock.
  setNamesLocked(id: string, names: string[]): ImageRecord {
    const record = this.get(id);
    if (!record) throw new CliError('ENOIMAGE', `image ${id} was removed meanwhile`);
    const updated = named(record, names);
    writeJsonAtomic(join(this.dir(id), 'image.json'), updated);
    this.takeNamesLocked(id, names);
    return updated;
  }

  // Replaces a stored image's record and manifest (a manifest list's edits): the record first, so
  // every entry of a list's index has its source in the record. Caller holds images.lock.
  rewriteLocked(record: ImageRecord, manifest: Buffer): void {
    writeJsonAtomic(join(this.dir(record.id), 'image.json'), record);
    writeFileAtomic(join(this.dir(record.id), 'manifest.json'), manifest);
  }

  // Deletes an image record. Caller holds images.lock.
  removeLocked(id: string): void {
    const final = this.dir(id);
    const temp = tempSibling(final);
    renameSync(final, temp);
    rmSync(temp, { recursive: true, force: true });
  }
}
