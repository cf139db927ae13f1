// Helpers started through the addon's posix_spawn, and the sealed copy the OCI runtime runs from.
import { appendFileSync, closeSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runHelper } from '../../../src/util/exec.js';
import { native } from '../../../src/util/native.js';

describe('sealed copies', () => {
  it('copies an executable into a sealed memfd that runs and cannot be changed', async () => {
    const fd = native().sealedCopy('/bin/echo');
    expect(fd).toBeGreaterThanOrEqual(64);
    try {
      const path = `/proc/self/fd/${fd}`;
      expect(readlinkSync(path)).toMatch(/^\/memfd:skiff-runtime/);
      expect(readFileSync(path).equals(readFileSync('/bin/echo'))).toBe(true);
      expect(() => writeFileSync(path, 'x')).toThrow(/EPERM/); // truncating: sealed
      expect(() => appendFileSync(path, 'x')).toThrow(/EPERM/); // writing: sealed
      const flags = /^flags:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1];
      expect(Number.parseInt(flags, 8) & 0o2000000).toBe(0o2000000); // close-on-exec
      const result = await runHelper('/bin/echo', ['from', 'the', 'copy'], { exe: path });
      expect(result.stdout).toBe('from the copy\n');
    } finally {
      closeSync(fd);
    }
  });

  it('gives -1 for what it cannot copy', () => {
    expect(native().sealedCopy('/nonexistent/crun')).toBe(-1);
    expect(native().sealedCopy('/tmp')).toBe(-1);
  });
});
