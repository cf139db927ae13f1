// OCI and Docker manifest formats: media types, parsing with validation, platform selection.
import { CliError } from '../errors.js';
import { DIGEST_RE } from '../util/digest-format.js';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

const MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest]);

// Content types a registry (or a descriptor) gives when it does not know better: then the body
// decides, as Podman's GuessMIMEType does.
const UNTYPED: ReadonlySet<string> = new Set(['', 'text/plain', 'application/json', 'application/octet-stream']);

export type LayerCompression = 'none' | 'gzip' | 'zstd';

// The layer media types skiff unpacks, exactly. Docker's foreign and OCI's non-distributable layers
// unpack as the others do; their blobs are fetched from the registry (their `urls` are not followed).
const LAYER_COMPRESSION: Readonly<Record<string, LayerCompression>> = {
  [MEDIA.ociLayer]: 'none',
  [MEDIA.ociLayerGzip]: 'gzip',
  [MEDIA.ociLayerZstd]: 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  [MEDIA.dockerLayerGzip]: 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar': 'none',
};

// A value from a document, quoted for a one-line message: control characters escaped, cut short.
const quoted = (value: unknown): string => {
  const text = String(value);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
};

// How a layer of `mediaType` is compressed; any other type is refused by name, never guessed at.
export const layerCompression = (mediaType: string, layer?: string): LayerCompression => {
  const compression = Object.hasOwn(LAYER_COMPRESSION, mediaType) ? LAYER_COMPRESSION[mediaType] : undefined;
  if (!compression) {
    throw new CliError('EREGISTRY', `unsupported layer media type ${quoted(mediaType)}${layer ? ` (layer ${layer})` : ''}: skiff unpacks OCI and Docker tar layers, uncompressed, gzip or zstd`);
  }
  return compression;
};

// Refuses an image whose layers skiff could not unpack, before any of them is fetched.
export const checkLayerMediaTypes = (manifest: ImageManifest): void => {
  for (const layer of manifest.layers) layerCompression(layer.mediaType, layer.digest);
};

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    StopSignal?: string;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }[];
}

const bad = (what: string): CliError => new CliError('EREGISTRY', `malformed manifest: ${what}`);

const checkDescriptor = (d: Descriptor, where: string): void => {
  if (!d || typeof d.digest !== 'string' || !DIGEST_RE.test(d.digest)) throw bad(`${where} has no valid sha256 digest`);
  if (typeof d.size !== 'number' || d.size < 0) throw bad(`${where} has no valid size`);
};

export const isIndexType = (mediaType: string): boolean => mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;

// Parses manifest bytes as an index or an image manifest. Its media type is the body's own
// `mediaType`, else `contentType` (the Content-Type, or the descriptor's), else, when neither says
// anything, what the body looks like; a type skiff does not know is refused by name.
export const parseManifest = (bytes: Buffer, contentType?: string): { kind: 'index'; index: ImageIndex; mediaType: string } | { kind: 'image'; manifest: ImageManifest; mediaType: string } => {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  if (doc.schemaVersion === 1) throw new CliError('EREGISTRY', 'Docker schema 1 manifests are not supported: re-push the image with a current client');
  const header = contentType?.split(';')[0].trim().toLowerCase() ?? '';
  let mediaType: string;
  if (doc.mediaType !== undefined) mediaType = String(doc.mediaType);
  else if (!UNTYPED.has(header)) mediaType = header;
  else mediaType = Array.isArray(doc.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
  if (!MANIFEST_TYPES.has(mediaType)) {
    throw new CliError('EREGISTRY', `unsupported manifest media type ${quoted(mediaType)}: skiff pulls OCI and Docker (schema 2) images and indexes`);
  }
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw bad(`an index (${mediaType}) that lists no manifests`);
    const index = doc as unknown as ImageIndex;
    index.manifests.forEach((d, i) => checkDescriptor(d, `manifests[${i}]`));
    return { kind: 'index', index, mediaType };
  }
  const manifest = doc as unknown as ImageManifest;
  checkDescriptor(manifest.config, 'config');
  if (!Array.isArray(manifest.layers)) throw bad('no layers');
  manifest.layers.forEach((d, i) => checkDescriptor(d, `layers[${i}]`));
  return { kind: 'image', manifest, mediaType };
};

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export const hostPlatform = (): Platform => ({ os: 'linux', architecture: GOARCH[process.arch] ?? process.arch });

// Parses --platform "os/arch[/variant]".
export const parsePlatform = (value: string): Platform => {
  const [os, architecture, variant, extra] = value.split('/');
  if (!os || !architecture || extra !== undefined) throw new CliError('EUSAGE', `invalid --platform "${value}": want os/arch[/variant], e.g. linux/arm64`);
  return { os, architecture, variant };
};

export const formatPlatform = (p: Platform): string => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

// Picks the index entry for `want`; a missing variant matches any (the first listed wins).
export const selectPlatform = (index: ImageIndex, want: Platform): Descriptor => {
  const candidates = index.manifests.filter(
    (d) => d.platform && d.platform.os === want.os && d.platform.architecture === want.architecture && (!want.variant || d.platform.variant === want.variant),
  );
  if (candidates.length === 0) {
    const offered = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ');
    throw new CliError('ENOIMAGE', `no image for platform ${formatPlatform(want)} (the image offers: ${offered || 'none'}): choose one with --platform`);
  }
  return candidates[0];
};
