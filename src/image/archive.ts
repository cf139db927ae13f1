// Image archives: docker-archive (what `docker save` / `podman save` write: manifest.json, one
// uncompressed tar per layer, the config) and oci-archive (an OCI image layout in a tar).
import { closeSync, constants, createReadStream, createWriteStream, existsSync, fstatSync, mkdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { ImageContext } from './context.js';
import { CliError, messageOf } from '../errors.js';
import { makeImageRecord, type ImageRecord } from '../storage/image-store.js';
import { hashing, installLayer, zstdDecompressor } from '../storage/layer-install.js';
import { removeTree } from '../storage/layer-store.js';
import { unpackLayer } from '../storage/unpack.js';
import { chainIds, sha256Digest } from '../util/digest.js';
import { digestHex } from '../util/digest-format.js';
import { tempSibling } from '../util/fs.js';
import { readBoundedFd } from '../util/bounded-read.js';
import { closeQuietly, openInRoot } from '../util/in-root.js';
import { ARCHIVE_INDEX_MAX, IMAGE_CONFIG_MAX, MANIFEST_MAX } from '../util/limits.js';
import { hostPlatform, parseManifest, selectPlatform } from './manifest.js';
import { MEDIA, layerCompression, type Descriptor, type ImageConfig, type ImageManifest } from '../image-format.js';
import { normalizeName } from './reference.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface SaveItem {
  image: ImageRecord;
  /** Names to record in the archive (the ones the user asked for, or all of the image's). */
  names: string[];
}

export interface LoadedImage {
  image: ImageRecord;
  names: string[];
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

// ---- save ----

type Entry = { name: string; size: number; body: () => Readable | Buffer };

const writeTar = async (entries: Entry[], out: NodeJS.WritableStream): Promise<void> => {
  const { pack } = await import('tar-stream');
  const p = pack();
  const done = pipeline(p, out);
  for (const e of entries) {
    const header = { name: e.name, size: e.size, mode: 0o644, mtime: new Date(0), type: 'file' as const };
    const body = e.body();
    if (Buffer.isBuffer(body)) {
      await new Promise<void>((resolve, reject) => p.entry(header, body, (err) => (err ? reject(err) : resolve())));
    } else {
      await new Promise<void>((resolve, reject) => {
        const sink = p.entry(header, (err) => (err ? reject(err) : resolve()));
        body.on('error', reject);
        body.pipe(sink as unknown as NodeJS.WritableStream);
      });
    }
  }
  p.finalize();
  await done;
};

const toOciManifest = (m: ImageManifest): ImageManifest => ({
  schemaVersion: 2,
  mediaType: MEDIA.ociManifest,
  config: { ...m.config, mediaType: MEDIA.ociConfig },
  layers: m.layers.map((l) => ({ ...l, mediaType: l.mediaType === MEDIA.dockerLayerGzip ? MEDIA.ociLayerGzip : l.mediaType })),
});

// Writes images to `output` (atomically: a temp file renamed into place) or to a stream.
export const saveImages = async (ctx: ImageContext, items: SaveItem[], format: ArchiveFormat, output: string | NodeJS.WritableStream): Promise<void> => {
  const scratch = tempSibling(join(ctx.paths.data, 'tmp', 'save'));
  mkdirSync(scratch, { recursive: true });
  const entries: Entry[] = [];
  const added = new Set<string>();
  const blobEntry = (name: string, path: string) => {
    if (added.has(name)) return;
    added.add(name);
    entries.push({ name, size: statSync(path).size, body: () => createReadStream(path) });
  };
  try {
    if (format === 'docker-archive') {
      const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
      for (const { image, names } of items) {
        const config = ctx.images.configBytes(image.id);
        const configName = `${digestHex(image.id)}.json`;
        if (!added.has(configName)) {
          added.add(configName);
          entries.push({ name: configName, size: config.length, body: () => config });
        }
        const diffIds = (JSON.parse(config.toString()) as ImageConfig).rootfs?.diff_ids;
        if (!Array.isArray(diffIds) || diffIds.length !== image.layers.length)
          throw new CliError('ESTATE', `image ${image.id} has a config without its layers' diff_ids: remove it and pull it again`);
        const layerNames: string[] = [];
        for (const [i, chainId] of image.layers.entries()) {
          const name = `${digestHex(diffIds[i])}.tar`;
          layerNames.push(name);
          if (added.has(name)) continue;
          // docker-archive holds uncompressed tars: decompress the kept blob once, to know its size.
          const tarPath = join(scratch, name);
          const record = ctx.layers.get(chainId);
          const blob = ctx.layers.blobPath(chainId);
          if (!record || !existsSync(blob)) throw new CliError('ESTATE', `layer ${diffIds[i]} has no stored blob: pull the image again`);
          const compression = layerCompression(record.compressedMediaType ?? MEDIA.dockerLayerGzip, diffIds[i]);
          const decompress = compression === 'gzip' ? createGunzip() : compression === 'zstd' ? zstdDecompressor() : new PassThrough();
          await pipeline(createReadStream(blob), decompress, createWriteStream(tarPath));
          blobEntry(name, tarPath);
        }
        manifest.push({ Config: configName, RepoTags: names, Layers: layerNames });
      }
      const bytes = Buffer.from(JSON.stringify(manifest));
      entries.push({ name: 'manifest.json', size: bytes.length, body: () => bytes });
    } else {
      const index: { schemaVersion: 2; mediaType: string; manifests: Descriptor[] } = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
      const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
      entries.push({ name: 'oci-layout', size: layout.length, body: () => layout });
      for (const { image, names } of items) {
        let manifestBytes = ctx.images.manifestBytes(image.id);
        const stored = parseManifest(manifestBytes, image.manifestMediaType);
        if (stored.kind !== 'image') throw new CliError('EINTERNAL', `image ${image.id} has an index as manifest`);
        if (stored.mediaType !== MEDIA.ociManifest) manifestBytes = Buffer.from(JSON.stringify(toOciManifest(stored.manifest)));
        const manifest = JSON.parse(manifestBytes.toString()) as ImageManifest;
        for (const [i, layer] of manifest.layers.entries()) blobEntry(`blobs/sha256/${digestHex(layer.digest)}`, ctx.layers.blobPath(image.layers[i]));
        const config = ctx.images.configBytes(image.id);
        entries.push({ name: `blobs/sha256/${digestHex(image.id)}`, size: config.length, body: () => config });
        const manifestDigest = sha256Digest(manifestBytes);
        entries.push({ name: `blobs/sha256/${digestHex(manifestDigest)}`, size: manifestBytes.length, body: () => manifestBytes });
        const descriptor = { mediaType: MEDIA.ociManifest, digest: manifestDigest, size: manifestBytes.length };
        if (names.length === 0) index.manifests.push(descriptor);
        for (const name of names) index.manifests.push({ ...descriptor, annotations: { [REF_NAME]: name } });
      }
      const bytes = Buffer.from(JSON.stringify(index));
      entries.push({ name: 'index.json', size: bytes.length, body: () => bytes });
    }
    if (typeof output !== 'string') return await writeTar(entries, output);
    const temp = tempSibling(output);
    try {
      await writeTar(entries, createWriteStream(temp, { mode: 0o644 }));
      renameSync(temp, output);
    } catch (error) {
      rmSync(temp, { force: true });
      throw new CliError('EUSAGE', `cannot write ${output}: ${messageOf(error)}`, { cause: error });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
};

// ---- load ----

// An archive unpacked into a scratch directory, read member by member. A member's name is
// resolved inside the archive (openInRoot): a member that is a symlink leads to another member
// (docker save links repeated layers so) and never to a host file such as ~/.docker/config.json
// or /dev/zero; only regular files are members.
class Members {
  constructor(private readonly root: string) {}

  private open(name: string): number {
    let fd: number;
    try {
      fd = openInRoot(this.root, name, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError('EUSAGE', `archive lacks "${name}"`);
      throw new CliError('EUSAGE', `archive member "${name}" cannot be opened inside the archive: ${code ?? messageOf(error)}`);
    }
    if (!fstatSync(fd).isFile()) {
      closeQuietly(fd);
      throw new CliError('EUSAGE', `archive member "${name}" is not a regular file`);
    }
    return fd;
  }

  has(name: string): boolean {
    try {
      closeQuietly(this.open(name));
      return true;
    } catch {
      return false;
    }
  }

  // A document read whole: the archive's own index, a manifest or a config, within its cap.
  read(name: string, limit: number): Buffer {
    const fd = this.open(name);
    try {
      return readBoundedFd(fd, { what: `archive member "${name}"`, limit, code: 'EUSAGE' });
    } finally {
      closeQuietly(fd);
    }
  }

  json<T>(name: string): T {
    const bytes = this.read(name, ARCHIVE_INDEX_MAX);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (error) {
      throw new CliError('EUSAGE', `archive has no valid ${name}: ${messageOf(error)}`);
    }
  }

  stream(name: string): Readable {
    return createReadStream('', { fd: this.open(name) });
  }

  isGzip(name: string): boolean {
    const fd = this.open(name);
    try {
      const magic = Buffer.alloc(2);
      readSync(fd, magic, 0, 2, 0);
      return magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      closeSync(fd);
    }
  }
}

// Digest and size of a stream.
const describeStream = async (stream: Readable): Promise<{ digest: string; size: number }> => {
  const hash = hashing();
  hash.stream.resume();
  await pipeline(stream, hash.stream);
  return { digest: hash.digest(), size: hash.bytes() };
};

interface Candidate {
  manifestBytes: Buffer;
  mediaType: string;
  config: Buffer;
  names: string[];
  layers: { descriptor: Descriptor; open: () => Readable }[];
}

// Gzips an uncompressed layer tar into a blob, so a loaded image can be pushed like a pulled one.
const gzipLayer = async (input: Readable, scratch: string): Promise<{ descriptor: Descriptor; open: () => Readable }> => {
  const out = join(scratch, `blob-${Math.random().toString(16).slice(2)}`);
  const hash = hashing();
  await pipeline(input, createGzip({ level: 1 }), hash.stream, createWriteStream(out));
  return { descriptor: { mediaType: MEDIA.dockerLayerGzip, digest: hash.digest(), size: hash.bytes() }, open: () => createReadStream(out) };
};

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

const dockerCandidates = async (members: Members, scratch: string): Promise<Candidate[]> => {
  const entries = members.json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>('manifest.json');
  if (
    !Array.isArray(entries) ||
    !entries.every((e) => e && typeof e.Config === 'string' && isStringList(e.Layers) && (e.RepoTags == null || isStringList(e.RepoTags)))
  )
    throw new CliError('EUSAGE', 'archive has no valid manifest.json: expected a list of {Config, RepoTags, Layers}');
  const out: Candidate[] = [];
  for (const entry of entries) {
    const config = members.read(entry.Config, IMAGE_CONFIG_MAX);
    const layers = [];
    for (const name of entry.Layers) {
      if (members.isGzip(name))
        layers.push({ descriptor: { mediaType: MEDIA.dockerLayerGzip, ...(await describeStream(members.stream(name))) }, open: () => members.stream(name) });
      else layers.push(await gzipLayer(members.stream(name), scratch));
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: { mediaType: MEDIA.dockerConfig, digest: sha256Digest(config), size: config.length },
      layers: layers.map((l) => l.descriptor),
    };
    out.push({ manifestBytes: Buffer.from(JSON.stringify(manifest)), mediaType: MEDIA.dockerManifest, config, names: entry.RepoTags ?? [], layers });
  }
  return out;
};

const ociCandidates = (members: Members): Candidate[] => {
  const blob = (digest: string) => {
    if (typeof digest !== 'string' || !/^[a-z0-9]+:[a-f0-9]+$/.test(digest))
      throw new CliError('EUSAGE', `archive names a blob by an invalid digest "${String(digest)}"`);
    return `blobs/${digest.replace(':', '/')}`;
  };
  const index = members.json<{ manifests: Descriptor[] }>('index.json');
  const byDigest = new Map<string, Candidate>();
  for (let descriptor of index.manifests ?? []) {
    const annotations = descriptor.annotations ?? {};
    let bytes = members.read(blob(descriptor.digest), MANIFEST_MAX);
    let parsed = parseManifest(bytes, descriptor.mediaType);
    if (parsed.kind === 'index') {
      descriptor = selectPlatform(parsed.index, hostPlatform());
      bytes = members.read(blob(descriptor.digest), MANIFEST_MAX);
      parsed = parseManifest(bytes, descriptor.mediaType);
      if (parsed.kind !== 'image') throw new CliError('EUSAGE', 'nested image indexes are not supported');
    }
    const rawName = annotations[CONTAINERD_NAME] ?? annotations[REF_NAME];
    let names: string[] = [];
    if (rawName && (rawName.includes('/') || rawName.includes(':'))) {
      try {
        names = [normalizeName(rawName)];
      } catch {
        names = [];
      }
    }
    const digest = sha256Digest(bytes);
    const existing = byDigest.get(digest);
    if (existing) {
      existing.names.push(...names);
      continue;
    }
    const manifest = parsed.manifest;
    byDigest.set(digest, {
      manifestBytes: bytes,
      mediaType: parsed.mediaType,
      config: members.read(blob(manifest.config.digest), IMAGE_CONFIG_MAX),
      names,
      layers: manifest.layers.map((d) => ({ descriptor: d, open: () => members.stream(blob(d.digest)) })),
    });
  }
  return [...byDigest.values()];
};

// Loads every image of an archive file (or stream); unpacks layers like a pull does.
export const loadImages = async (ctx: ImageContext, input: string | Readable, options: { chown: boolean; installed: string[] }): Promise<LoadedImage[]> => {
  const origin = typeof input === 'string' ? `archive ${input}` : 'archive on standard input';
  const scratch = tempSibling(join(ctx.paths.data, 'tmp', 'load'));
  const root = join(scratch, 'archive');
  mkdirSync(root, { recursive: true });
  try {
    let stream: Readable;
    if (typeof input === 'string') {
      if (!existsSync(input)) throw new CliError('EUSAGE', `${input}: no such file`);
      stream = createReadStream(input);
    } else stream = input;
    // Peek for gzip: compressed archives (.tar.gz) are common.
    const first = await new Promise<Buffer>((resolve, reject) => {
      stream.once('readable', () => resolve((stream.read(2) as Buffer | null) ?? Buffer.alloc(0)));
      stream.once('error', reject);
    });
    stream.unshift(first);
    const tarStream = first[0] === 0x1f && first[1] === 0x8b ? stream.pipe(createGunzip()) : stream;
    try {
      await unpackLayer(tarStream, root, { chown: false });
    } catch (error) {
      throw new CliError('EUSAGE', `${origin} is not a readable image archive: ${messageOf(error)}`, { cause: error });
    }
    let candidates: Candidate[];
    const members = new Members(root);
    if (members.has('manifest.json')) candidates = await dockerCandidates(members, scratch);
    else if (members.has('oci-layout') && members.has('index.json')) candidates = ociCandidates(members);
    else throw new CliError('EUSAGE', `${origin} is neither a docker-archive (manifest.json) nor an oci-archive (oci-layout, index.json)`);
    const loaded: LoadedImage[] = [];
    for (const c of candidates) {
      const configDigest = sha256Digest(c.config);
      let config: ImageConfig;
      try {
        config = JSON.parse(c.config.toString()) as ImageConfig;
      } catch (error) {
        throw new CliError('EUSAGE', `image config ${configDigest} in the ${origin} is not JSON: ${messageOf(error)}`);
      }
      const diffIds = config?.rootfs?.diff_ids;
      if (config?.rootfs?.type !== 'layers' || !isStringList(diffIds) || !diffIds.every((d) => /^sha256:[a-f0-9]{64}$/.test(d)))
        throw new CliError('EUSAGE', `image config ${configDigest} in the ${origin} is not an image config: it lacks rootfs.type "layers" and rootfs.diff_ids`);
      if (diffIds.length !== c.layers.length)
        throw new CliError('EUSAGE', `image ${configDigest} lists ${diffIds.length} layers but the archive has ${c.layers.length}`);
      const chains = chainIds(diffIds);
      for (const [i, layer] of c.layers.entries()) {
        const installed = await installLayer(
          ctx.layers,
          { descriptor: layer.descriptor, diffId: diffIds[i], chainId: chains[i], parent: chains[i - 1], origin },
          { chown: options.chown, open: async () => layer.open() },
        );
        if (installed) options.installed.push(chains[i]);
      }
      const names = [...new Set(c.names.map((n) => normalizeName(n)))];
      const record = makeImageRecord(
        config,
        { id: configDigest, names, repoDigests: [], digest: sha256Digest(c.manifestBytes), manifestMediaType: c.mediaType, layers: chains },
        (id) => ctx.layers.get(id)?.size ?? 0,
      );
      const image = await ctx.images.put(record, c.manifestBytes, c.config);
      loaded.push({ image, names });
    }
    return loaded;
  } finally {
    removeTree(scratch);
  }
};
