import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerMounts, mountField, mountFields, parseMountFlag, parseVolumeFlag } from '../../../src/engine/container-mounts.js';

describe('-v', () => {
  it('reads binds, named and anonymous volumes with their options', () => {
    expect(parseVolumeFlag('/src:/dst:ro,rshared')).toEqual({ type: 'bind', source: '/src', destination: '/dst', readOnly: true, options: ['rshared'] });
    expect(parseVolumeFlag('./rel:/dst')).toMatchObject({ type: 'bind', source: resolve('rel') });
    expect(parseVolumeFlag('~/code:/work')).toMatchObject({ type: 'bind', source: `${homedir()}/code` });
    expect(parseVolumeFlag('data:/var/lib/x:nocopy')).toMatchObject({ type: 'volume', source: 'data', destination: '/var/lib/x', nocopy: true });
    expect(parseVolumeFlag('/data')).toMatchObject({ type: 'volume', source: '', destination: '/data', anonymous: true, readOnly: false });
    expect(parseVolumeFlag('/data:ro')).toMatchObject({ anonymous: true, readOnly: true });
    expect(parseVolumeFlag('v:/d:z,Z,rw')).toMatchObject({ readOnly: false, options: [] });
    expect(parseVolumeFlag('/src:/d:O')).toMatchObject({ type: 'bind', overlay: true, readOnly: false });
  });

  it('refuses what Podman refuses, naming the flag', () => {
    for (const bad of ['', ':', 'a:b:c:d', 'v:rel', '/x:/', 'a/b:/x', '.x:/', 'v:/x:bogus', 'v:/x:O', '/x:O', '/s:/x:O,ro', '/s:/x:O,U'])
      expect(() => parseVolumeFlag(bad), bad).toThrow(/-v|volume name/);
  });
});

describe('--mount', () => {
  it('reads bind, volume and tmpfs', () => {
    expect(parseMountFlag('type=bind,source=/s,target=/t,readonly,bind-propagation=rslave')).toEqual({
      type: 'bind',
      source: '/s',
      destination: '/t',
      readOnly: true,
      options: ['rslave'],
    });
    expect(parseMountFlag('type=volume,src=v,dst=/t,ro=false,volume-nocopy')).toMatchObject({ type: 'volume', source: 'v', readOnly: false, nocopy: true });
    expect(parseMountFlag('type=volume,target=/t')).toMatchObject({ anonymous: true });
    expect(parseMountFlag('type=bind,source=/s,target=/t,rw=false')).toMatchObject({ readOnly: true });
    expect(parseMountFlag('type=tmpfs,target=/run,tmpfs-size=64m,tmpfs-mode=1777')).toEqual({ tmpfs: '/run:size=64m,mode=1777' });
  });

  it('reads quoted fields as Docker does: commas and doubled quotes inside', () => {
    expect(mountFields('type=bind,"source=/a,b",target=/x')).toEqual(['type=bind', 'source=/a,b', 'target=/x']);
    expect(mountFields('"target=/say ""hi"""')).toEqual(['target=/say "hi"']);
    expect(parseMountFlag(`type=bind,${mountField('source=/data/a,b')},${mountField('target=/in,side')}`)).toMatchObject({
      source: '/data/a,b',
      destination: '/in,side',
    });
    expect(mountField('source=/plain')).toBe('source=/plain');
    expect(() => mountFields('type=bind,"source=/a')).toThrow(/a quote is not closed/);
    expect(() => mountFields('"source=/a"x,target=/b')).toThrow(/text after a quoted field/);
  });

  it('refuses unknown types and fields and a missing target', () => {
    for (const bad of [
      'type=nfs,target=/x',
      'type=bind,target=/x',
      'type=bind,source=/s',
      'type=volume,target=/x,colour=red',
      'type=bind,source=/s,target=/t,readonly=maybe',
    ])
      expect(() => parseMountFlag(bad), bad).toThrow(/--mount/);
  });
});

describe('the mounts of a container', () => {
  it("adds the image's VOLUMEs where nothing is mounted, and refuses a path mounted twice", () => {
    const { mounts, tmpfs } = containerMounts(['v:/a'], [], ['/run'], ['/a', '/b/', 'c'], 'bind');
    expect(mounts.map((m) => [m.destination, m.anonymous ?? false])).toEqual([
      ['/a', false],
      ['/b', true],
      ['/c', true],
    ]);
    expect(tmpfs).toEqual(['/run']);
    expect(containerMounts([], [], [], ['/a'], 'tmpfs').tmpfs).toEqual(['/a']);
    expect(containerMounts([], [], [], ['/a'], 'ignore').mounts).toEqual([]);
    expect(() => containerMounts(['v:/a', '/x:/a'], [], [], [], 'bind')).toThrow(/mounted twice/);
    expect(() => containerMounts(['v:/a'], [], ['/a:size=1m'], [], 'bind')).toThrow(/mounted twice/);
    expect(() => containerMounts([], [], [], [], 'sometimes')).toThrow(/--image-volume/);
  });
});
