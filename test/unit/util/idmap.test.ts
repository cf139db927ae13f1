import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeRange, idMappingsFor, parseUserns, subordinateMap, toInner, toOuter } from '../../../src/util/idmap.js';

const ns = { hostUid: 1000, hostGid: 1000, uids: 65537, gids: 65537 };

describe('parseUserns', () => {
  it('reads the modes Podman takes', () => {
    expect(parseUserns(undefined)).toEqual({ mode: 'host' });
    expect(parseUserns('host')).toEqual({ mode: 'host' });
    expect(parseUserns('keep-id')).toEqual({ mode: 'keep-id' });
    expect(parseUserns('keep-id:uid=5,gid=6')).toEqual({ mode: 'keep-id', uid: 5, gid: 6 });
    expect(parseUserns('nomap')).toEqual({ mode: 'nomap' });
    expect(parseUserns('auto:size=4096')).toEqual({ mode: 'auto', size: 4096 });
    expect(parseUserns(undefined, ['0:1:10'])).toEqual({ mode: 'map', uid: [{ inner: 0, outer: 1, count: 10 }], gid: [{ inner: 0, outer: 1, count: 10 }] });
  });

  it('refuses what it cannot read, naming it', () => {
    expect(() => parseUserns('keep-id:uid=x')).toThrow(/invalid --userns=keep-id:uid=x uid: use a whole number/);
    expect(() => parseUserns('auto:size=0')).toThrow(/the size must be at least 1/);
    expect(() => parseUserns('nomap:x')).toThrow(/invalid --userns "nomap:x"/);
    expect(() => parseUserns(undefined, ['1:2:0'])).toThrow(/the size must be at least 1/);
    expect(() => parseUserns('auto', ['0:1:1'])).toThrow(/cannot be used with --userns=auto/);
  });
});

describe('idMappingsFor', () => {
  it("keep-id: your uid at its own number, the namespace's other ids around it", () => {
    const m = idMappingsFor({ mode: 'keep-id' }, ns)!;
    expect(m.uid).toEqual([
      { inner: 0, outer: 1, count: 1000 },
      { inner: 1000, outer: 0, count: 1 },
      { inner: 1001, outer: 1001, count: 64536 },
    ]);
    expect(toOuter(m.uid, 0)).toBe(1);
    expect(toOuter(m.uid, 1000)).toBe(0);
    expect(toInner(m.uid, 0)).toBe(1000);
    expect(toInner(m.uid, 70000)).toBe(65534);
  });

  it('keep-id at 0 and nomap leave no gap and no overlap', () => {
    expect(idMappingsFor({ mode: 'keep-id', uid: 0, gid: 0 }, ns)!.uid).toEqual([
      { inner: 0, outer: 0, count: 1 },
      { inner: 1, outer: 1, count: 65536 },
    ]);
    expect(idMappingsFor({ mode: 'nomap' }, ns)!.uid).toEqual([{ inner: 0, outer: 1, count: 65536 }]);
  });

  it('needs subordinate ids, and maps that fit the namespace', () => {
    expect(() => idMappingsFor({ mode: 'keep-id' }, { ...ns, uids: 1, gids: 1 })).toThrow(/needs subordinate ids/);
    expect(() => idMappingsFor({ mode: 'map', uid: [{ inner: 0, outer: 65000, count: 1000 }], gid: [] }, ns)).toThrow(/goes past/);
    expect(() =>
      idMappingsFor(
        {
          mode: 'map',
          uid: [
            { inner: 0, outer: 1, count: 10 },
            { inner: 20, outer: 5, count: 1 },
          ],
          gid: [],
        },
        ns,
      ),
    ).toThrow(/two ranges overlap/);
  });

  it('auto: the lowest free range after the ones taken', () => {
    expect(freeRange([], 1024, 65537)).toBe(1);
    expect(freeRange([{ inner: 0, outer: 1, count: 1024 }], 1024, 65537)).toBe(1025);
    expect(freeRange([{ inner: 0, outer: 3000, count: 1024 }], 1024, 65537)).toBe(1);
    expect(freeRange([{ inner: 0, outer: 500, count: 1024 }], 1024, 65537)).toBe(1524);
    expect(freeRange([{ inner: 0, outer: 1, count: 65000 }], 1024, 65537)).toBeUndefined();
    expect(() => idMappingsFor({ mode: 'auto', size: 70000 }, ns)).toThrow(/no 70000 ids are free/);
  });
});

describe('subordinateMap', () => {
  const files = (subuid: string, uidMap: string): [string, string] => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-idmap-'));
    writeFileSync(join(dir, 'subuid'), subuid);
    writeFileSync(join(dir, 'uid_map'), uidMap);
    return [join(dir, 'subuid'), join(dir, 'uid_map')];
  };

  it("maps NAME's ranges from container id 0 on, as ids of skiff's namespace", () => {
    const [subuid, map] = files('other:100000:65536\nme:300000:1000\nme:400000:10\n', '0 1000 1\n1 300000 1000\n1001 400000 10\n');
    expect(subordinateMap(subuid, map, 'me', '--userns-uid-map-user')).toEqual([
      { inner: 0, outer: 1, count: 1000 },
      { inner: 1000, outer: 1001, count: 10 },
    ]);
  });

  it("refuses a name without ranges, and ranges skiff's namespace does not hold", () => {
    const [subuid, map] = files('other:100000:65536\n', '0 1000 1\n1 300000 1000\n');
    expect(() => subordinateMap(subuid, map, 'me', '--userns-uid-map-user')).toThrow(`--userns-uid-map-user me: ${subuid} has no range for me`);
    expect(() => subordinateMap(subuid, map, 'other', '--userns-uid-map-user')).toThrow(/its range 100000-165535 .* is not in skiff's user namespace/);
  });
});
