// Pushing a manifest list: every entry's image first, by digest (a local image's blobs and manifest
// as `push` sends them; an image the list took from a registry copied blob by blob, or mounted
// when it is in the same registry), then the index naming what was pushed, under the tag.
import { createReadStream, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { layerCompression, type Descriptor, type ImageManifest } from '../image-format.js';
import type { ImageRecord } from '../storage/image-store.js';
import { sha256Digest } from '../util/digest.js';
import type { ImageContext } from './context.js';
import { MANIFEST_ACCEPT, parseManifest } from './manifest.js';
import { convertManifest, needsConversion, serializeList, type ListEntry, type ListFormat, type ManifestList } from './manifest-list.js';
import { fetchManifest } from './manifest-list-remote.js';
import type { PullEvent } from './pull.js';
import { exportImage } from './layer-blobs.js';
import { Pusher } from './push.js';
import { tempSibling } from '../util/fs.js';
import { parseReference, repositoryName, type ImageReference } from './reference.js';
import type { RegistryClient } from './registry/client.js';
import { withRegistryClient, type RemoteOptions } from './registry/session.js';

export interface ListPushOptions extends RemoteOptions {
  /** Push the entries' images too (else they must be in the destination already). */
  all: boolean;
  format?: ListFormat;
  /** --compression-format gzip: a zstd layer (which skiff cannot recompress) is refused. */
  gzipOnly?: boolean;
}

export interface ListPushReport {
  digest: string;
  reference: string;
  /** Entries whose image this push sent (or copied, or found there already). */
  images: number;
}

interface Target {
  client: RegistryClient;
  /** Where exported layers may be written (removed after the push). */
  scratch: string;
  pusher: Pusher;
  dest: ImageReference;
  options: ListPushOptions;
  onEvent: (event: PullEvent) => void;
}

const head = async (client: RegistryClient, path: string, scope: string, accept?: string): Promise<boolean> => {
  const res = await client.request(path, { method: 'HEAD', scope, accept: [404], ...(accept ? { headers: { accept } } : {}) });
  await res.body.dump();
  return res.statusCode === 200;
};

const manifestThere = (t: Target, digest: string): Promise<boolean> =>
  head(t.client, `/v2/${t.dest.repository}/manifests/${digest}`, `repository:${t.dest.repository}:pull,push`, MANIFEST_ACCEPT);

const putManifest = async (t: Target, bytes: Buffer, mediaType: string, reference: string): Promise<void> => {
  const res = await t.client.request(`/v2/${t.dest.repository}/manifests/${reference}`, {
    method: 'PUT',
    scope: `repository:${t.dest.repository}:pull,push`,
    body: bytes,
    headers: { 'content-type': mediaType },
  });
  await res.body.dump();
};

// The manifest to push for `manifest` (converted when --format asks for the other type).
const wireManifest = (manifest: ImageManifest, mediaType: string, bytes: Buffer, options: ListPushOptions, what: string) => {
  const zstd = options.gzipOnly ? manifest.layers.find((l) => layerCompression(l.mediaType, l.digest) === 'zstd') : undefined;
  if (zstd)
    throw new CliError(
      'EUSAGE',
      `layer ${zstd.digest} of ${what} is zstd-compressed and skiff does not recompress layers: push without --compression-format gzip`,
    );
  const format = options.format;
  if (!needsConversion(mediaType, format)) return { bytes, mediaType };
  const converted = convertManifest(manifest, format!, what);
  return { bytes: Buffer.from(JSON.stringify(converted)), mediaType: converted.mediaType! };
};

// What one entry becomes: its descriptor as pushed, and the sending (none when it is there already).
interface Planned {
  entry: ListEntry;
  send?: () => Promise<void>;
}

// A local image, as `push` sends it (layer-blobs.ts: uncompressed layers gzipped), under its digest.
const planLocal = async (ctx: ImageContext, t: Target, entry: ListEntry, image: ImageRecord): Promise<Planned> => {
  const exported = await exportImage(ctx, image, { form: 'stored', compressUncompressed: true }, t.scratch);
  const manifest = JSON.parse(exported.manifestBytes.toString('utf8')) as ImageManifest;
  const out = wireManifest(manifest, exported.mediaType, exported.manifestBytes, t.options, `image ${image.id.slice(7, 19)}`);
  const digest = sha256Digest(out.bytes);
  const send = async () => {
    for (const layer of exported.layers) await t.pusher.upload(layer.descriptor.digest, statSync(layer.path).size, () => createReadStream(layer.path));
    await t.pusher.upload(manifest.config.digest, exported.config.length, () => exported.config);
    await putManifest(t, out.bytes, out.mediaType, digest);
  };
  return { entry: { ...entry, mediaType: out.mediaType, size: out.bytes.length, digest }, send };
};

// One blob from another repository: mounted when both are in one registry, else streamed through.
const copyBlob = async (t: Target, source: RegistryClient, from: ImageReference, blob: Descriptor): Promise<void> => {
  const scope = `repository:${t.dest.repository}:pull,push`;
  if (await head(t.client, `/v2/${t.dest.repository}/blobs/${blob.digest}`, scope)) return;
  if (from.registry === t.dest.registry) {
    const res = await t.client.request(`/v2/${t.dest.repository}/blobs/uploads/?mount=${blob.digest}&from=${encodeURIComponent(from.repository)}`, {
      method: 'POST',
      scope,
      headers: { 'content-length': '0' },
    });
    await res.body.dump();
    if (res.statusCode === 201) {
      t.onEvent({ type: 'layer', digest: blob.digest, status: 'done', size: blob.size });
      return;
    }
  }
  const res = await source.request(`/v2/${from.repository}/blobs/${blob.digest}`, { scope: `repository:${from.repository}:pull` });
  // The destination checks the digest of what it is sent (PUT ?digest=).
  const sent = await t.pusher.upload(blob.digest, blob.size, () => res.body);
  if (!sent) await res.body.dump();
};

// Runs `fn` with a client for `from`'s registry: the destination's own when it is the same one.
const withSource = <T>(ctx: ImageContext, t: Target, from: ImageReference, fn: (source: RegistryClient) => Promise<T>): Promise<T> => {
  if (from.registry === t.dest.registry) return fn(t.client);
  const { tlsVerify, authFile, certDir } = t.options;
  return withRegistryClient(ctx, { registry: from.registry, name: repositoryName(from) }, { tlsVerify, authFile, certDir }, fn);
};

// An image the list took from a registry: nothing to send when the destination has it (and no
// conversion is asked for); else its blobs are copied and its manifest put.
const planRemote = async (ctx: ImageContext, t: Target, entry: ListEntry, from: ImageReference): Promise<Planned> => {
  if (!needsConversion(entry.mediaType, t.options.format) && (await manifestThere(t, entry.digest))) return { entry };
  const parsed = await withSource(ctx, t, from, async (source) => {
    const fetched = await fetchManifest(source, from.repository, entry.digest, entry.size);
    const doc = parseManifest(fetched.bytes, entry.mediaType);
    if (doc.kind !== 'image') throw new CliError('EREGISTRY', `${entry.digest} in ${repositoryName(from)} is an index: nested indexes are not supported`);
    return { manifest: doc.manifest, out: wireManifest(doc.manifest, doc.mediaType, fetched.bytes, t.options, `${repositoryName(from)}@${entry.digest}`) };
  });
  const { manifest, out } = parsed;
  const digest = sha256Digest(out.bytes);
  const send = () =>
    withSource(ctx, t, from, async (source) => {
      for (const blob of [manifest.config, ...manifest.layers]) await copyBlob(t, source, from, blob);
      await putManifest(t, out.bytes, out.mediaType, digest);
    });
  return { entry: { ...entry, mediaType: out.mediaType, size: out.bytes.length, digest }, send };
};

// The local image an entry came from: the one recorded, else any stored image with its digest.
const localImage = (ctx: ImageContext, entry: ListEntry, id: string | undefined): ImageRecord | undefined =>
  (id ? ctx.images.get(id) : undefined) ?? ctx.images.list().find((i) => i.digest === entry.digest);

// Pushes `list` (whose entries' sources are in `record`) to `dest`, a tagged reference.
export const pushManifestList = async (
  ctx: ImageContext,
  record: ImageRecord,
  list: ManifestList,
  dest: ImageReference,
  options: ListPushOptions,
  onEvent: (event: PullEvent) => void = () => {},
): Promise<ListPushReport> =>
  withRegistryClient(ctx, { registry: dest.registry, name: repositoryName(dest) }, options, async (client) => {
    const scratch = tempSibling(join(ctx.paths.data, 'tmp', 'push'));
    mkdirSync(scratch, { recursive: true });
    try {
      return await pushList(ctx, record, list, dest, { client, pusher: new Pusher(client, dest.repository, onEvent), dest, options, onEvent, scratch });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

const pushList = async (ctx: ImageContext, record: ImageRecord, list: ManifestList, dest: ImageReference, t: Target): Promise<ListPushReport> => {
  const { options, onEvent } = t;
  {
    // Every entry is planned (and refused, if it must be) before anything is sent.
    const planned: Planned[] = [];
    const missing: string[] = [];
    for (const entry of list.manifests) {
      const source = record.listSources?.[entry.digest] ?? '';
      const local = source.startsWith('containers-storage:') ? source.slice('containers-storage:'.length) : undefined;
      const image = options.all && !source.startsWith('docker://') ? localImage(ctx, entry, local) : undefined;
      if (image) planned.push(await planLocal(ctx, t, entry, image));
      else if (options.all && source.startsWith('docker://')) planned.push(await planRemote(ctx, t, entry, parseReference(source.slice('docker://'.length))));
      else {
        const gone = options.all && local ? ` (image ${local.slice(7, 19)}, no longer stored)` : '';
        if (!(await manifestThere(t, entry.digest))) missing.push(`${entry.digest}${gone}`);
        planned.push({ entry });
      }
    }
    if (missing.length)
      throw new CliError(
        'ESTATE',
        `${repositoryName(dest)} lacks ${missing.length === 1 ? 'the image' : 'the images'} ${missing.join(', ')} of the list: ${options.all ? 'add them to the list again' : 'push with --all'}, or remove them from it with \`skiff manifest remove\``,
      );
    for (const p of planned) await p.send?.();
    const entries = planned.map((p) => p.entry);
    const bytes = serializeList({ ...list, manifests: entries }, options.format);
    const mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType: string }).mediaType;
    const tag = dest.tag ?? 'latest';
    await putManifest(t, bytes, mediaType, tag);
    onEvent({ type: 'manifest', digest: sha256Digest(bytes) });
    return { digest: sha256Digest(bytes), reference: `${repositoryName(dest)}:${tag}`, images: entries.length };
  }
};
