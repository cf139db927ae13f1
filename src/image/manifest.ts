// OCI and Docker manifests: parsing with validation, platform selection. The formats themselves
// (media types, descriptors, configs) are in src/image-format.ts.
import { CliError } from '../errors.js';
import { MEDIA, quoted, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from '../image-format.js';
import { DIGEST_RE } from '../util/digest-format.js';

export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

const MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest]);

// Content types a registry (or a descriptor) gives when it does not know better: then the body
// decides, as Podman's GuessMIMEType does.
const UNTYPED: ReadonlySet<string> = new Set(['', 'text/plain', 'application/json', 'application/octet-stream']);

const bad = (what: string): CliError => new CliError('EREGISTRY', `malformed manifest: ${what}`);

const checkDescriptor = (d: Descriptor, where: string): void => {
  if (!d || typeof d.digest !== 'string' || !DIGEST_RE.test(d.digest)) throw bad(`${where} has no valid sha256 digest`);
  if (typeof d.size !== 'number' || d.size < 0) throw bad(`${where} has no valid size`);
};

export const isIndexType = (mediaType: string): boolean => mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;

// Parses manifest bytes as an index or an image manifest. Its media type is the body's own
// `mediaType`, else `contentType` (the Content-Type, or the descriptor's), else, when neither says
// anything, what the body looks like; a type skiff does not know is refused by name.
export const parseManifest = (
  bytes: Buffer,
  contentType?: string,
): { kind: 'index'; index: ImageIndex; mediaType: string } | { kind: 'image'; manifest: ImageManifest; mediaType: string } => {
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
