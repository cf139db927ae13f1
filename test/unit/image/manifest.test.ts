import { describe, expect, it } from 'vitest';
import { parseManifest, parsePlatform, selectPlatform, type ImageIndex } from '../../../src/image/manifest.js';

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
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:x', size: 1 }, layers: [] })))).toThrow(/config has no valid sha256 digest/);
    expect(parseManifest(Buffer.from(JSON.stringify(index))).kind).toBe('index');
  });
});
