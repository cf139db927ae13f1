// The /etc/passwd and /etc/group lines Podman adds for --user and --hostuser (addedAccounts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addedAccounts, hostAccount } from '../../../src/oci/passwd.js';

const root = mkdtempSync(join(tmpdir(), 'skiff-passwd-'));
mkdirSync(join(root, 'etc'));
writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\n');
writeFileSync(join(root, 'etc/group'), 'root:x:0:\nstaff:x:50:\n');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = { workdir: '/work', hostUsers: [], mountPoints: [] };

describe('addedAccounts', () => {
  it('adds a numeric user the image lacks, with its group when that is a number it lacks', () => {
    expect(addedAccounts(root, { ...base, user: '1000' })).toEqual({
      passwd: '1000:*:1000:0:container user:/work:/bin/sh\n',
      group: '1000:x:1000:1000\n',
      home: '/work',
    });
    expect(addedAccounts(root, { ...base, user: '1000:staff' })).toEqual({ passwd: '1000:*:1000:50:container user:/work:/bin/sh\n', group: '', home: '/work' });
    // (Its group is a number the image lacks: added, as Podman does.)
    expect(addedAccounts(root, { ...base, user: '33' })).toEqual({ passwd: '', group: '33:x:33:33\n' });
    expect(addedAccounts(root, { ...base, user: 'www' })).toEqual({ passwd: '', group: '' });
    expect(() => addedAccounts(root, { ...base, user: '1000:nogroup' })).toThrow(/unable to find group nogroup/);
  });

  it('fills --passwd-entry and adds --hostuser accounts (their home when mounted)', () => {
    const template = '$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false';
    expect(addedAccounts(root, { ...base, user: '7', template }).passwd).toBe('7:x:7:0:container user:/work:/bin/false\n');
    const alice = { name: 'alice', uid: '1500', gid: '1500', gecos: 'Alice', home: '/home/alice' };
    expect(addedAccounts(root, { ...base, user: '', hostUsers: [alice] }).passwd).toBe('alice:*:1500:1500:Alice:/work:/bin/sh\n');
    expect(addedAccounts(root, { ...base, user: 'alice', hostUsers: [alice], mountPoints: ['/home'] })).toEqual({
      passwd: 'alice:*:1500:1500:Alice:/home/alice:/bin/sh\n',
      group: '',
      home: '/home/alice',
    });
    expect(addedAccounts(root, { ...base, user: '', hostUsers: [{ ...alice, name: 'www' }] }).passwd).toBe('');
  });

  it("reads the host's passwd for --hostuser by name or uid", () => {
    const file = join(root, 'host-passwd');
    writeFileSync(file, 'bob:x:1600:1601:Bob B:/home/bob:/bin/bash\n');
    expect(hostAccount('bob', file)).toEqual({ name: 'bob', uid: '1600', gid: '1601', gecos: 'Bob B', home: '/home/bob' });
    expect(hostAccount('1600', file)?.name).toBe('bob');
    expect(hostAccount('carol', file)).toBeUndefined();
  });
});
