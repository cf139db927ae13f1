// The image formats skiff reads and stores (OCI's and Docker's): media types, descriptors,
// manifests, indexes and configs, and which layer types it unpacks. A leaf: both src/image/
// (registry, archives) and src/storage/ (the stores) use it, and it imports neither.
import { CliError } from './errors.js';

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
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
} as const;

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
  [MEDIA.dockerLayer]: 'none',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar': 'none',
};

// A value from a document, quoted for a one-line message: control characters escaped, cut short.
export const quoted = (value: unknown): string => {
  const text = String(value);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
};

// How a layer of `mediaType` is compressed; any other type is refused by name, never guessed at.
export const layerCompression = (mediaType: string, layer?: string): LayerCompression => {
  const compression = Object.hasOwn(LAYER_COMPRESSION, mediaType) ? LAYER_COMPRESSION[mediaType] : undefined;
  if (!compression) {
    throw new CliError(
      'EREGISTRY',
      `unsupported layer media type ${quoted(mediaType)}${layer ? ` (layer ${layer})` : ''}: skiff unpacks OCI and Docker tar layers, uncompressed, gzip or zstd`,
    );
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
  'os.version'?: string;
  'os.features'?: string[];
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
    /** Durations in nanoseconds, as Docker stores them. */
    Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
    /** ONBUILD instructions, run when the image is a build's base. */
    OnBuild?: string[];
    Shell?: string[];
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }[];
}
