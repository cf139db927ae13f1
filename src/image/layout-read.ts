// Reading images out of a layout into the store: docker-archive (what `docker save` writes:
// manifest.json, one tar per layer, the config), an OCI image layout (oci-layout, index.json,
// blobs/; in a tar or a directory) and containers/image's dir layout (manifest.json, version,
// one file per blob). Layers are installed as a pull installs them: digests checked, unpacked
// safely (src/storage/layer-install.ts); every document is read within its cap.
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { CliError, messageOf } from '../errors.js';
import { MEDIA, type Descriptor, type ImageConfig, type ImageManifest, type Platform } from '../image-format.js';
import { makeImageRecord, type ImageRecord } from '../storage/image-store.js';
import { hashing, installLayer } from '../storage/layer-install.js';
import { layerTarSize, removeTree } from '../storage/layer-store.js';
import { unpackLayer } from '../storage/unpack.js';
import { chainIds, sha256Digest } from '../util/digest.js';
import { tempSibling } from '../util/fs.js';
import { IMAGE_CONFIG_MAX, MANIFEST_MAX } from '../util/limits.js';
import type { ImageContext } from './context.js';
import { LayoutFiles } from './layout-files.js';
import { hostPlatform, parseManifest, selectPlatform } from './manifest.js';
import { normalizeName } from './reference.js';

export interface LoadedImage {
  image: ImageRecord;
  names: string[];
}

/** Which images of a layout to take: all of them (load), or the one named. */
export interface LayoutSelection {
  /** A docker-archive RepoTag or an OCI ref.name. */
  name?: string;
  /** The image's place in a docker-archive (docker-archive:PATH:@N). */
  index?: number;
  /** Every image (load); otherwise exactly one must be chosen. */
  all?: boolean;
  /** Names the images get instead of the layout's own (oci:DIR and dir:DIR: localhost/DIR). */
  names?: string[];
  platform?: Platform;
}

interface Candidate {
  manifestBytes: Buffer;
  mediaType: string;
  config: Buffer;
  /** Names recorded in the layout (RepoTags; ref.name annotations that look like image names). */
  names: string[];
  /** ref.name annotations as written (an OCI layout's names for its images, e.g. "1.0"). */
  refNames: string[];
  layers: { descriptor: Descriptor; open: () => Readable }[];
}

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

// Digest and size of a stream.
const describeStream = async (stream: Readable): Promise<{ digest: string; size: number }> => {
  const hash = hashing();
  hash.stream.resume();
  await pipeline(stream, hash.stream);
  return { digest: hash.digest(), size: hash.bytes() };
};

// Gzips an uncompressed layer tar into a blob, so a loaded image can be pushed like a pulled one.
const gzipLayer = async (input: Readable, scratch: string): Promise<{ descriptor: Descriptor; open: () => Readable }> => {
  const out = join(scratch, `blob-${Math.random().toString(16).slice(2)}`);
  const hash = hashing();
  await pipeline(input, createGzip({ level: 1 }), hash.stream, createWriteStream(out));
  return { descriptor: { mediaType: MEDIA.dockerLayerGzip, digest: hash.digest(), size: hash.bytes() }, open: () => createReadStream(out) };
};

// Whether a layout's image (its recorded names, its ref.name annotations, its place) is one `selection` takes.
const selects = (selection: LayoutSelection, names: string[], refNames: string[], i: number): boolean => {
  if (selection.all) return true;
  if (selection.index !== undefined) return selection.index === i;
  if (selection.name === undefined) return true;
  if (refNames.includes(selection.name)) return true;
  try {
    const wanted = normalizeName(selection.name);
    return names.some((n) => {
      try {
        return normalizeName(n) === wanted;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
};

const dockerCandidates = async (files: LayoutFiles, scratch: string, selection: LayoutSelection): Promise<Candidate[]> => {
  const entries = files.json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>('manifest.json');
  if (
    !Array.isArray(entries) ||
    !entries.every((e) => e && typeof e.Config === 'string' && isStringList(e.Layers) && (e.RepoTags == null || isStringList(e.RepoTags)))
  )
    throw new CliError('EUSAGE', 'archive has no valid manifest.json: expected a list of {Config, RepoTags, Layers}');
  if (selection.index !== undefined && !entries[selection.index])
    throw new CliError('ENOIMAGE', `the archive has no image @${selection.index}: it holds ${entries.length} (@0 to @${entries.length - 1})`);
  const out: Candidate[] = [];
  for (const [i, entry] of entries.entries()) {
    const names = entry.RepoTags ?? [];
    if (!selects(selection, names, [], i)) continue;
    const config = files.read(entry.Config, IMAGE_CONFIG_MAX);
    const layers = [];
    for (const name of entry.Layers) {
      if (files.isGzip(name))
        layers.push({ descriptor: { mediaType: MEDIA.dockerLayerGzip, ...(await describeStream(files.stream(name))) }, open: () => files.stream(name) });
      else layers.push(await gzipLayer(files.stream(name), scratch));
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: { mediaType: MEDIA.dockerConfig, digest: sha256Digest(config), size: config.length },
      layers: layers.map((l) => l.descriptor),
    };
    out.push({ manifestBytes: Buffer.from(JSON.stringify(manifest)), mediaType: MEDIA.dockerManifest, config, names, refNames: [], layers });
  }
  return out;
};

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

// A blob's file in an OCI layout ("blobs/sha256/HEX"), or in a dir layout ("HEX").
const blobFile = (files: LayoutFiles, digest: unknown, dir: boolean): string => {
  if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest))
    throw new CliError('EUSAGE', `${files.describe(dir ? 'manifest.json' : 'index.json')} names a blob by an invalid digest "${String(digest)}"`);
  return dir ? digest.slice(7) : `blobs/${digest.replace(':', '/')}`;
};

// One image manifest of a layout (an index in it picks the platform), as a candidate.
const manifestCandidate = (files: LayoutFiles, descriptor: Descriptor, platform: Platform, dir: boolean): Omit<Candidate, 'names' | 'refNames'> => {
  let bytes = files.read(blobFile(files, descriptor.digest, dir), MANIFEST_MAX);
  let parsed = parseManifest(bytes, descriptor.mediaType);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(parsed.index, platform);
    bytes = files.read(blobFile(files, chosen.digest, dir), MANIFEST_MAX);
    parsed = parseManifest(bytes, chosen.mediaType);
    if (parsed.kind !== 'image') throw new CliError('EUSAGE', 'nested image indexes are not supported');
  }
  const manifest = parsed.manifest;
  return {
    manifestBytes: bytes,
    mediaType: parsed.mediaType,
    config: files.read(blobFile(files, manifest.config.digest, dir), IMAGE_CONFIG_MAX),
    layers: manifest.layers.map((d) => ({ descriptor: d, open: () => files.stream(blobFile(files, d.digest, dir)) })),
  };
};

const ociCandidates = (files: LayoutFiles, platform: Platform, selection: LayoutSelection): Candidate[] => {
  const index = files.json<{ manifests?: Descriptor[] }>('index.json');
  if (!index || !Array.isArray(index.manifests)) throw new CliError('EUSAGE', `${files.describe('index.json')} lists no manifests`);
  const byDigest = new Map<string, Candidate>();
  for (const [i, descriptor] of index.manifests.entries()) {
    const annotations = descriptor?.annotations ?? {};
    const refName = annotations[REF_NAME];
    const rawName = annotations[CONTAINERD_NAME] ?? refName;
    let names: string[] = [];
    if (rawName && (rawName.includes('/') || rawName.includes(':'))) {
      try {
        names = [normalizeName(rawName)];
      } catch {
        names = [];
      }
    }
    const refNames = refName ? [refName] : [];
    if (!selects(selection, names, refNames, i)) continue;
    const key = String(descriptor?.digest);
    const existing = byDigest.get(key);
    if (existing) {
      existing.names.push(...names);
      existing.refNames.push(...refNames);
      continue;
    }
    byDigest.set(key, { ...manifestCandidate(files, descriptor, platform, false), names, refNames });
  }
  return [...byDigest.values()];
};

// containers/image's dir layout: one image, its manifest in manifest.json, blobs by hex digest.
const dirCandidate = (files: LayoutFiles, platform: Platform): Candidate => {
  const bytes = files.read('manifest.json', MANIFEST_MAX);
  const parsed = parseManifest(bytes);
  if (parsed.kind === 'index') {
    const chosen = selectPlatform(parsed.index, platform);
    return { ...manifestCandidate(files, chosen, platform, true), names: [], refNames: [] };
  }
  const manifest = parsed.manifest;
  return {
    manifestBytes: bytes,
    mediaType: parsed.mediaType,
    config: files.read(blobFile(files, manifest.config.digest, true), IMAGE_CONFIG_MAX),
    names: [],
    refNames: [],
    layers: manifest.layers.map((d) => ({ descriptor: d, open: () => files.stream(blobFile(files, d.digest, true)) })),
  };
};

// Installs one candidate's layers and stores its image under `names`.
const storeCandidate = async (ctx: ImageContext, c: Candidate, names: string[], origin: string, options: { chown: boolean; installed: string[] }) => {
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
    throw new CliError('EUSAGE', `image ${configDigest} lists ${diffIds.length} layers but the ${origin} has ${c.layers.length}`);
  const chains = chainIds(diffIds);
  for (const [i, layer] of c.layers.entries()) {
    const installed = await installLayer(
      ctx.layers,
      { descriptor: layer.descriptor, diffId: diffIds[i], chainId: chains[i], parent: chains[i - 1], origin },
      { chown: options.chown, open: async () => layer.open() },
    );
    if (installed) options.installed.push(chains[i]);
  }
  const record = makeImageRecord(
    config,
    { id: configDigest, names, repoDigests: [], digest: sha256Digest(c.manifestBytes), manifestMediaType: c.mediaType, layers: chains },
    (id) => layerTarSize(ctx.layers.get(id)),
    { manifest: c.manifestBytes, config: c.config },
  );
  return ctx.images.put(record, c.manifestBytes, c.config);
};

export interface LayoutSource {
  /** An archive (a path, or a stream such as standard input), or a directory layout. */
  input: string | Readable;
  kind: 'archive' | 'oci' | 'dir';
}

// Unpacks an archive (plain or gzipped tar) into `root`, safely (the layer unpacker's rules).
const unpackArchive = async (input: string | Readable, root: string, origin: string): Promise<void> => {
  let stream: Readable;
  if (typeof input === 'string') {
    if (!existsSync(input)) throw new CliError('EUSAGE', `${input}: no such file`);
    if (statSync(input).isDirectory()) throw new CliError('EUSAGE', `${input} is a directory, not an archive: name it as oci:${input} or dir:${input}`);
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
};

// Exactly one image unless `all`: a layout of several needs one named.
const checkChoice = (candidates: Candidate[], selection: LayoutSelection, origin: string): void => {
  if (selection.all) return;
  if (candidates.length === 0) {
    if (selection.name !== undefined) throw new CliError('ENOIMAGE', `${origin} holds no image named ${selection.name}`);
    throw new CliError('ENOIMAGE', `${origin} holds no image`);
  }
  if (candidates.length > 1 && selection.name === undefined)
    throw new CliError('EUSAGE', `${origin} holds ${candidates.length} images: name one (TRANSPORT:PATH:NAME, or :@INDEX for a docker-archive)`);
};

// Reads the images `selection` names from a layout into the store; unpacks layers as a pull does.
// With `selection.names` the images get those names, else the names the layout records for them
// (a docker-archive image chosen by name gets that name only).
export const importLayout = async (
  ctx: ImageContext,
  source: LayoutSource,
  selection: LayoutSelection,
  options: { chown: boolean; installed: string[] },
): Promise<LoadedImage[]> => {
  const { input, kind } = source;
  const origin =
    kind !== 'archive'
      ? `${kind === 'oci' ? 'OCI layout' : 'directory'} ${String(input)}`
      : typeof input === 'string'
        ? `archive ${input}`
        : 'archive on standard input';
  const scratch = tempSibling(join(ctx.paths.data, 'tmp', 'load'));
  mkdirSync(scratch, { recursive: true });
  try {
    let files: LayoutFiles;
    if (kind === 'archive') {
      const root = join(scratch, 'archive');
      mkdirSync(root);
      await unpackArchive(input, root, origin);
      files = new LayoutFiles(root);
    } else {
      const dir = String(input);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError('EUSAGE', `${dir}: no such directory`);
      files = new LayoutFiles(dir, dir);
    }
    const platform = selection.platform ?? hostPlatform();
    let candidates: Candidate[];
    let docker = false;
    if (kind === 'dir') {
      if (!files.has('manifest.json')) throw new CliError('EUSAGE', `${origin} is no dir: layout (it lacks manifest.json)`);
      candidates = [dirCandidate(files, platform)];
    } else if (kind === 'archive' && files.has('manifest.json')) {
      candidates = await dockerCandidates(files, scratch, selection);
      docker = true;
    } else if (files.has('oci-layout') && files.has('index.json')) {
      candidates = ociCandidates(files, platform, selection);
    } else if (kind === 'oci') {
      throw new CliError('EUSAGE', `${origin} is no OCI image layout (it lacks oci-layout or index.json)`);
    } else throw new CliError('EUSAGE', `${origin} is neither a docker-archive (manifest.json) nor an oci-archive (oci-layout, index.json)`);
    const loaded: LoadedImage[] = [];
    checkChoice(candidates, selection, origin);
    for (const c of selection.all ? candidates : candidates.slice(0, 1)) {
      // A docker-archive image chosen by name gets that name only (Podman's).
      const names = selection.names ?? (docker && selection.name !== undefined ? [selection.name] : c.names);
      const normalized = [...new Set(names.map((n) => normalizeName(n)))];
      loaded.push({ image: await storeCandidate(ctx, c, normalized, origin, options), names: normalized });
    }
    return loaded;
  } finally {
    removeTree(scratch);
  }
};
