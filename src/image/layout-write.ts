// Writing images out of the store into a layout: docker-archive (manifest.json, the config, one
// uncompressed tar per layer), an OCI image layout (in a tar: oci-archive; or a directory: oci)
// and containers/image's dir layout (docker-dir). A file is written whole or not at all (a temp
// file renamed into place); a directory is made beside its place and renamed into it, except an
// OCI layout that exists already, which gets the new blobs and an index that names them.
import { createReadStream, createWriteStream, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, messageOf } from '../errors.js';
import { MEDIA, type Descriptor } from '../image-format.js';
import type { ImageRecord } from '../storage/image-store.js';
import { sha256Digest } from '../util/digest.js';
import { digestHex } from '../util/digest-format.js';
import { tempSibling, writeFileAtomic } from '../util/fs.js';
import type { ImageContext } from './context.js';
import { exportImage, type ExportOptions } from './layer-blobs.js';
import { LayoutFiles } from './layout-files.js';

export type SaveFormat = 'docker-archive' | 'oci-archive' | 'oci-dir' | 'docker-dir';

export interface SaveItem {
  image: ImageRecord;
  /** Names to record (RepoTags; OCI ref.name annotations). */
  names: string[];
}

export interface SaveOptions {
  /** docker-dir: gzip the layers (default: as stored). */
  compress?: boolean;
  /** OCI: keep uncompressed layers so (default: gzip them, as Podman does). */
  uncompressed?: boolean;
  /** Layer compression and manifest format for the destination (push to a layout). */
  export?: ExportOptions;
}

type Entry = { name: string; size: number; body: () => Readable | Buffer };

const REF_NAME = 'org.opencontainers.image.ref.name';
const DIR_VERSION = 'Directory Transport Version: 1.1\n';

const bytesEntry = (name: string, bytes: Buffer): Entry => ({ name, size: bytes.length, body: () => bytes });
const fileEntry = (name: string, path: string): Entry => ({ name, size: statSync(path).size, body: () => createReadStream(path) });

// The files of a layout holding `items`; blobs are made under `scratch`. An OCI layout also gives
// its index's descriptors (merged into an existing layout's index by the caller).
const layoutEntries = async (
  ctx: ImageContext,
  items: SaveItem[],
  format: SaveFormat,
  options: SaveOptions,
  scratch: string,
): Promise<{ entries: Entry[]; index?: Descriptor[]; digests: string[] }> => {
  const entries: Entry[] = [];
  const digests: string[] = [];
  const added = new Set<string>();
  const add = (entry: Entry) => {
    if (added.has(entry.name)) return;
    added.add(entry.name);
    entries.push(entry);
  };
  if (format === 'docker-archive') {
    const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    for (const { image, names } of items) {
      const out = await exportImage(ctx, image, { form: 'tar' }, scratch);
      const configName = `${digestHex(image.id)}.json`;
      add(bytesEntry(configName, out.config));
      for (const l of out.layers) add(fileEntry(`${digestHex(l.descriptor.digest)}.tar`, l.path));
      manifest.push({ Config: configName, RepoTags: names, Layers: out.layers.map((l) => `${digestHex(l.descriptor.digest)}.tar`) });
    }
    add(bytesEntry('manifest.json', Buffer.from(JSON.stringify(manifest))));
    return { entries, digests: items.map((i) => i.image.digest) };
  }
  if (format === 'docker-dir') {
    if (items.length !== 1) throw new CliError('EUSAGE', 'a dir: layout holds one image');
    const out = await exportImage(ctx, items[0].image, options.export ?? { form: options.compress ? 'gzip' : 'stored', kind: 'docker' }, scratch);
    for (const l of out.layers) add(fileEntry(digestHex(l.descriptor.digest), l.path));
    add(bytesEntry(digestHex(items[0].image.id), out.config));
    add(bytesEntry('manifest.json', out.manifestBytes));
    add(bytesEntry('version', Buffer.from(DIR_VERSION)));
    return { entries, digests: [sha256Digest(out.manifestBytes)] };
  }
  const index: Descriptor[] = [];
  add(bytesEntry('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')));
  for (const { image, names } of items) {
    const out = await exportImage(ctx, image, options.export ?? { form: 'stored', compressUncompressed: !options.uncompressed, kind: 'oci' }, scratch);
    for (const l of out.layers) add(fileEntry(`blobs/sha256/${digestHex(l.descriptor.digest)}`, l.path));
    add(bytesEntry(`blobs/sha256/${digestHex(image.id)}`, out.config));
    const digest = sha256Digest(out.manifestBytes);
    digests.push(digest);
    add(bytesEntry(`blobs/sha256/${digestHex(digest)}`, out.manifestBytes));
    const descriptor: Descriptor = { mediaType: out.mediaType, digest, size: out.manifestBytes.length };
    if (names.length === 0) index.push(descriptor);
    for (const name of names) index.push({ ...descriptor, annotations: { [REF_NAME]: name } });
  }
  return { entries, index, digests };
};

const indexBytes = (manifests: Descriptor[]): Buffer => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }));

const writeTar = async (entries: Entry[], out: NodeJS.WritableStream): Promise<void> => {
  const { pack } = await import('tar-stream');
  const p = pack();
  const done = pipeline(p, out);
  done.catch(() => undefined); // an entry that fails first throws below; `await done` still sees this
  for (const e of entries) {
    const header = { name: e.name, size: e.size, mode: 0o644, mtime: new Date(0), type: 'file' as const };
    const body = e.body();
    if (Buffer.isBuffer(body)) {
      await new Promise<void>((resolve, reject) => p.entry(header, body, (err) => (err ? reject(err) : resolve())));
    } else {
      await new Promise<void>((resolve, reject) => {
        const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
        body.on('error', reject);
        // The output gone (a closed pipe): the entry is destroyed with its error, which is ours.
        (sink as unknown as NodeJS.EventEmitter).on('error', reject);
        body.pipe(sink as unknown as NodeJS.WritableStream);
      });
    }
  }
  p.finalize();
  await done;
};

// Writes one entry as a file under `dir` (a temp file renamed into place: a symlink there is replaced, never followed).
const writeEntryFile = async (dir: string, entry: Entry): Promise<void> => {
  const path = join(dir, entry.name);
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempSibling(path);
  try {
    const body = entry.body();
    const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    if (Buffer.isBuffer(body)) {
      await new Promise<void>((resolve, reject) => out.end(body, () => resolve()).on('error', reject));
    } else await pipeline(body, out);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
};

const isDir = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;

// Adds images to an OCI layout that exists: its blobs, then its index (entries of the same name replaced).
const addToOciLayout = async (dir: string, entries: Entry[], index: Descriptor[]): Promise<void> => {
  for (const sub of ['blobs', 'blobs/sha256'])
    if (lstatSync(join(dir, sub), { throwIfNoEntry: false }) && !isDir(join(dir, sub)))
      throw new CliError('EUSAGE', `${join(dir, sub)} is not a directory: ${dir} is not an OCI layout skiff can add to`);
  const existing = new LayoutFiles(dir, dir).json<{ manifests?: Descriptor[] }>('index.json');
  if (!existing || !Array.isArray(existing.manifests)) throw new CliError('EUSAGE', `${dir}/index.json lists no manifests: ${dir} is not an OCI layout`);
  for (const entry of entries) if (entry.name.startsWith('blobs/')) await writeEntryFile(dir, entry);
  const names = new Set(index.map((d) => d.annotations?.[REF_NAME]).filter(Boolean));
  const kept = existing.manifests.filter((d) => !(d?.annotations?.[REF_NAME] && names.has(d.annotations[REF_NAME])));
  writeFileAtomic(join(dir, 'index.json'), indexBytes([...kept, ...index]), 0o644);
};

// Writes a new directory layout at `dir`: made beside it, then renamed into place. A dir: layout
// there is replaced (as containers/image does); any other non-empty directory is refused.
const writeNewDir = async (dir: string, entries: Entry[], replaceIf: string): Promise<void> => {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  let old: string | undefined;
  if (st) {
    if (!st.isDirectory()) throw new CliError('EUSAGE', `${dir} exists and is not a directory`);
    if (readdirSync(dir).length > 0) {
      if (!lstatSync(join(dir, replaceIf), { throwIfNoEntry: false })?.isFile())
        throw new CliError('EUSAGE', `${dir} is a directory that is not empty and holds no image layout: name a new or an empty directory`);
      old = tempSibling(dir);
    }
  }
  const temp = tempSibling(dir);
  mkdirSync(temp, { mode: 0o755 });
  try {
    for (const entry of entries) await writeEntryFile(temp, entry);
    if (old) renameSync(dir, old);
    else if (st) rmdirSync(dir);
    renameSync(temp, dir);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (old) renameSync(old, dir);
    throw error;
  }
  if (old) rmSync(old, { recursive: true, force: true });
};

// Writes images to `output` (an archive file or stream, or a directory for oci-dir/docker-dir);
// the digests of the manifests written (a docker-archive's: the stored ones), one per item.
export const writeLayout = async (
  ctx: ImageContext,
  items: SaveItem[],
  format: SaveFormat,
  output: string | NodeJS.WritableStream,
  options: SaveOptions = {},
): Promise<string[]> => {
  const scratch = tempSibling(join(ctx.paths.data, 'tmp', 'save'));
  mkdirSync(scratch, { recursive: true });
  try {
    const { entries, index, digests } = await layoutEntries(ctx, items, format, options, scratch);
    if (format === 'oci-dir' || format === 'docker-dir') {
      if (typeof output !== 'string') throw new CliError('EUSAGE', `--format ${format} writes a directory: name it with --output DIR`);
      try {
        if (format === 'oci-dir' && isDir(output) && new LayoutFiles(output, output).has('oci-layout')) await addToOciLayout(output, entries, index!);
        else
          await writeNewDir(
            output,
            index ? [...entries, { name: 'index.json', ...sized(indexBytes(index)) }] : entries,
            format === 'oci-dir' ? 'oci-layout' : 'version',
          );
        return digests;
      } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError('EUSAGE', `cannot write ${output}: ${messageOf(error)}`, { cause: error });
      }
    }
    if (index) entries.push({ name: 'index.json', ...sized(indexBytes(index)) });
    if (typeof output !== 'string') {
      await writeTar(entries, output);
      return digests;
    }
    const temp = tempSibling(output);
    try {
      await writeTar(entries, createWriteStream(temp, { mode: 0o644 }));
      renameSync(temp, output);
      return digests;
    } catch (error) {
      rmSync(temp, { force: true });
      throw new CliError('EUSAGE', `cannot write ${output}: ${messageOf(error)}`, { cause: error });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
};

const sized = (bytes: Buffer) => ({ size: bytes.length, body: () => bytes });
