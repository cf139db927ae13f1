// Installing one layer from its compressed blob, wherever the blob comes from (a registry, an
// archive): the blob is kept as-is beside the diff, decompressed, unpacked, and both its digest
// and its diff id are checked before the layer is renamed into place.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Transform, pipeline, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import * as zlib from 'node:zlib';
import { CliError, messageOf } from '../errors.js';
import { layerCompression, type Descriptor } from '../image-format.js';
import type { LayerStore } from './layer-store.js';
import { unpackError, unpackStream, type UnpackResult } from './unpack.js';

export interface LayerToInstall {
  descriptor: Descriptor;
  diffId: string;
  chainId: string;
  parent?: string;
  /** Where the blob comes from, for messages ("registry 127.0.0.1:5000", "archive x.tar"). */
  origin: string;
}

export interface InstallOptions {
  chown: boolean;
  /** Opens the compressed blob. */
  open: () => Promise<Readable>;
  /** Called with the running count of compressed bytes read. */
  onProgress?: (received: number) => void;
}

// A Transform that hashes what passes through it; `onChunk` may return a promise to hold the
// stream back (backpressure from where the chunk is also written).
export const hashing = (onChunk?: (chunk: Buffer) => undefined | Promise<unknown>): { stream: Transform; digest: () => string; bytes: () => number } => {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      const wait = onChunk?.(chunk);
      if (wait) wait.then(() => cb(null, chunk), cb);
      else cb(null, chunk);
    },
  });
  return { stream, digest: () => `sha256:${hash.digest('hex')}`, bytes: () => bytes };
};

// A zstd layer is decompressed by Node (22.15 and newer), its blob written and hashed here.
export const zstdDecompressor = (): Transform => {
  const create = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
  if (!create) throw new CliError('EREGISTRY', `zstd layers need Node.js 22.15 or newer (this is ${process.version})`);
  return create();
};

// Installs the layer unless present; true when this call installed it. The blob is written,
// hashed, gunzipped, hashed again and unpacked by the native unpacker, on a thread of its own, as
// it arrives; both digests are checked before the layer is renamed into place.
export const installLayer = (layers: LayerStore, layer: LayerToInstall, options: InstallOptions): Promise<boolean> =>
  layers.install(layer.chainId, async (diffDir) => {
    const { descriptor, origin } = layer;
    const { mediaType } = descriptor;
    const blobPath = join(diffDir, '..', 'blob');
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      options.onProgress?.(received);
    };
    // Before the body is opened: a layer of a type skiff does not unpack, or that this Node cannot
    // decompress, is not downloaded at all.
    const compression = layerCompression(mediaType, descriptor.digest);
    const zstd = compression === 'zstd' ? zstdDecompressor() : undefined;
    const body = await options.open();
    let result: UnpackResult;
    let compressedDigest: () => string;
    try {
      if (zstd) {
        const blob = createWriteStream(blobPath, { mode: 0o600 });
        const blobDone = finished(blob);
        blobDone.catch(() => {});
        const compressed = hashing((chunk) => {
          onData(chunk);
          return blob.write(chunk) ? undefined : once(blob, 'drain');
        });
        const tar = pipeline(body, compressed.stream, zstd, () => {});
        try {
          result = await unpackStream(tar, diffDir, { chown: options.chown });
        } finally {
          blob.end();
        }
        await blobDone;
        compressedDigest = compressed.digest;
      } else {
        result = await unpackStream(body, diffDir, { chown: options.chown, gzip: compression === 'gzip', blob: blobPath, onData });
        compressedDigest = () => result.pushedDigest;
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      const cause = error as NodeJS.ErrnoException;
      if (cause.syscall) throw new CliError('EUNPACK', `cannot unpack layer ${descriptor.digest} into ${diffDir}: ${messageOf(cause)}`, { cause });
      throw new CliError('EDIGEST', `layer ${descriptor.digest} from ${origin} is corrupt or the transfer broke (${messageOf(cause)}): nothing was stored`, {
        cause,
      });
    }
    if (result.failure === 'corrupt')
      throw new CliError('EDIGEST', `layer ${descriptor.digest} from ${origin} is corrupt or the transfer broke (${result.message}): nothing was stored`);
    const failure = unpackError(result, `layer ${descriptor.digest} into ${diffDir}`);
    if (failure) throw failure;
    const gotCompressed = compressedDigest();
    if (gotCompressed !== descriptor.digest) {
      throw new CliError('EDIGEST', `layer ${descriptor.digest} from ${origin} has digest ${gotCompressed}: its content is corrupt, nothing was stored`);
    }
    const gotDiff = result.tarDigest;
    if (gotDiff !== layer.diffId)
      throw new CliError('EDIGEST', `layer ${descriptor.digest} unpacks to ${gotDiff}, but the image config says ${layer.diffId}: nothing was stored`);
    return {
      chainId: layer.chainId,
      diffId: layer.diffId,
      parent: layer.parent,
      size: result.size,
      tarSize: result.tarBytes,
      compressedDigest: descriptor.digest,
      compressedSize: received,
      compressedMediaType: descriptor.mediaType,
      created: new Date().toISOString(),
    };
  });
