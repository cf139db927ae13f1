import { describe, expect, it } from 'vitest';
import { inContainerTerms, toContainerPaths } from '../../../src/engine/container-paths.js';
import { CliError } from '../../../src/errors.js';

const merged = '/home/u/.local/share/skiff/containers/abc/merged';
const upper = '/home/u/.local/share/skiff/containers/abc/upper';

describe('container paths in errors', () => {
  it("says paths under the container's root as the container's", () => {
    expect(toContainerPaths(`lstat '${merged}/etc/passwd/x'`, [merged])).toBe("lstat '/etc/passwd/x'");
    expect(toContainerPaths(`${merged} and ${upper}/a`, [merged, upper])).toBe('/ and /a');
    expect(toContainerPaths(`${merged}2/x`, [merged])).toBe(`${merged}2/x`);
  });

  it('turns a file system error on a container path into one line naming the path and the container', () => {
    const fsError = Object.assign(new Error(`ENOTDIR: not a directory, lstat '${merged}/etc/passwd/x'`), {
      code: 'ENOTDIR',
      syscall: 'lstat',
      path: `${merged}/etc/passwd/x`,
    });
    expect(inContainerTerms(fsError, [merged], 'c1')).toMatchObject({ code: 'EUSAGE', message: 'lstat /etc/passwd/x in container c1: not a directory' });
    const copy = Object.assign(new Error(`EACCES: permission denied, copyfile '/host/a' -> '${merged}/b'`), {
      code: 'EACCES',
      syscall: 'copyfile',
      path: '/host/a',
      dest: `${merged}/b`,
    });
    expect(inContainerTerms(copy, [merged], 'c1')).toMatchObject({ message: 'copyfile /host/a -> /b in container c1: permission denied' });
  });

  it("rewrites skiff's own messages and leaves errors without container paths alone", () => {
    const own = new CliError('EUSAGE', `destination directory ${merged}/nonexistent/dir does not exist`);
    expect(inContainerTerms(own, [merged], 'c1')).toMatchObject({
      code: 'EUSAGE',
      message: 'destination directory /nonexistent/dir does not exist (in container c1)',
    });
    const host = Object.assign(new Error("EACCES: permission denied, scandir '/root'"), { code: 'EACCES', syscall: 'scandir', path: '/root' });
    expect(inContainerTerms(host, [merged], 'c1')).toBe(host);
  });
});
