// The build's target platform: read from --platform or --os/--arch/--variant, refused when both or
// several are given, written into the config (with --os-version and --os-feature), and the BuildKit
// args RUN steps and FROM see.
import { describe, expect, it } from 'vitest';
import { applyPlatform, configMatches, platformArgs, targetPlatform } from '../../../src/engine/build-platform.js';
import type { ImageConfig } from '../../../src/image-format.js';
import { hostPlatform } from '../../../src/image/manifest.js';

const config = (extra: Partial<ImageConfig> = {}): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, ...extra });

describe('targetPlatform', () => {
  it("is the host's, not explicit, without flags", () => {
    expect(targetPlatform({})).toEqual({ ...hostPlatform(), explicit: false });
  });

  it('reads --platform, or --os/--arch/--variant', () => {
    expect(targetPlatform({ platform: 'linux/arm/v7' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7', explicit: true });
    expect(targetPlatform({ arch: 'arm64', osVersion: '1', osFeatures: ['x'] })).toEqual({
      os: 'linux',
      architecture: 'arm64',
      osVersion: '1',
      osFeatures: ['x'],
      explicit: true,
    });
  });

  it('refuses --platform with --arch, and several platforms', () => {
    expect(() => targetPlatform({ platform: 'linux/amd64', arch: 'arm64' })).toThrow('--platform may not be used with --os, --arch or --variant');
    expect(() => targetPlatform({ platform: 'linux/amd64,linux/arm64' })).toThrow(/manifest list, which skiff cannot write yet/);
    expect(() => targetPlatform({ platform: 'arm64' })).toThrow(/want os\/arch\[\/variant\]/);
  });
});

describe('applyPlatform', () => {
  it("sets an explicit target's platform, and keeps a base's own otherwise", () => {
    const c = config({ variant: 'v8' });
    applyPlatform(c, { os: 'linux', architecture: 'arm', variant: 'v7', explicit: true });
    expect(c).toMatchObject({ architecture: 'arm', variant: 'v7' });
    const kept = config({ architecture: 's390x' });
    applyPlatform(kept, { ...hostPlatform(), explicit: false });
    expect(kept.architecture).toBe('s390x');
  });

  it('sets os.version, and adds and takes away os.features (FEATURE-)', () => {
    const c = config({ 'os.features': ['a', 'b'] });
    applyPlatform(c, { ...hostPlatform(), explicit: false, osVersion: '10.0', osFeatures: ['c', 'a-', 'b'] });
    expect(c['os.version']).toBe('10.0');
    expect(c['os.features']).toEqual(['c', 'b']);
    applyPlatform(c, { ...hostPlatform(), explicit: false, osFeatures: ['c-', 'b-'] });
    expect(c['os.features']).toBeUndefined();
  });
});

describe('platform args and matching', () => {
  it("gives BUILD* the host's and TARGET* the target's", () => {
    const args = platformArgs({ os: 'linux', architecture: 'arm64', explicit: true });
    expect(args).toMatchObject({ TARGETPLATFORM: 'linux/arm64', TARGETARCH: 'arm64', TARGETVARIANT: '', BUILDARCH: hostPlatform().architecture });
  });

  it('matches a config by os and architecture, and by variant when both name one', () => {
    expect(configMatches(config(), { os: 'linux', architecture: 'amd64' })).toBe(true);
    expect(configMatches(config(), { os: 'linux', architecture: 'arm64' })).toBe(false);
    expect(configMatches(config({ variant: 'v7' }), { os: 'linux', architecture: 'amd64', variant: 'v8' })).toBe(false);
    expect(configMatches(config(), { os: 'linux', architecture: 'amd64', variant: 'v8' })).toBe(true);
  });
});
