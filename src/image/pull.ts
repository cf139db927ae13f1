// Pulling an image: resolve the reference against search registries and mirrors, fetch the
// manifest (choosing a platform from an index), then download and unpack every missing layer in
// parallel, verifying both the compressed digest and the uncompressed diff id of each.
import type { Readable } from 'node:stream';
import { findRegistryConfig } from '../config/config.js';
import { CliError } from '../errors.js';
import type { ImageContext } from './context.js';
import { chainIds, sha256Digest } from '../util/digest.js';
import { installLayer } from '../storage/layer-install.js';
import { layerTarSize } from '../storage/layer-store.js';
import { makeImageRecord, type ImageRecord } from '../storage/image-store.js';
import { IMAGE_CONFIG_MAX, MANIFEST_MAX } from '../util/limits.js';
import { tooLargeError } from '../util/bounded-read.js';
import { readBody, type RegistryClient } from './registry/client.js';
import { withRegistryClient, type RemoteOptions } from './registry/session.js';
import { MANIFEST_ACCEPT, hostPlatform, parseManifest, selectPlatform } from './manifest.js';
import { checkLayerMediaTypes, type Descriptor, type ImageConfig, type Platform } from '../image-format.js';
import { formatReference, repositoryName, type ImageReference } from './reference.js';
import { pullCandidates } from './short-names.js';
import { enforcePolicy } from './policy.js';

export interface PullOptions extends RemoteOptions {
  platform?: Platform;
  /** Change file ownership while unpacking (false in single-uid mode). */
  chown: boolean;
  /** Filled with the chain ids of the layers this pull installed, so a failed pull can drop them. */
  installed?: string[];
}

export type PullEvent =
  | { type: 'trying'; reference: string }
  | { type: 'manifest'; digest: string }
  | { type: 'layer'; digest: string; status: 'exists' | 'downloading' | 'done'; size: number; received?: number }
  | { type: 'config'; digest: string };

export interface PullReport {
  image: ImageRecord;
  reference: string;
  layersPulled: number;
  layersExisting: number;
}

interface Source {
  registry: string;
  repository: string;
  insecure: boolean;
}

const LAYER_CONCURRENCY = 6;

// Where a candidate name may be fetched from: its mirrors first (those that serve this kind of
// reference: by digest, by tag), then its (maybe rewritten) location.
const sourcesFor = (ctx: ImageContext, ref: ImageReference): Source[] => {
  const name = repositoryName(ref);
  const entry = findRegistryConfig(ctx.config, name);
  if (!entry) return [{ registry: ref.registry, repository: ref.repository, insecure: false }];
  if (entry.blocked) throw new CliError('EREGISTRY', `pulling from ${name} is blocked by ${entry.origin ?? ctx.paths.configFile}`);
  const rewrite = (location: string, insecure: boolean): Source => {
    // (A wildcard prefix's table may have no location: the name is used as it is. It stands for
    // the name's whole host.)
    const prefixLength = entry.prefix.startsWith('*.') ? name.indexOf('/') : entry.prefix.length;
    const full = location ? location + name.slice(prefixLength) : name;
    const slash = full.indexOf('/');
    return { registry: full.slice(0, slash), repository: full.slice(slash + 1), insecure };
  };
  const kind = ref.digest ? 'digest-only' : 'tag-only';
  const mirrors = entry.mirrors.filter((m) =>
    entry.mirrorByDigestOnly ? ref.digest : !m.pullFromMirror || m.pullFromMirror === 'all' || m.pullFromMirror === kind,
  );
  return [...mirrors.map((m) => rewrite(m.location, m.insecure)), rewrite(entry.location, entry.insecure)];
};

class Puller {
  private client!: RegistryClient;
  private source!: Source;
  private readonly active = new Set<Readable>();

  constructor(
    private readonly ctx: ImageContext,
    private readonly options: PullOptions,
    private readonly onEvent: (event: PullEvent) => void,
  ) {}

  private scope(): string {
    return `repository:${this.source.repository}:pull`;
  }

  private async fetchManifest(reference: string, declaredSize?: number): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const path = `/v2/${this.source.repository}/manifests/${reference}`;
    const bound = {
      what: `manifest ${this.source.repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference} from registry ${this.source.registry}`,
      limit: MANIFEST_MAX,
    };
    // An index entry that says it is too large is not fetched at all.
    if (declaredSize !== undefined && declaredSize > bound.limit) throw tooLargeError(bound);
    const res = await this.client.request(path, { scope: this.scope(), headers: { accept: MANIFEST_ACCEPT }, accept: [404] });
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new CliError('ENOIMAGE', `${this.source.registry}/${this.source.repository}:${reference}: manifest unknown (no such image or tag in the registry)`);
    }
    const bytes = await readBody(res, bound);
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new CliError('EDIGEST', `manifest ${reference} from ${this.source.registry} has digest ${digest}: the registry served wrong content`);
    }
    const contentType = res.headers['content-type'];
    return { bytes, mediaType: (Array.isArray(contentType) ? contentType[0] : contentType) ?? '', digest };
  }

  private async fetchConfig(descriptor: Descriptor): Promise<Buffer> {
    const bound = { what: `image config ${descriptor.digest} from registry ${this.source.registry}`, limit: IMAGE_CONFIG_MAX };
    if (descriptor.size > bound.limit) throw tooLargeError(bound);
    const res = await this.client.request(`/v2/${this.source.repository}/blobs/${descriptor.digest}`, { scope: this.scope() });
    const bytes = await readBody(res, bound);
    const digest = sha256Digest(bytes);
    if (digest !== descriptor.digest)
      throw new CliError('EDIGEST', `blob ${descriptor.digest} from ${this.source.registry} has digest ${digest}: the registry served corrupt content`);
    return bytes;
  }

  // Streams one layer from the registry through the layer installer.
  private pullLayer(descriptor: Descriptor, diffId: string, chainId: string, parent: string | undefined): Promise<boolean> {
    const layer = { descriptor, diffId, chainId, parent, origin: `registry ${this.source.registry}` };
    return installLayer(this.ctx.layers, layer, {
      chown: this.options.chown,
      open: async () => {
        this.onEvent({ type: 'layer', digest: descriptor.digest, status: 'downloading', size: descriptor.size, received: 0 });
        const res = await this.client.request(`/v2/${this.source.repository}/blobs/${descriptor.digest}`, { scope: this.scope() });
        const body = res.body as unknown as Readable;
        this.active.add(body);
        body.on('close', () => this.active.delete(body));
        return body;
      },
      onProgress: (received) => this.onEvent({ type: 'layer', digest: descriptor.digest, status: 'downloading', size: descriptor.size, received }),
    });
  }

  pull(ref: ImageReference, source: Source): Promise<PullReport> {
    this.source = source;
    // The source's own entry (a mirror's, say) decides `insecure`, not the requested name's.
    return withRegistryClient(this.ctx, { registry: source.registry, name: repositoryName(ref), insecure: source.insecure }, this.options, (client) => {
      this.client = client;
      return this.pullFromClient(ref);
    });
  }

  private async pullFromClient(ref: ImageReference): Promise<PullReport> {
    const name = repositoryName(ref);
    let top = await this.fetchManifest(ref.digest ?? ref.tag!);
    // The signature policy decides before anything else is read (for an index: it and the instance).
    const allowed = (manifestDigest: string) => enforcePolicy({ name, repository: ref.repository, tagOrDigest: ref.digest ?? ref.tag, manifestDigest });
    await allowed(top.digest);
    const repoDigests = [`${name}@${top.digest}`];
    let parsed = parseManifest(top.bytes, top.mediaType);
    if (parsed.kind === 'index') {
      const chosen = selectPlatform(parsed.index, this.options.platform ?? hostPlatform());
      top = await this.fetchManifest(chosen.digest, chosen.size);
      await allowed(top.digest);
      repoDigests.push(`${name}@${top.digest}`);
      parsed = parseManifest(top.bytes, chosen.mediaType);
      if (parsed.kind !== 'image') throw new CliError('EREGISTRY', `${chosen.digest} is a nested index, which is not supported`);
    }
    const manifest = parsed.manifest;
    checkLayerMediaTypes(manifest);
    const configBytes = await this.fetchConfig(manifest.config);
    this.onEvent({ type: 'config', digest: manifest.config.digest });
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch {
      throw new CliError('EREGISTRY', `image config ${manifest.config.digest} is not JSON`);
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new CliError('EREGISTRY', `image config lists ${diffIds.length} layers but the manifest has ${manifest.layers.length}`);
    }
    const chains = chainIds(diffIds);
    let pulled = 0;
    let existing = 0;
    const queue = manifest.layers.map((layer, i) => ({ layer, i }));
    let failure: unknown;
    const worker = async () => {
      for (let item = queue.shift(); item && failure === undefined; item = queue.shift()) {
        const { layer, i } = item;
        if (this.ctx.layers.get(chains[i])) {
          existing++;
          this.onEvent({ type: 'layer', digest: layer.digest, status: 'exists', size: layer.size });
          continue;
        }
        try {
          const installed = await this.pullLayer(layer, diffIds[i], chains[i], chains[i - 1]);
          if (installed) this.options.installed?.push(chains[i]);
          if (installed) pulled++;
          else existing++;
          this.onEvent({ type: 'layer', digest: layer.digest, status: installed ? 'done' : 'exists', size: layer.size });
        } catch (error) {
          // The first failure stops the others: in-flight downloads are cut, queued ones never start.
          if (failure === undefined) {
            failure = error;
            for (const body of this.active) body.destroy(new Error('pull aborted'));
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LAYER_CONCURRENCY, queue.length) }, worker));
    if (failure !== undefined) throw failure;
    this.onEvent({ type: 'manifest', digest: top.digest });
    const record = makeImageRecord(
      config,
      {
        id: manifest.config.digest,
        names: ref.tag ? [`${name}:${ref.tag}`] : [],
        repoDigests,
        digest: repoDigests[0].slice(name.length + 1),
        manifestMediaType: parsed.mediaType,
        layers: chains,
      },
      (id) => layerTarSize(this.ctx.layers.get(id)),
      { manifest: top.bytes, config: configBytes },
    );
    const image = await this.ctx.images.put(record, top.bytes, configBytes);
    return { image, reference: formatReference(ref), layersPulled: pulled, layersExisting: existing };
  }
}

// Pulls `ref`, trying each search registry for a short name and each mirror before a registry.
export const pullImage = async (
  ctx: ImageContext,
  ref: ImageReference,
  options: PullOptions,
  onEvent: (event: PullEvent) => void = () => {},
): Promise<PullReport> => {
  const candidates = pullCandidates(ctx.config, ref);
  let firstError: unknown;
  for (const candidate of candidates) {
    for (const source of sourcesFor(ctx, candidate)) {
      onEvent({ type: 'trying', reference: formatReference({ ...candidate, registry: source.registry, repository: source.repository }) });
      try {
        return await new Puller(ctx, options, onEvent).pull(candidate, source);
      } catch (error) {
        const retryable = error instanceof CliError && (error.code === 'ENOIMAGE' || error.code === 'EUNREACHABLE');
        if (!retryable) throw error;
        firstError ??= error;
      }
    }
  }
  throw firstError;
};
