// New images from a tar stream: `commit` (a container's changes on top of its image) and `import`
// (a root filesystem tarball as a one-layer image). The tar is gzipped into a blob once, hashed on
// the way, and then installed like a pulled layer, so the store holds it the same way.
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ImageContext } from './context.js';
import { CliError } from '../errors.js';
import { log } from '../util/log.js';
import { makeImageRecord, type ImageRecord } from '../storage/image-store.js';
import { hashing, installLayer } from '../storage/layer-install.js';
import { layerTarSize, removeTree } from '../storage/layer-store.js';
import { chainIds, sha256Digest } from '../util/digest.js';
import { tempSibling } from '../util/fs.js';
import { hostPlatform } from './manifest.js';
import { setEnv } from '../build/image-config.js';
import { MEDIA, type ImageConfig } from '../image-format.js';

// New layers are compressed fast (zlib level 1): gzip at the default level was most of a commit's
// time, and a registry takes any level. A build's layers are not compressed at all (as Podman's
// builds keep them): gzip was two thirds of a 50 MB COPY step here, even at level 1.
const LAYER_GZIP_LEVEL = 1;

export interface NewImageOptions {
  /** The image the new layer goes on top of (commit); none for import. */
  base?: { record: ImageRecord; config: ImageConfig };
  names: string[];
  /** Dockerfile-style instructions: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL, VOLUME. */
  changes: string[];
  message?: string;
  author?: string;
  createdBy: string;
  chown: boolean;
  installed: string[];
  /** The tar is the whole root filesystem: the image's only layer, its base's layers and history left out (commit --squash). */
  squash?: boolean;
  /** The manifest's format (docker by default). */
  format?: 'docker' | 'oci';
  /** The platform the image says it is for (import --arch, --os, --variant); else its base's, else the host's. */
  platform?: { architecture?: string; os?: string; variant?: string };
}

// CMD ["a","b"] (JSON) or CMD a b (shell form: run through /bin/sh -c).
const commandForm = (value: string): string[] => {
  if (value.trim().startsWith('[')) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed;
    } catch {
      // shell form
    }
  }
  return ['/bin/sh', '-c', value];
};

const keyValues = (value: string): [string, string][] => {
  if (!value.includes('=')) {
    const [key, ...rest] = value.split(/\s+/);
    return [[key, rest.join(' ')]];
  }
  return (value.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []).map((pair) => {
    const eq = pair.indexOf('=');
    return [pair.slice(0, eq), pair.slice(eq + 1).replace(/^"(.*)"$/, '$1')];
  });
};

export const applyChanges = (config: NonNullable<ImageConfig['config']>, changes: string[]): void => {
  for (const change of changes) {
    const match = /^\s*(\w+)\s+(.*)$/s.exec(change);
    if (!match) throw new CliError('EUSAGE', `invalid --change "${change}": use INSTRUCTION VALUE, e.g. CMD ["sh"]`);
    const [, instruction, value] = match;
    switch (instruction.toUpperCase()) {
      case 'CMD':
        config.Cmd = commandForm(value);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = commandForm(value);
        break;
      case 'ENV':
        for (const [k, v] of keyValues(value)) config.Env = setEnv(config.Env, k, v);
        break;
      case 'LABEL':
        for (const [k, v] of keyValues(value)) config.Labels = { ...(config.Labels ?? {}), [k]: v };
        break;
      case 'WORKDIR':
        config.WorkingDir = value.trim();
        break;
      case 'USER':
        config.User = value.trim();
        break;
      case 'STOPSIGNAL':
        config.StopSignal = value.trim();
        break;
      case 'EXPOSE':
        for (const port of value.trim().split(/\s+/)) config.ExposedPorts = { ...(config.ExposedPorts ?? {}), [port.includes('/') ? port : `${port}/tcp`]: {} };
        break;
      case 'VOLUME':
        for (const v of commandForm(value)[0] === '/bin/sh' ? value.trim().split(/\s+/) : commandForm(value))
          config.Volumes = { ...(config.Volumes ?? {}), [v]: {} };
        break;
      default:
        throw new CliError(
          'EUSAGE',
          `invalid --change "${change}": ${instruction} is not one of CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, STOPSIGNAL, EXPOSE, VOLUME`,
        );
    }
  }
};

export interface NewLayer {
  diffId: string;
  /** Chain ids of the image's layers with this one on top. */
  chains: string[];
}

// Writes the tar that `produce` makes into a new layer on top of `parentDiffIds`: gzipped into a
// blob once, hashed on the way, and installed like a pulled layer. Uncompressed (a build's layers),
// the tar is unpacked as it is made, its bytes kept as the blob, in one pass: the layer directory
// is renamed into the store once its digest, and so its chain id, is known.
export const layerFromTar = async (
  ctx: ImageContext,
  produce: (out: NodeJS.WritableStream) => Promise<void>,
  parentDiffIds: string[],
  options: { createdBy: string; chown: boolean; installed: string[]; compress?: boolean },
): Promise<NewLayer> => {
  const scratch = tempSibling(join(ctx.paths.data, 'tmp', 'commit'));
  mkdirSync(scratch, { recursive: true });
  try {
    if (options.compress === false) return await unpackedLayer(ctx, produce, parentDiffIds, options, scratch);
    const blobPath = join(scratch, 'layer.tar.gz');
    const tar = new PassThrough();
    const diff = hashing();
    const compressed = hashing();
    const written = pipeline(tar, diff.stream, createGzip({ level: LAYER_GZIP_LEVEL }), compressed.stream, createWriteStream(blobPath));
    await Promise.all([produce(tar).then(() => tar.end()), written]);
    const diffId = diff.digest();
    log.debug('commit: layer packed');
    const descriptor = { mediaType: MEDIA.dockerLayerGzip, digest: compressed.digest(), size: compressed.bytes() };
    const chains = chainIds([...parentDiffIds, diffId]);
    const chainId = chains[chains.length - 1];
    const installed = await installLayer(
      ctx.layers,
      { descriptor, diffId, chainId, parent: chains[chains.length - 2], origin: options.createdBy },
      { chown: options.chown, open: async () => createReadStream(blobPath) },
    );
    if (installed) options.installed.push(chainId);
    return { diffId, chains };
  } finally {
    removeTree(scratch);
  }
};

const unpackedLayer = async (
  ctx: ImageContext,
  produce: (out: NodeJS.WritableStream) => Promise<void>,
  parentDiffIds: string[],
  options: { createdBy: string; chown: boolean; installed: string[] },
  scratch: string,
): Promise<NewLayer> => {
  const { unpackStream, unpackError } = await import('../storage/unpack.js');
  const tree = join(scratch, 'diff');
  const blob = join(scratch, 'blob');
  mkdirSync(tree, { mode: 0o755 });
  const tar = new PassThrough();
  const producing = produce(tar).then(() => tar.end());
  producing.catch((error: Error) => tar.destroy(error));
  const [result] = await Promise.all([unpackStream(tar, tree, { chown: options.chown, blob }), producing]);
  const failed = unpackError(result, `the layer of ${options.createdBy}`);
  if (failed) throw failed;
  log.debug('commit: layer packed and unpacked');
  const diffId = result.tarDigest;
  const chains = chainIds([...parentDiffIds, diffId]);
  const chainId = chains[chains.length - 1];
  const installed = await ctx.layers.install(chainId, async (diffDir) => {
    rmdirSync(diffDir);
    renameSync(tree, diffDir);
    renameSync(blob, join(diffDir, '..', 'blob'));
    return {
      chainId,
      diffId,
      ...(chains.length > 1 ? { parent: chains[chains.length - 2] } : {}),
      size: result.size,
      tarSize: result.tarBytes,
      compressedDigest: diffId,
      compressedSize: result.pushedBytes,
      compressedMediaType: MEDIA.dockerLayer,
      created: new Date().toISOString(),
    };
  });
  if (installed) options.installed.push(chainId);
  return { diffId, chains };
};

export interface StoreOptions {
  /** A build's step (its cache entry): hidden from `images` without -a. */
  intermediate?: boolean;
  /** The manifest's format (docker by default); OCI's carries annotations. */
  format?: 'docker' | 'oci';
  annotations?: Record<string, string>;
}

// Layer media types in the other format's words (a manifest names its layers in its own).
const OCI_LAYER: Record<string, string> = { [MEDIA.dockerLayerGzip]: MEDIA.ociLayerGzip, [MEDIA.dockerLayer]: MEDIA.ociLayer };
const DOCKER_LAYER: Record<string, string> = { [MEDIA.ociLayerGzip]: MEDIA.dockerLayerGzip, [MEDIA.ociLayer]: MEDIA.dockerLayer };

// Stores an image of `config` whose layers (chain ids, bottom first, matching its diff ids) are
// in the layer store already; `names` point at it alone afterwards.
export const storeImage = async (
  ctx: ImageContext,
  config: ImageConfig,
  layers: string[],
  names: string[],
  options: StoreOptions = {},
): Promise<ImageRecord> => {
  const oci = options.format === 'oci';
  const configBytes = Buffer.from(JSON.stringify(config));
  const layerDescriptors = layers.map((id) => {
    const record = ctx.layers.get(id);
    if (!record?.compressedDigest) throw new CliError('ESTATE', `layer ${id} has no stored blob`);
    const type = record.compressedMediaType ?? MEDIA.dockerLayerGzip;
    return { mediaType: (oci ? OCI_LAYER : DOCKER_LAYER)[type] ?? type, digest: record.compressedDigest, size: record.compressedSize ?? 0 };
  });
  const manifestType = oci ? MEDIA.ociManifest : MEDIA.dockerManifest;
  const annotations = oci && options.annotations && Object.keys(options.annotations).length ? { annotations: options.annotations } : {};
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: oci ? MEDIA.ociConfig : MEDIA.dockerConfig, digest: sha256Digest(configBytes), size: configBytes.length },
      layers: layerDescriptors,
      ...annotations,
    }),
  );
  const record = makeImageRecord(
    config,
    { id: sha256Digest(configBytes), names, repoDigests: [], digest: sha256Digest(manifest), manifestMediaType: manifestType, layers },
    (id) => layerTarSize(ctx.layers.get(id)),
    { manifest, config: configBytes },
  );
  return ctx.images.put(options.intermediate ? { ...record, intermediate: true } : record, manifest, configBytes);
};

// Writes the tar that `produce` makes into a new layer and stores an image with it (commit, import).
export const createImageFromTar = async (
  ctx: ImageContext,
  produce: (out: NodeJS.WritableStream) => Promise<void>,
  options: NewImageOptions,
): Promise<ImageRecord> => {
  const baseDiffIds = options.squash ? [] : (options.base?.config.rootfs.diff_ids ?? []);
  const { diffId, chains } = await layerFromTar(ctx, produce, baseDiffIds, options);
  const now = new Date().toISOString();
  const platform = hostPlatform();
  const base = options.base?.config;
  const inner = structuredClone(base?.config ?? {});
  applyChanges(inner, options.changes);
  const config: ImageConfig = {
    architecture: options.platform?.architecture ?? base?.architecture ?? platform.architecture,
    os: options.platform?.os ?? base?.os ?? 'linux',
    ...((options.platform?.variant ?? base?.variant) ? { variant: options.platform?.variant ?? base?.variant } : {}),
    created: now,
    ...(options.author ? { author: options.author } : {}),
    config: inner,
    rootfs: { type: 'layers', diff_ids: [...baseDiffIds, diffId] },
    history: [
      ...(options.squash ? [] : (base?.history ?? [])),
      {
        created: now,
        created_by: options.createdBy,
        ...(options.message ? { comment: options.message } : {}),
        ...(options.author ? { author: options.author } : {}),
      },
    ],
  };
  return storeImage(ctx, config, chains, options.names, { format: options.format });
};
