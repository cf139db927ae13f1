import { describe, expect, it } from 'vitest';
import { DEFAULT_TOP_DESCRIPTORS, parseTopDescriptors } from '../../../src/engine/container-top.js';

describe('top descriptors', () => {
  it("reads psgo's names and the AIX codes, space or comma separated", () => {
    expect(parseTopDescriptors([])).toEqual(DEFAULT_TOP_DESCRIPTORS);
    expect(DEFAULT_TOP_DESCRIPTORS).toEqual(['user', 'pid', 'ppid', 'pcpu', 'etime', 'tty', 'time', 'args']);
    expect(parseTopDescriptors(['pid', 'user,args', 'seccomp'])).toEqual(['pid', 'user', 'args', 'seccomp']);
    expect(parseTopDescriptors(['%C', '%G', '%P', '%U', '%a', '%c', '%g', '%n', '%p', '%r', '%t', '%u', '%x', '%y', '%z'])).toEqual([
      'pcpu',
      'group',
      'ppid',
      'user',
      'args',
      'comm',
      'rgroup',
      'nice',
      'pid',
      'pgid',
      'etime',
      'ruser',
      'time',
      'tty',
      'vsz',
    ]);
    expect(parseTopDescriptors(['pid,pid', 'pid'])).toEqual(['pid', 'pid', 'pid']);
  });

  it('leaves anything else to ps(1), as Podman does', () => {
    expect(parseTopDescriptors(['-eo', 'pid,comm'])).toBeUndefined();
    expect(parseTopDescriptors(['pid', 'bogus'])).toBeUndefined();
    expect(parseTopDescriptors(['aux'])).toBeUndefined();
  });
});
