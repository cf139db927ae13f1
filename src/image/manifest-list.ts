// Manifest lists as skiff keeps and pushes them: an OCI image index or a Docker manifest list whose
// entries carry a platform and annotations, edited by `manifest create/add/annotate/remove`, and
// the conversions between OCI and Docker image manifests that `manifest push --format` makes.
import { CliError } from '../errors.js';
import { MEDIA, quoted, type Descriptor, type ImageManifest, type Platform } from '../image-format.js';
import { DIGEST_RE } from '../util/digest-format.js';
import { isIndexType } from './manifest.js';

export interface ListPlatform extends Platform {
  'os.version'?: string;
  'os.features'?: string[];
  /** Docker's list only (OCI reserves the field): CPU features. */
  features?: string[];
}

export interface ListEntry extends Descriptor {
  platform?: ListPlatform;
}

export interface ManifestList {
  schemaVersion: 2;
  mediaType: string;
  manifests: ListEntry[];
}

export type ListFormat = 'oci' | 'v2s2';

// What a user may change on an entry (add and annotate take the same flags).
export interface EntryOverrides {
  arch?: string;
  os?: string;
  variant?: string;
  osVersion?: string;
  features?: string[];
  osFeatures?: string[];
  annotations?: Record<string, string>;
}

export const emptyList = (): ManifestList => ({ schemaVersion: 2, mediaType: MEDIA.dockerList, manifests: [] });

// The type a list is kept and pushed as: Docker's manifest list while every entry is a Docker
// manifest without annotations (which it cannot carry), else an OCI index.
const listTypeFor = (entries: ListEntry[]): string =>
  entries.every((e) => (e.mediaType === MEDIA.dockerManifest || e.mediaType === MEDIA.dockerList) && !e.annotations) ? MEDIA.dockerList : MEDIA.ociIndex;

// A stored list's document (skiff wrote it, but it is checked as any other).
export const parseList = (bytes: Buffer): ManifestList => {
  let doc: ManifestList;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as ManifestList;
  } catch {
    throw new CliError('ESTATE', 'the stored manifest list is not JSON: remove it with `skiff manifest rm` and create it again');
  }
  if (!isIndexType(doc.mediaType) || !Array.isArray(doc.manifests))
    throw new CliError('ESTATE', 'the stored manifest list is malformed: remove it and create it again');
  return doc;
};

const sortedPlatform = (p: ListPlatform, features: boolean): ListPlatform => ({
  architecture: p.architecture,
  os: p.os,
  ...(p['os.version'] ? { 'os.version': p['os.version'] } : {}),
  ...(p['os.features']?.length ? { 'os.features': p['os.features'] } : {}),
  ...(p.variant ? { variant: p.variant } : {}),
  ...(p.features?.length && features ? { features: p.features } : {}),
});

// The list's bytes: as stored (every field kept), or as pushed, in `format` or else the type its
// entries call for (Docker's list has no annotations, OCI's platform no features).
export const serializeList = (list: ManifestList, format?: ListFormat | 'stored'): Buffer => {
  const mediaType = format === 'oci' ? MEDIA.ociIndex : format === 'v2s2' ? MEDIA.dockerList : listTypeFor(list.manifests);
  const stored = format === 'stored';
  const docker = mediaType === MEDIA.dockerList;
  const manifests = list.manifests.map((e) => ({
    mediaType: e.mediaType,
    size: e.size,
    digest: e.digest,
    ...(e.platform ? { platform: sortedPlatform(e.platform, stored || docker) } : {}),
    ...(e.annotations && Object.keys(e.annotations).length && (stored || !docker) ? { annotations: e.annotations } : {}),
  }));
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
};

// Adds an entry, replacing one with the same digest (as Podman's list does).
export const upsertEntry = (list: ManifestList, entry: ListEntry): ManifestList => {
  const at = list.manifests.findIndex((e) => e.digest === entry.digest);
  const manifests = [...list.manifests];
  if (at >= 0) manifests[at] = entry;
  else manifests.push(entry);
  return { ...list, mediaType: listTypeFor(manifests), manifests };
};

export const checkDigest = (digest: string): void => {
  if (!DIGEST_RE.test(digest)) throw new CliError('EUSAGE', `invalid image digest ${quoted(digest)}: want sha256:<64 hex digits>`);
};

export const findEntry = (list: ManifestList, digest: string, listName: string): ListEntry => {
  checkDigest(digest);
  const entry = list.manifests.find((e) => e.digest === digest);
  if (!entry) throw new CliError('EUSAGE', `no entry of manifest list ${listName} has digest ${digest}: see \`skiff manifest inspect ${listName}\``);
  return entry;
};

export const removeEntry = (list: ManifestList, digest: string, listName: string): ManifestList => {
  findEntry(list, digest, listName);
  const manifests = list.manifests.filter((e) => e.digest !== digest);
  return { ...list, mediaType: listTypeFor(manifests), manifests };
};

// An entry with the user's platform fields and annotations applied (annotations are merged).
export const overrideEntry = (entry: ListEntry, o: EntryOverrides): ListEntry => {
  const p: ListPlatform = { ...(entry.platform ?? { architecture: '', os: '' }) };
  if (o.arch !== undefined) p.architecture = o.arch;
  if (o.os !== undefined) p.os = o.os;
  if (o.variant !== undefined) p.variant = o.variant;
  if (o.osVersion !== undefined) p['os.version'] = o.osVersion;
  if (o.features !== undefined) p.features = o.features;
  if (o.osFeatures !== undefined) p['os.features'] = o.osFeatures;
  const touched = entry.platform || p.architecture || p.os;
  const annotations = o.annotations && Object.keys(o.annotations).length ? { ...entry.annotations, ...o.annotations } : entry.annotations;
  return { ...entry, ...(touched ? { platform: p } : {}), ...(annotations ? { annotations } : {}) };
};

// --annotation K=V, repeated (Podman refuses a key without a value).
export const parseAnnotations = (values: string[] = []): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new CliError('EUSAGE', `no value given for annotation ${quoted(value)}: use --annotation KEY=VALUE`);
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
};

const TO_DOCKER: Record<string, string> = {
  [MEDIA.ociManifest]: MEDIA.dockerManifest,
  [MEDIA.ociConfig]: MEDIA.dockerConfig,
  [MEDIA.ociLayerGzip]: MEDIA.dockerLayerGzip,
  [MEDIA.ociLayer]: MEDIA.dockerLayer,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'application/vnd.docker.image.rootfs.foreign.diff.tar',
};
const TO_OCI: Record<string, string> = Object.fromEntries(Object.entries(TO_DOCKER).map(([oci, docker]) => [docker, oci]));

// An image manifest in the other format: the same config and layer blobs under the other format's
// media types (the bytes, and so the digest, change; the blobs do not). A zstd layer has no Docker
// type: such an image is refused for v2s2.
export const convertManifest = (manifest: ImageManifest, format: ListFormat, what: string): ImageManifest => {
  const table = format === 'v2s2' ? TO_DOCKER : TO_OCI;
  const target = format === 'v2s2' ? MEDIA.dockerManifest : MEDIA.ociManifest;
  const map = (d: Descriptor): Descriptor => {
    if (Object.values(table).includes(d.mediaType)) return { mediaType: d.mediaType, digest: d.digest, size: d.size };
    const mediaType = table[d.mediaType];
    if (!mediaType)
      throw new CliError(
        'EUSAGE',
        `${what} has a blob of type ${quoted(d.mediaType)}, which the ${format === 'v2s2' ? 'Docker (v2s2)' : 'OCI'} format cannot carry: push it with --format ${format === 'v2s2' ? 'oci' : 'v2s2'}`,
      );
    return { mediaType, digest: d.digest, size: d.size };
  };
  return { schemaVersion: 2, mediaType: target, config: map(manifest.config), layers: manifest.layers.map(map) };
};

// Whether an image manifest of `mediaType` must be converted to be pushed in `format`.
export const needsConversion = (mediaType: string, format: ListFormat | undefined): boolean =>
  format !== undefined && mediaType !== (format === 'v2s2' ? MEDIA.dockerManifest : MEDIA.ociManifest);
