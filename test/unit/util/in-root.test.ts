// Paths inside a root that is not ours to trust (a container's root, an unpacked archive).
import { closeSync, fstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openInRoot, readFileInRoot } from '../../../src/util/in-root.js';
import { O_PATH } from '../../../src/util/native.js';
import { scratchDir } from '../../helpers/scratch.js';

const resolved = (root: string, path: string, flags = O_PATH): string => {
  const fd = openInRoot(root, path, flags);
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
};

describe('openInRoot', () => {
  it('follows symlinks inside the root and never climbs out of it', () => {
    const root = scratchDir('skiff-root-');
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    symlinkSync('/etc', join(root, 'abs'));
    symlinkSync('../../../../..', join(root, 'up'));
    symlinkSync('/proc/self/root/etc/passwd', join(root, 'magic'));
    expect(resolved(root, '/abs/passwd')).toBe(join(root, 'etc', 'passwd'));
    expect(resolved(root, '/../../etc')).toBe(join(root, 'etc'));
    expect(resolved(root, 'up/etc')).toBe(join(root, 'etc'));
    expect(resolved(root, '/abs', O_PATH | 0o400000 /* O_NOFOLLOW */)).toBe(join(root, 'abs'));
    // /proc/self/root inside the root is a path like any other: there is no proc there.
    expect(() => openInRoot(root, 'magic', 0)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('takes a directory descriptor as the root', () => {
    const root = scratchDir('skiff-root-');
    mkdirSync(join(root, 'a'));
    symlinkSync('/', join(root, 'a', 'top'));
    const dir = openInRoot(root, 'a', O_PATH);
    try {
      const fd = openInRoot(dir, 'top', O_PATH);
      expect(fstatSync(fd).ino).toBe(fstatSync(dir).ino);
      closeSync(fd);
    } finally {
      closeSync(dir);
    }
  });

  it('reads a file whole within a cap, and refuses a larger one or a non-file', () => {
    const root = scratchDir('skiff-root-');
    writeFileSync(join(root, 'small'), 'x'.repeat(100));
    writeFileSync(join(root, 'large'), 'x'.repeat(101));
    symlinkSync('/dev/zero', join(root, 'zero'));
    const bound = (what: string) => ({ what, limit: 100 });
    expect(readFileInRoot(root, '/small', bound('small'))?.length).toBe(100);
    expect(() => readFileInRoot(root, '/large', bound('large'))).toThrow(/large is larger than 100 bytes, the limit for it/);
    expect(readFileInRoot(root, '/zero', bound('zero'))).toBeUndefined();
    expect(readFileInRoot(root, '/nothing', bound('nothing'))).toBeUndefined();
    expect(() => readFileInRoot(root, '/', bound('the root'))).toThrow(/the root is not a regular file/);
  });
});
