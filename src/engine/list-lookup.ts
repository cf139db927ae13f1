// A manifest list named where an image is wanted (run, image inspect, a build's FROM) stands for the
// local image of its entry for this machine's platform, as in Podman's image lookup.
import { CliError } from '../errors.js';
import { formatPlatform, hostPlatform, isIndexType } from '../image/manifest.js';
import { parseList } from '../image/manifest-list.js';
import type { ImageRecord, ImageStore } from '../storage/image-store.js';

export const isManifestList = (record: ImageRecord): boolean => isIndexType(record.manifestMediaType);

// The stored image an entry of a list is (the one it was added from, else one with its digest).
export const entryImage = (store: ImageStore, list: ImageRecord, digest: string, images = store.list()): ImageRecord | undefined => {
  const source = list.listSources?.[digest];
  const byId = source?.startsWith('containers-storage:') ? store.get(source.slice('containers-storage:'.length)) : undefined;
  return byId ?? images.find((i) => !isManifestList(i) && (i.digest === digest || i.repoDigests.some((r) => r.endsWith(`@${digest}`))));
};

export const listInstance = (store: ImageStore, list: ImageRecord, input: string): ImageRecord => {
  const want = hostPlatform();
  const entries = parseList(store.manifestBytes(list.id)).manifests;
  const images = store.list();
  for (const entry of entries) {
    if (entry.platform?.os !== want.os || entry.platform.architecture !== want.architecture) continue;
    const image = entryImage(store, list, entry.digest, images);
    if (image) return image;
  }
  const offered = entries.map((e) => (e.platform ? formatPlatform(e.platform) : 'unknown')).join(', ') || 'nothing';
  throw new CliError(
    'ESTATE',
    `${input} is a manifest list with no local image for ${formatPlatform(want)} (it lists ${offered}): add one with \`skiff manifest add\`, or name an image`,
  );
};
