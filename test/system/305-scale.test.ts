// Many containers per user: no wall below the machine's. The kernel's per-user key quota
// (kernel.keys.maxkeys 200 for non-root users by default) stopped the 99th container when each got a
// session keyring of its own; skiff-monitor now joins one keyring all of a user's containers share
// and the runtime is told --no-new-keyring.
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { NO_SUBID_USER, testIds } from '../helpers/user.js';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

// A user of its own: its key quota is not shared with the other test files' containers. It has
// no subordinate ids: skiff maps its own uid only.
const sb = useSandbox('scale', { user: NO_SUBID_USER, config: '[storage]\nuserns = "single"\n', pull: [IMG] });

// The user's keys as /proc/key-users counts them ("  UID:  USAGE NKEYS/NIKEYS QKEYS/MAXKEYS QBYTES/MAXBYTES").
const keysOf = (uid: number): { keys: number; max: number } => {
  const line = readFileSync('/proc/key-users', 'utf8')
    .split('\n')
    .find((l) => l.trim().startsWith(`${uid}:`));
  const m = line && /(\d+)\/(\d+)\s+\d+\/\d+\s*$/.exec(line);
  return m ? { keys: Number(m[1]), max: Number(m[2]) } : { keys: 0, max: Number(readFileSync('/proc/sys/kernel/keys/maxkeys', 'utf8')) };
};

describe('the key quota', () => {
  it('runs more containers than the per-user key quota allows keyrings, all sharing one', async () => {
    const { uid } = testIds(NO_SUBID_USER);
    const { max } = keysOf(uid);
    const count = max + 10;
    try {
      for (let i = 0; i < count; i++) {
        const r = await sb.run(['run', '-d', '--network', 'none', IMG, 'sh', '-c', 'sleep 600']);
        expect(r.code, `container ${i + 1} of ${count}: ${r.stderr}`).toBe(0);
      }
      expect((await sb.runCli(0, 'ps', '-q')).stdout.trim().split('\n')).toHaveLength(count);
      // One keyring for all of them (a few more keys at most: the user's own).
      expect(keysOf(uid).keys).toBeLessThanOrEqual(3);
    } finally {
      await sb.run(['rm', '-a', '-f', '-t', '0']);
    }
  }, 600_000);
});
