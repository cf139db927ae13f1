// What `manifest add` takes from a registry: the manifest or index a reference names (only that,
// never a layer), each document read within its size bound and checked against its digest.
import { CliError } from '../errors.js';
import type { ImageConfig } from '../image-format.js';
import { tooLargeError } from '../util/bounded-read.js';
import { sha256Digest } from '../util/digest.js';
import { IMAGE_CONFIG_MAX, MANIFEST_MAX } from '../util/limits.js';
import type { ImageContext } from './context.js';
import type { ListEntry } from './manifest-list.js';
import { MANIFEST_ACCEPT, hostPlatform, isIndexType, parseManifest, selectPlatform } from './manifest.js';
import { repositoryName, type ImageReference } from './reference.js';
import { parseJsonBody, readBody, type RegistryClient } from './registry/client.js';
import { withRegistryClient, type RemoteOptions } from './registry/session.js';

export interface SourcedEntry {
  entry: ListEntry;
  /** Where the entry's manifest is: "docker://registry/repository@digest". */
  source: string;
}

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  contentType: string;
}

// One manifest or index of `repository` by tag or digest, within MANIFEST_MAX (an index entry
// whose declared size is over it is not fetched); one fetched by digest must have that digest.
export const fetchManifest = async (client: RegistryClient, repository: string, reference: string, declaredSize?: number): Promise<FetchedManifest> => {
  const bound = {
    what: `manifest ${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference} from registry ${client.registry}`,
    limit: MANIFEST_MAX,
  };
  if (declaredSize !== undefined && declaredSize > bound.limit) throw tooLargeError(bound);
  const res = await client.request(`/v2/${repository}/manifests/${reference}`, {
    scope: `repository:${repository}:pull`,
    headers: { accept: MANIFEST_ACCEPT },
    accept: [404],
  });
  if (res.statusCode === 404) {
    await res.body.dump();
    throw new CliError('ENOIMAGE', `${client.registry}/${repository}:${reference}: manifest unknown (no such image or tag in the registry)`);
  }
  const bytes = await readBody(res, bound);
  const digest = sha256Digest(bytes);
  if (reference.startsWith('sha256:') && digest !== reference)
    throw new CliError('EDIGEST', `manifest ${reference} from ${client.registry} has digest ${digest}: the registry served wrong content`);
  const type = res.headers['content-type'];
  return { bytes, digest, contentType: (Array.isArray(type) ? type[0] : type) ?? '' };
};

// An image's platform, from its config blob (read within IMAGE_CONFIG_MAX, digest checked).
const fetchPlatform = async (client: RegistryClient, repository: string, config: { digest: string; size: number }): Promise<ListEntry['platform']> => {
  const bound = { what: `image config ${config.digest} from registry ${client.registry}`, limit: IMAGE_CONFIG_MAX };
  if (config.size > bound.limit) throw tooLargeError(bound);
  const res = await client.request(`/v2/${repository}/blobs/${config.digest}`, { scope: `repository:${repository}:pull` });
  const bytes = await readBody(res, bound);
  if (sha256Digest(bytes) !== config.digest) throw new CliError('EDIGEST', `blob ${config.digest} from ${client.registry} does not match its digest`);
  const c = parseJsonBody<ImageConfig & { 'os.version'?: string; 'os.features'?: string[] }>(bytes, bound.what);
  return {
    architecture: c.architecture ?? '',
    os: c.os ?? '',
    ...(c.variant ? { variant: c.variant } : {}),
    ...(c['os.version'] ? { 'os.version': c['os.version'] } : {}),
    ...(c['os.features']?.length ? { 'os.features': c['os.features'] } : {}),
  };
};

// The entries `ref` gives a list: its image; or, for an index, the entry for this machine's
// platform, or every entry with `all`.
export const fetchListEntries = (ctx: ImageContext, ref: ImageReference, options: RemoteOptions, all: boolean): Promise<SourcedEntry[]> =>
  withRegistryClient(ctx, { registry: ref.registry, name: repositoryName(ref) }, options, async (client) => {
    const name = repositoryName(ref);
    const sourced = (entry: ListEntry): SourcedEntry => ({ entry, source: `docker://${name}@${entry.digest}` });
    const top = await fetchManifest(client, ref.repository, ref.digest ?? ref.tag!);
    const parsed = parseManifest(top.bytes, top.contentType);
    if (parsed.kind === 'image') {
      const platform = await fetchPlatform(client, ref.repository, parsed.manifest.config);
      return [sourced({ mediaType: parsed.mediaType, size: top.bytes.length, digest: top.digest, platform })];
    }
    const nested = parsed.index.manifests.find((d) => isIndexType(d.mediaType));
    if (nested) throw new CliError('EREGISTRY', `${name} lists another index (${nested.digest}): nested indexes are not supported`);
    if (all)
      return parsed.index.manifests.map((d) =>
        sourced({ mediaType: d.mediaType, size: d.size, digest: d.digest, ...(d.platform ? { platform: d.platform } : {}) }),
      );
    const chosen = selectPlatform(parsed.index, hostPlatform());
    const instance = await fetchManifest(client, ref.repository, chosen.digest, chosen.size);
    const image = parseManifest(instance.bytes, chosen.mediaType);
    if (image.kind !== 'image') throw new CliError('EREGISTRY', `${chosen.digest} in ${name} is a nested index, which is not supported`);
    return [sourced({ mediaType: image.mediaType, size: instance.bytes.length, digest: instance.digest, platform: chosen.platform })];
  });
