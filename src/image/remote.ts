// Read-only looks at a registry: a manifest as the registry has it, its catalog, a repository's tags.
import type { ImageContext } from './context.js';
import { CliError } from '../errors.js';
import { sha256Digest } from '../util/digest.js';
import { LISTING_MAX, MANIFEST_MAX } from '../util/limits.js';
import { parseJsonBody, readBody } from './registry/client.js';
import { withRegistryClient, type RemoteOptions } from './registry/session.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import { repositoryName, type ImageReference } from './reference.js';

export type { RemoteOptions };

export interface SearchResult {
  index: string;
  name: string;
  description: string;
  /** A registry's catalog has no stars and no official or automated images (Docker Hub's search has). */
  stars: number;
  official: boolean;
  automated: boolean;
}

// The manifest (or index) `ref` names, parsed, exactly as the registry serves it.
export const inspectRemoteManifest = async (ctx: ImageContext, ref: ImageReference, options: RemoteOptions): Promise<unknown> => {
  const { bytes, what } = await fetchRemoteManifest(ctx, ref, options);
  return parseJsonBody<unknown>(bytes, what);
};

// The digest of the manifest (or index) `ref` names now: what a pull of it would record first in
// the image's RepoDigests (auto-update compares the two).
export const remoteManifestDigest = async (ctx: ImageContext, ref: ImageReference, options: RemoteOptions): Promise<string> =>
  sha256Digest((await fetchRemoteManifest(ctx, ref, options)).bytes);

const fetchRemoteManifest = (ctx: ImageContext, ref: ImageReference, options: RemoteOptions): Promise<{ bytes: Buffer; what: string }> =>
  withRegistryClient(ctx, { registry: ref.registry, name: repositoryName(ref) }, options, async (client) => {
    const res = await client.request(`/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag}`, {
      scope: `repository:${ref.repository}:pull`,
      headers: { accept: MANIFEST_ACCEPT },
      accept: [404],
    });
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new CliError('ENOIMAGE', `${repositoryName(ref)}:${ref.digest ?? ref.tag}: manifest unknown`);
    }
    const what = `manifest ${repositoryName(ref)}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
    return { bytes: await readBody(res, { what, limit: MANIFEST_MAX }), what };
  });

// Repositories in the registry's catalog whose name contains `term`.
export const searchCatalog = (ctx: ImageContext, registry: string, term: string, limit: number, options: RemoteOptions): Promise<SearchResult[]> =>
  withRegistryClient(ctx, { registry, name: registry }, options, async (client) => {
    const res = await client.request(`/v2/_catalog?n=${Math.max(limit, 100)}`, { scope: 'registry:catalog:*', accept: [404] });
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new CliError('EREGISTRY', `registry ${registry} does not offer a catalog to search`);
    }
    const what = `the catalog of registry ${registry}`;
    const body = parseJsonBody<{ repositories?: string[] }>(await readBody(res, { what, limit: LISTING_MAX }), what);
    return (body.repositories ?? [])
      .filter((name) => name.includes(term))
      .slice(0, limit)
      .map((name) => ({ index: registry, name: `${registry}/${name}`, description: '', stars: 0, official: false, automated: false }));
  });

// The tags of one repository.
export const listTags = (ctx: ImageContext, ref: ImageReference, options: RemoteOptions): Promise<string[]> =>
  withRegistryClient(ctx, { registry: ref.registry, name: repositoryName(ref) }, options, async (client) => {
    const res = await client.request(`/v2/${ref.repository}/tags/list`, { scope: `repository:${ref.repository}:pull`, accept: [404] });
    if (res.statusCode === 404) {
      await res.body.dump();
      throw new CliError('ENOIMAGE', `${repositoryName(ref)}: repository unknown`);
    }
    const what = `the tag list of ${repositoryName(ref)}`;
    return parseJsonBody<{ tags?: string[] }>(await readBody(res, { what, limit: LISTING_MAX }), what).tags ?? [];
  });
