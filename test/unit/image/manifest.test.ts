import { describe, expect, it } from 'vitest';
import { parseManifest, parsePlatform, selectPlatform } from '../../../src/image/manifest.js';
import { checkLayerMediaTypes, layerCompression, type ImageIndex, type ImageManifest } from '../../../src/image-format.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('manifests', () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      { mediaType: 'm', digest: d('a'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: 'm', digest: d('b'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
      { mediaType: 'm', digest: d('c'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
  };
  it('selects platforms, variants optional', () => {
    expect(selectPlatform(index, parsePlatform('linux/arm64')).digest).toBe(d('c'));
    expect(selectPlatform(index, parsePlatform('linux/arm/v7')).digest).toBe(d('b'));
    expect(() => selectPlatform(index, parsePlatform('linux/arm/v6'))).toThrow(/offers: linux\/amd64, linux\/arm\/v7, linux\/arm64\/v8/);
    expect(() => parsePlatform('arm64')).toThrow(/os\/arch/);
  });
  it('validates descriptors and refuses schema 1', () => {
    expect(() => parseManifest(Buffer.from('{"schemaVersion":1}'))).toThrow(/schema 1/);
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:x', size: 1 }, layers: [] })))).toThrow(
      /config has no valid sha256 digest/,
    );
    expect(parseManifest(Buffer.from(JSON.stringify(index))).kind).toBe('index');
  });

  const image = (mediaType?: string, layerType = 'application/vnd.oci.image.layer.v1.tar+gzip'): ImageManifest =>
    ({
      schemaVersion: 2,
      ...(mediaType ? { mediaType } : {}),
      config: { mediaType: 'c', digest: d('c'), size: 1 },
      layers: [{ mediaType: layerType, digest: d('1'), size: 1 }],
    }) as ImageManifest;
  const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc));

  it("takes the media type from the body, else the Content-Type, else the body's shape", () => {
    expect(parseManifest(bytes(image('application/vnd.docker.distribution.manifest.v2+json')), 'application/vnd.oci.image.manifest.v1+json').mediaType).toBe(
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    expect(parseManifest(bytes(image()), 'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8').mediaType).toBe(
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    for (const untyped of [undefined, '', 'text/plain', 'application/json', 'application/octet-stream']) {
      expect(parseManifest(bytes(image()), untyped)).toMatchObject({ kind: 'image', mediaType: 'application/vnd.oci.image.manifest.v1+json' });
      expect(parseManifest(bytes({ schemaVersion: 2, manifests: [] }), untyped)).toMatchObject({
        kind: 'index',
        mediaType: 'application/vnd.oci.image.index.v1+json',
      });
    }
  });

  it('refuses an unknown manifest media type by name, from the body or the Content-Type', () => {
    expect(() => parseManifest(bytes(image('application/vnd.example.manifest.v1+json')))).toThrow(
      'unsupported manifest media type "application/vnd.example.manifest.v1+json": skiff pulls OCI and Docker (schema 2) images and indexes',
    );
    expect(() => parseManifest(bytes(image()), 'application/vnd.example.manifest.v1+json')).toThrow(
      /unsupported manifest media type "application\/vnd.example.manifest.v1\+json"/,
    );
    expect(() => parseManifest(bytes(image('a\nb')))).toThrow('unsupported manifest media type "a\\nb"');
    expect(() => parseManifest(bytes(image()), 'application/vnd.oci.image.index.v1+json')).toThrow(
      /an index \(application\/vnd.oci.image.index.v1\+json\) that lists no manifests/,
    );
    expect(() => parseManifest(Buffer.from('[1]'))).toThrow(/not a JSON object/);
  });

  it('knows exactly the layer types it unpacks', () => {
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar+gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd')).toBe('zstd');
    expect(layerCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(layerCompression('application/vnd.docker.image.rootfs.diff.tar')).toBe('none');
    expect(layerCompression('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')).toBe('gzip');
    for (const unknown of ['application/vnd.oci.image.layer.v1.tar+lz4', 'application/x-tar', 'toString', ''])
      expect(() => layerCompression(unknown)).toThrow(/unsupported layer media type/);
    expect(() => checkLayerMediaTypes(image(undefined, 'application/vnd.example.layer+lz4'))).toThrow(
      `unsupported layer media type "application/vnd.example.layer+lz4" (layer ${d('1')}): skiff unpacks OCI and Docker tar layers, uncompressed, gzip or zstd`,
    );
  });
});
