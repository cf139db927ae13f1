import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepSpares } from '../../../src/network/spare.js';
import { scratchDir } from '../../helpers/scratch.js';

describe('sweepSpares', () => {
  it("removes a spare whose marker names a process that is gone, and keeps a live CLI's or watcher's", () => {
    const dir = join(scratchDir('skiff-spare-'), 'netns');
    mkdirSync(dir);
    const spare = (id: string, marker: string) => {
      for (const [suffix, text] of [
        ['', ''],
        ['.pid', '-1\n'],
        ['.spare', marker],
      ])
        writeFileSync(join(dir, `${id}${suffix}`), text);
    };
    const [dead, deadWatcher, live, liveWatcher] = ['a', 'b', 'c', 'd'].map((c) => c.repeat(64));
    spare(dead, '999999999\n');
    spare(deadWatcher, '999999999 999999998\n');
    spare(live, `${process.pid}\n`);
    spare(liveWatcher, `${process.pid} 999999998\n`);
    sweepSpares(dir);
    expect(readdirSync(dir).sort()).toEqual([live, `${live}.pid`, `${live}.spare`, liveWatcher, `${liveWatcher}.pid`, `${liveWatcher}.spare`].sort());
    expect(existsSync(join(dir, dead))).toBe(false);
  });
});
