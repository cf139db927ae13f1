import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, withRegistry } from '../../../src/image/reference.js';

describe('parseReference', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', false],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36', false],
    ['user/app', 'docker.io/user/app:latest', false],
    ['quay.io/org/app:v1', 'quay.io/org/app:v1', true],
    ['localhost/app', 'localhost/app:latest', true],
    ['localhost:5000/a/b/c:tag', 'localhost:5000/a/b/c:tag', true],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest', true],
    ['index.docker.io/library/alpine', 'docker.io/library/alpine:latest', true],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`, false],
    [`busybox:1@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'b'.repeat(64)}`, false],
    ['a-b_c__d/e.f', 'docker.io/a-b_c__d/e.f:latest', false],
  ])('%s → %s', (input, expected, qualified) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(expected);
    expect(ref.qualified).toBe(qualified);
  });

  it.each(['', 'a_b.c/d', 'Busybox', 'a//b', 'busybox:', 'busybox:-x', 'busybox@sha256:abc', 'busybox@md5', '-a/b', 'a/b/', ':tag', 'a b'])(
    'rejects %j',
    (input) => {
      expect(() => parseReference(input)).toThrow(/invalid reference/);
    },
  );

  it('caps the repository name at 255 characters, registry included, as the distribution spec does', () => {
    const at = (n: number, prefix: string) => `${prefix}${'a'.repeat(n - prefix.length)}`;
    expect(formatReference(parseReference(at(255, 'quay.io/o/')))).toBe(`${at(255, 'quay.io/o/')}:latest`);
    expect(() => parseReference(at(256, 'quay.io/o/'))).toThrow(
      /: the repository name \(quay.io\/…\) is 256 characters long, registry included; at most 255 are allowed$/,
    );
    // A short name is measured as it is sent: docker.io/library/NAME.
    expect(() => parseReference(at(255 - 'docker.io/'.length, 'x'))).toThrow(/is 263 characters long/);
    expect(() => withRegistry(parseReference(at(235, 'x')), 'registry.example.com')).toThrow(/registry.example.com\/…\) is 256 characters long/);
  });

  it('moves a short name to another registry without library/', () => {
    const ref = parseReference('busybox');
    expect(formatReference(withRegistry(ref, 'quay.io'))).toBe('quay.io/busybox:latest');
    expect(formatReference(withRegistry(ref, 'docker.io'))).toBe('docker.io/library/busybox:latest');
    expect(formatReference(withRegistry(parseReference('org/app'), 'quay.io'))).toBe('quay.io/org/app:latest');
  });
});
