// An image as it is written out (push, save, a directory layout): each layer's blob in the form
// the destination wants (as stored, uncompressed, gzip or zstd) and a manifest of the wanted
// format (OCI or Docker schema 2) that names them. When nothing changes the stored manifest's
// bytes are kept, so the written image has the digest it had.
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { CliError } from '../errors.js';
import { MEDIA, layerCompression, type Descriptor, type ImageConfig, type ImageManifest, type LayerCompression } from '../image-format.js';
import type { ImageRecord } from '../storage/image-store.js';
import { hashing, zstdDecompressor } from '../storage/layer-install.js';
import { sha256Digest } from '../util/digest.js';
import { findHelperBinary, runHelper } from '../util/exec.js';
import { tempSibling, writeFileAtomic } from '../util/fs.js';
import type { ImageContext } from './context.js';

/** stored: as kept (an uncompressed layer is gzipped with `compressUncompressed`); tar: uncompressed; gzip, zstd: so compressed. */
export type LayerForm = 'stored' | 'tar' | 'gzip' | 'zstd';

/** oci or docker (schema 2); undefined keeps the stored manifest's. */
export type ManifestKind = 'oci' | 'docker';

export interface LayerBlob {
  path: string;
  descriptor: Descriptor;
}

export interface ExportedImage {
  manifestBytes: Buffer;
  mediaType: string;
  config: Buffer;
  layers: LayerBlob[];
}

export interface ExportOptions {
  form: LayerForm;
  /** With form "stored": gzip a layer that is kept uncompressed (a build's), as Podman does on push. */
  compressUncompressed?: boolean;
  kind?: ManifestKind;
}

const LAYER_TYPES: Record<ManifestKind, Record<LayerCompression, string | undefined>> = {
  oci: { none: MEDIA.ociLayer, gzip: MEDIA.ociLayerGzip, zstd: MEDIA.ociLayerZstd },
  docker: { none: MEDIA.dockerLayer, gzip: MEDIA.dockerLayerGzip, zstd: undefined },
};

const decompressor = (compression: LayerCompression) =>
  compression === 'gzip' ? createGunzip() : compression === 'zstd' ? zstdDecompressor() : new PassThrough();

// Writes `make`'s output to `path` (via a temp file) and returns its digest and size.
const writeHashed = async (path: string, make: (out: NodeJS.WritableStream) => Promise<void>): Promise<{ digest: string; size: number }> => {
  const temp = tempSibling(path);
  const hash = hashing();
  try {
    const sink = createWriteStream(temp, { mode: 0o644 });
    const done = pipeline(hash.stream, sink);
    await make(hash.stream);
    await done;
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return { digest: hash.digest(), size: hash.bytes() };
};

// The zstd binary, or a clear refusal (Node's zlib has no zstd compressor before 22.15).
const zstdBinary = (): string => {
  const bin = findHelperBinary('zstd');
  if (!bin) throw new CliError('EHELPER', 'zstd compression needs the zstd program: install it (Debian/Ubuntu: apt-get install zstd), or use gzip');
  return bin;
};

// A gzip of the stored layer, made once and kept beside its blob (blob.gz, its descriptor in blob.gz.json).
const cachedGzip = async (ctx: ImageContext, chainId: string, compression: LayerCompression): Promise<{ path: string; digest: string; size: number }> => {
  const blob = ctx.layers.blobPath(chainId);
  const path = join(dirname(blob), 'blob.gz');
  const sidecar = `${path}.json`;
  if (existsSync(path) && existsSync(sidecar)) {
    const d = JSON.parse(readFileSync(sidecar, 'utf8')) as Descriptor;
    return { path, digest: d.digest, size: d.size };
  }
  const made = await writeHashed(path, (out) => pipeline(createReadStream(blob), decompressor(compression), createGzip(), out, { end: true }));
  writeFileAtomic(sidecar, JSON.stringify({ mediaType: MEDIA.dockerLayerGzip, ...made }), 0o644, false);
  return { path, ...made };
};

// One layer's blob in `form`; scratch files go under `scratch` (the caller removes it).
const layerBlob = async (
  ctx: ImageContext,
  chainId: string,
  stored: Descriptor,
  diffId: string,
  options: ExportOptions,
  scratch: string,
): Promise<{ path: string; digest: string; size: number; compression: LayerCompression }> => {
  const blob = ctx.layers.blobPath(chainId);
  if (!ctx.layers.get(chainId) || !existsSync(blob)) throw new CliError('ESTATE', `layer ${stored.digest} has no stored blob: pull the image again`);
  const compression = layerCompression(ctx.layers.get(chainId)?.compressedMediaType ?? stored.mediaType, stored.digest);
  const want: LayerCompression =
    options.form === 'tar'
      ? 'none'
      : options.form === 'gzip'
        ? 'gzip'
        : options.form === 'zstd'
          ? 'zstd'
          : compression === 'none' && options.compressUncompressed
            ? 'gzip'
            : compression;
  if (want === compression) return { path: blob, digest: stored.digest, size: stored.size, compression };
  if (want === 'gzip') return { ...(await cachedGzip(ctx, chainId, compression)), compression: 'gzip' };
  const tar = join(scratch, `${chainId.slice(7)}.tar`);
  const plain =
    compression === 'none'
      ? { path: blob, digest: diffId }
      : { path: tar, ...(await writeHashed(tar, (out) => pipeline(createReadStream(blob), decompressor(compression), out))) };
  if (plain.digest !== diffId)
    throw new CliError('EDIGEST', `layer ${stored.digest} decompresses to ${plain.digest}, not its diff id ${diffId}: pull the image again`);
  if (want === 'none') return { path: plain.path, digest: diffId, size: statSync(plain.path).size, compression: 'none' };
  const out = join(scratch, `${chainId.slice(7)}.tar.zst`);
  await runHelper(zstdBinary(), ['-q', '-f', '-3', '-o', out, plain.path]);
  const hash = hashing();
  hash.stream.resume();
  await pipeline(createReadStream(out), hash.stream);
  return { path: out, digest: hash.digest(), size: hash.bytes(), compression: 'zstd' };
};

// The image's manifest and blobs as `options` want them written.
export const exportImage = async (ctx: ImageContext, image: ImageRecord, options: ExportOptions, scratch: string): Promise<ExportedImage> => {
  const stored = ctx.images.manifest(image.id);
  const storedBytes = ctx.images.manifestBytes(image.id);
  const config = ctx.images.configBytes(image.id);
  const diffIds = (JSON.parse(config.toString()) as ImageConfig).rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== image.layers.length)
    throw new CliError('ESTATE', `image ${image.id} has a config without its layers' diff_ids: remove it and pull it again`);
  const storedKind: ManifestKind = image.manifestMediaType === MEDIA.ociManifest ? 'oci' : 'docker';
  const kind = options.kind ?? storedKind;
  const blobs = [];
  for (const [i, descriptor] of stored.layers.entries()) blobs.push(await layerBlob(ctx, image.layers[i], descriptor, diffIds[i], options, scratch));
  const layers: LayerBlob[] = blobs.map((b, i) => {
    const mediaType = kind === storedKind && b.digest === stored.layers[i].digest ? stored.layers[i].mediaType : LAYER_TYPES[kind][b.compression];
    if (!mediaType) throw new CliError('EUSAGE', 'zstd-compressed layers need an OCI manifest: use --format oci');
    return { path: b.path, descriptor: { mediaType, digest: b.digest, size: b.size } };
  });
  if (kind === storedKind && layers.every((l, i) => l.descriptor.digest === stored.layers[i].digest))
    return { manifestBytes: storedBytes, mediaType: image.manifestMediaType, config, layers };
  const mediaType = kind === 'oci' ? MEDIA.ociManifest : MEDIA.dockerManifest;
  const configDescriptor = { mediaType: kind === 'oci' ? MEDIA.ociConfig : MEDIA.dockerConfig, digest: image.id, size: config.length };
  // The same format: the stored manifest with the new layers (its annotations kept); another: a new one.
  const manifest: ImageManifest =
    kind === storedKind
      ? { ...stored, layers: layers.map((l) => l.descriptor) }
      : {
          schemaVersion: 2,
          mediaType,
          config: configDescriptor,
          layers: layers.map((l) => l.descriptor),
          ...(kind === 'oci' && (stored as { annotations?: Record<string, string> }).annotations
            ? { annotations: (stored as { annotations?: Record<string, string> }).annotations }
            : {}),
        };
  return { manifestBytes: Buffer.from(JSON.stringify(manifest)), mediaType, config, layers };
};

// The digest of an exported manifest.
export const manifestDigest = (image: ExportedImage): string => sha256Digest(image.manifestBytes);
