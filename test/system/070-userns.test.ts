// The rootless namespace behind pulls: created once by racing first commands, joined by later
// ones, re-created when its pause process is gone; and pull progress on a real terminal.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { testIds, until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const pausePid = () => sb.pausePid();

const sb = useSandbox('userns');

describe('rootless namespace', () => {
  it('is created once when first commands race, and joined by all of them', async () => {
    const results = await Promise.all(['busybox', 'busybox-oci:1.0', 'shared-a', 'shared-b'].map((n) => sb.run(['pull', '-q', `${plain}/skiff/${n}`])));
    expect(results.map((r) => [r.code, r.stderr])).toEqual(Array(4).fill([0, '']));
    const pid = pausePid();
    const ns = readlinkSync(`/proc/${pid}/ns/user`);
    expect(ns).not.toBe(readlinkSync('/proc/self/ns/user'));
    // The map: 0 → the user's uid, then the subordinate range.
    const map = readFileSync(`/proc/${pid}/uid_map`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    expect(map[0]).toEqual([0, testIds().uid, 1]);
    expect(map[1].slice(0, 1)).toEqual([1]);
    expect(map[1][2]).toBeGreaterThanOrEqual(65536);
  });

  it('recovers from a stale pause.pid', async () => {
    const old = pausePid();
    process.kill(old, 'SIGKILL');
    await until(() => !existsSync(`/proc/${old}`));
    await sb.runCli(0, 'rmi', `${plain}/skiff/shared-b`);
    const fresh = pausePid();
    expect(fresh).not.toBe(old);
    expect(readlinkSync(`/proc/${fresh}/ns/user`)).not.toBe(readlinkSync('/proc/self/ns/user'));
  });
});

describe('progress', () => {
  it('draws bars on a terminal', async () => {
    const out = await sb.run(['pull', `${plain}/skiff/big`], { pty: true });
    expect(out.code, `${out.stdout}${out.stderr}`).toBe(0);
    expect(out.stdout).toMatch(/\x1b\[2KCopying blob [a-f0-9]{12} (\[[=> ]+\]|done)/);
    expect(out.stdout).toMatch(/\x1b\[\d+A/);
  });
});
