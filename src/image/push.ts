// Pushing an image: every blob the registry lacks is uploaded as it was pulled (layers keep their
// compressed bytes), then the stored manifest, so the pushed image has the digest it had. A layer
// kept uncompressed (a build's) is gzipped on the way out, once (the gzip is kept beside its blob),
// as Podman pushes them; the manifest pushed then names the gzipped layers.
import { createReadStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempSibling } from '../util/fs.js';
import { exportImage, type ExportedImage, type ExportOptions } from './layer-blobs.js';
import type { ImageContext } from './context.js';
import { CliError } from '../errors.js';
import type { ImageRecord } from '../storage/image-store.js';
import { sha256Digest } from '../util/digest.js';
import type { RegistryClient } from './registry/client.js';
import { withRegistryClient, type RemoteOptions } from './registry/session.js';
import { repositoryName, type ImageReference } from './reference.js';
import type { PullEvent } from './pull.js';

export interface PushReport {
  digest: string;
  reference: string;
  blobsPushed: number;
  blobsExisting: number;
}

const PUSH_CONCURRENCY = 3;

export class Pusher {
  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
    private readonly onEvent: (event: PullEvent) => void,
  ) {}

  private scope(): string {
    return `repository:${this.repository}:pull,push`;
  }

  private async exists(digest: string): Promise<boolean> {
    const res = await this.client.request(`/v2/${this.repository}/blobs/${digest}`, { method: 'HEAD', scope: this.scope(), accept: [404] });
    await res.body.dump();
    return res.statusCode === 200;
  }

  // Uploads one blob monolithically (POST for a location, then PUT ?digest=).
  async upload(digest: string, size: number, open: () => NodeJS.ReadableStream | Buffer): Promise<boolean> {
    if (await this.exists(digest)) {
      this.onEvent({ type: 'layer', digest, status: 'exists', size });
      return false;
    }
    const start = await this.client.request(`/v2/${this.repository}/blobs/uploads/`, {
      method: 'POST',
      scope: this.scope(),
      headers: { 'content-length': '0' },
    });
    await start.body.dump();
    const location = start.headers.location;
    if (start.statusCode !== 202 || typeof location !== 'string')
      throw new CliError('EREGISTRY', `registry ${this.client.registry} did not start an upload (HTTP ${start.statusCode})`);
    const url = new URL(location, this.client.baseUrl());
    url.searchParams.set('digest', digest);
    this.onEvent({ type: 'layer', digest, status: 'downloading', size, received: 0 });
    const put = await this.client.request('', {
      method: 'PUT',
      url: url.toString(),
      scope: this.scope(),
      body: open(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
    await put.body.dump();
    this.onEvent({ type: 'layer', digest, status: 'done', size });
    return true;
  }
}

// Pushes `image` to `dest` (a tagged reference). `format`: the layers' compression and the
// manifest's format on the wire (default: as stored, an uncompressed layer gzipped).
export const pushImage = async (
  ctx: ImageContext,
  image: ImageRecord,
  dest: ImageReference,
  options: RemoteOptions,
  onEvent: (event: PullEvent) => void = () => {},
  format: ExportOptions = { form: 'stored', compressUncompressed: true },
): Promise<PushReport> => {
  const scratch = tempSibling(join(ctx.paths.data, 'tmp', 'push'));
  mkdirSync(scratch, { recursive: true });
  try {
    return await pushExported(ctx, image, await exportImage(ctx, image, format, scratch), dest, options, onEvent);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
};

const pushExported = async (
  ctx: ImageContext,
  image: ImageRecord,
  exported: ExportedImage,
  dest: ImageReference,
  options: RemoteOptions,
  onEvent: (event: PullEvent) => void,
): Promise<PushReport> => {
  const manifestBytes = exported.manifestBytes;
  const manifest = { config: { digest: image.id }, layers: exported.layers.map((l) => l.descriptor) };
  let pushed = 0;
  let existing = 0;
  await withRegistryClient(ctx, { registry: dest.registry, name: repositoryName(dest) }, options, async (client) => {
    const pusher = new Pusher(client, dest.repository, onEvent);
    const queue = exported.layers.map((l) => ({ descriptor: l.descriptor, path: l.path }));
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const blob = item.path;
        if (!existsSync(blob))
          throw new CliError('ESTATE', `layer ${item.descriptor.digest} of ${image.id.slice(7, 19)} has no stored blob: pull the image again`);
        const size = statSync(blob).size;
        if ((await pusher.upload(item.descriptor.digest, size, () => createReadStream(blob))) === true) pushed++;
        else existing++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, queue.length) }, worker));
    const config = exported.config;
    await pusher.upload(manifest.config.digest, config.length, () => config);
    onEvent({ type: 'config', digest: manifest.config.digest });
    const tag = dest.tag ?? 'latest';
    const res = await client.request(`/v2/${dest.repository}/manifests/${tag}`, {
      method: 'PUT',
      scope: `repository:${dest.repository}:pull,push`,
      body: manifestBytes,
      headers: { 'content-type': exported.mediaType },
    });
    await res.body.dump();
    onEvent({ type: 'manifest', digest: sha256Digest(manifestBytes) });
  });
  return { digest: sha256Digest(manifestBytes), reference: `${repositoryName(dest)}:${dest.tag ?? 'latest'}`, blobsPushed: pushed, blobsExisting: existing };
};
