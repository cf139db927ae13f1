import { describe, expect, it } from 'vitest';
import { formatTransport, isLayout, localNameForPath, parseTransport } from '../../../src/image/transport.js';

describe('parseTransport', () => {
  it.each([
    ['docker://busybox', { transport: 'docker', name: 'busybox' }],
    ['docker://127.0.0.1:5000/a/b:1', { transport: 'docker', name: '127.0.0.1:5000/a/b:1' }],
    ['containers-storage:localhost/x:1', { transport: 'containers-storage', name: 'localhost/x:1' }],
    ['docker-archive:/tmp/a.tar', { transport: 'docker-archive', path: '/tmp/a.tar' }],
    ['docker-archive:/tmp/a.tar:busybox', { transport: 'docker-archive', path: '/tmp/a.tar', name: 'docker.io/library/busybox:latest' }],
    ['docker-archive:a.tar:@2', { transport: 'docker-archive', path: 'a.tar', index: 2 }],
    ['oci-archive:/tmp/o.tar:1.0', { transport: 'oci-archive', path: '/tmp/o.tar', name: '1.0' }],
    ['oci:/tmp/layout:quay.io/x/y:v1', { transport: 'oci', path: '/tmp/layout', name: 'quay.io/x/y:v1' }],
    ['oci:/tmp/layout', { transport: 'oci', path: '/tmp/layout' }],
    ['dir:/tmp/d', { transport: 'dir', path: '/tmp/d' }],
  ])('%s', (input, want) => {
    const parsed = parseTransport(input);
    expect(parsed).toEqual(want);
    expect(parseTransport(formatTransport(parsed!))).toEqual(want);
  });

  it('leaves names without a known transport to the registry reference parser', () => {
    for (const input of ['busybox', 'localhost:5000/x', 'quay.io/a/b:1', 'oci.example.com/x', `x@sha256:${'a'.repeat(64)}`])
      expect(parseTransport(input)).toBeUndefined();
  });

  it.each([
    ['docker:busybox', /starts with docker:\/\//],
    ['docker://Busybox', /must be lowercase/],
    ['oci:', /names no path/],
    ['docker-archive::x', /names no path/],
    ['docker-archive:a.tar:@x', /not an image index/],
    [`docker-archive:a.tar:x@sha256:${'a'.repeat(64)}`, /by tag, not by digest/],
    ['oci-archive:a.tar:bad name', /not a valid OCI image name/],
    ['containers-storage:[overlay@/var/lib]x', /skiff has one store/],
    ['dir:', /names no directory/],
  ])('refuses %s', (input, message) => {
    expect(() => parseTransport(input)).toThrow(message);
  });

  it('tells layouts from registries and the store', () => {
    expect(isLayout(parseTransport('dir:/x'))).toBe(true);
    expect(isLayout(parseTransport('docker://x'))).toBe(false);
    expect(isLayout(undefined)).toBe(false);
  });
});

describe('localNameForPath', () => {
  it('names an image copied from a directory localhost/PATH, or nothing when the path makes no name', () => {
    expect(localNameForPath('/tmp/my-layout/')).toBe('localhost/tmp/my-layout:latest');
    expect(localNameForPath('/tmp/Upper')).toBeUndefined();
  });
});
