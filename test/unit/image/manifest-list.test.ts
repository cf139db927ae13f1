import { describe, expect, it } from 'vitest';
import { MEDIA, type ImageManifest } from '../../../src/image-format.js';
import {
  convertManifest,
  emptyList,
  overrideEntry,
  parseAnnotations,
  parseList,
  removeEntry,
  serializeList,
  upsertEntry,
  type ListEntry,
} from '../../../src/image/manifest-list.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const docker = (c: string, arch = 'amd64'): ListEntry => ({
  mediaType: MEDIA.dockerManifest,
  size: 10,
  digest: d(c),
  platform: { architecture: arch, os: 'linux' },
});
const json = (b: Buffer) => JSON.parse(b.toString('utf8'));

describe('manifest lists', () => {
  it('stay a Docker list until an entry needs OCI (an OCI manifest, or annotations)', () => {
    let list = upsertEntry(emptyList(), docker('a'));
    expect(list.mediaType).toBe(MEDIA.dockerList);
    list = upsertEntry(list, overrideEntry(docker('b', 'arm64'), { annotations: { k: 'v' } }));
    expect(list.mediaType).toBe(MEDIA.ociIndex);
    list = removeEntry(list, d('b'), 'l');
    expect(list.mediaType).toBe(MEDIA.dockerList);
    list = upsertEntry(list, { ...docker('c'), mediaType: MEDIA.ociManifest });
    expect(list.mediaType).toBe(MEDIA.ociIndex);
  });

  it('replace an entry of the same digest instead of listing it twice', () => {
    const list = upsertEntry(upsertEntry(emptyList(), docker('a')), docker('a', 'arm64'));
    expect(list.manifests).toHaveLength(1);
    expect(list.manifests[0].platform?.architecture).toBe('arm64');
  });

  it('override platform fields and merge annotations', () => {
    const entry = overrideEntry(overrideEntry(docker('a'), { annotations: { a: '1' }, variant: 'v8' }), {
      arch: 'arm64',
      osVersion: '10.0',
      features: ['sse4'],
      osFeatures: ['win32k'],
      annotations: { b: '2' },
    });
    expect(entry.platform).toEqual({ architecture: 'arm64', os: 'linux', variant: 'v8', 'os.version': '10.0', features: ['sse4'], 'os.features': ['win32k'] });
    expect(entry.annotations).toEqual({ a: '1', b: '2' });
  });

  it('serialize for each format: Docker drops annotations, OCI drops features', () => {
    const list = upsertEntry(emptyList(), overrideEntry(docker('a'), { annotations: { k: 'v' }, features: ['f'] }));
    const stored = json(serializeList(list, 'stored'));
    expect(stored.manifests[0]).toMatchObject({ annotations: { k: 'v' }, platform: { features: ['f'] } });
    const v2s2 = json(serializeList(list, 'v2s2'));
    expect(v2s2.mediaType).toBe(MEDIA.dockerList);
    expect(v2s2.manifests[0].annotations).toBeUndefined();
    expect(v2s2.manifests[0].platform.features).toEqual(['f']);
    const oci = json(serializeList(list, 'oci'));
    expect(oci.mediaType).toBe(MEDIA.ociIndex);
    expect(oci.manifests[0].platform.features).toBeUndefined();
    expect(parseList(serializeList(list, 'stored')).manifests).toHaveLength(1);
  });

  it('refuse bad digests, missing entries, annotations without a value and broken documents', () => {
    expect(() => removeEntry(emptyList(), 'sha256:1234', 'l')).toThrow(/invalid image digest "sha256:1234"/);
    expect(() => removeEntry(emptyList(), d('f'), 'l')).toThrow(/no entry of manifest list l has digest/);
    expect(() => parseAnnotations(['novalue'])).toThrow(/no value given for annotation "novalue"/);
    expect(parseAnnotations(['a=b=c', 'e='])).toEqual({ a: 'b=c', e: '' });
    expect(() => parseList(Buffer.from('{"schemaVersion":2,"mediaType":"x"}'))).toThrow(/malformed/);
  });

  it('convert image manifests between OCI and Docker, refusing zstd for Docker', () => {
    const oci: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: d('c'), size: 1 },
      layers: [{ mediaType: MEDIA.ociLayerGzip, digest: d('1'), size: 2 }],
    };
    const v2s2 = convertManifest(oci, 'v2s2', 'x');
    expect(v2s2).toEqual({
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: { mediaType: MEDIA.dockerConfig, digest: d('c'), size: 1 },
      layers: [{ mediaType: MEDIA.dockerLayerGzip, digest: d('1'), size: 2 }],
    });
    expect(convertManifest(v2s2, 'oci', 'x')).toEqual(oci);
    const zstd = { ...oci, layers: [{ mediaType: MEDIA.ociLayerZstd, digest: d('1'), size: 2 }] };
    expect(() => convertManifest(zstd, 'v2s2', 'image x')).toThrow(/image x has a blob of type .*zstd.* --format oci/);
  });
});
