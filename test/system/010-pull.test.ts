// Pulling from a real loopback registry as an unprivileged user: formats, platforms, auth, and the
// on-disk result (ownership through the subuid mapping, whiteouts, setuid bits, shared layers).
import { lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { subuidStart, testIds, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');

const sb = useSandbox('pull');

const layerDirs = (): string[] => readdirSync(join(sb.dataDir, 'layers')).filter((n) => !n.startsWith('.'));

// The diff dir of the layer that holds `rel`.
const findInLayers = (rel: string): string => {
  for (const dir of layerDirs()) {
    const p = join(sb.dataDir, 'layers', dir, 'diff', rel);
    try {
      lstatSync(p);
      return p;
    } catch {
      /* next layer */
    }
  }
  throw new Error(`${rel} in no layer`);
};

describe('pull', () => {
  it('pulls a Docker schema2 image and prints its id', async () => {
    const { stdout, stderr } = await sb.runCli(0, 'pull', `${plain}/skiff/busybox`);
    expect(stdout.trim()).toMatch(/^[a-f0-9]{64}$/);
    // Not a terminal: plain lines, no carriage-return bars.
    expect(stderr).toContain(`Trying to pull ${plain}/skiff/busybox:latest...`);
    expect(stderr).toMatch(/Copying blob [a-f0-9]{12} done/);
    expect(stderr).not.toContain('\r');
    const images = await sb.runCli(0, 'images', '--format', '{{.Repository}}:{{.Tag}}');
    expect(images.stdout.trim().split('\n')).toContain(`${plain}/skiff/busybox:latest`);
  });

  it('unpacks with ownership mapped through /etc/subuid, modes, whiteouts and opaque dirs', () => {
    const { uid } = testIds();
    const sub = subuidStart();
    const index = statSync(findInLayers('home/www/index.html'));
    expect(index.uid).toBe(sub + 33 - 1);
    expect(index.gid).toBeGreaterThan(0);
    expect(statSync(findInLayers('bin/busybox')).uid).toBe(uid);
    expect(statSync(findInLayers('nobody-file')).uid).toBe(sub + 65534 - 1);
    expect(statSync(findInLayers('etc/app.conf')).uid).toBe(sub + 1000 - 1);
    expect(statSync(findInLayers('bin/setuid-tool')).mode & 0o7777).toBe(0o4755);
    expect(statSync(findInLayers('bin/setgid-tool')).mode & 0o7777).toBe(0o2755);
    expect(statSync(findInLayers('tmp')).mode & 0o7777).toBe(0o1777);
    expect(lstatSync(findInLayers('bin/sh')).isSymbolicLink()).toBe(true);
    // Hardlink: same inode as its target.
    expect(statSync(findInLayers('bin/su')).ino).toBe(statSync(findInLayers('bin/busybox')).ino);
    // Whiteout: a 0/0 character device where the file was.
    const wh = lstatSync(findInLayers('home/www/old.html'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(lstatSync(findInLayers('run/fifo')).isFIFO()).toBe(true);
    // Device nodes cannot be created rootless and are left out.
    expect(() => findInLayers('dev/null')).toThrow();
    expect(readFileSync(findInLayers('data/new.txt'), 'utf8')).toBe('upper\n');
  });

  it('pulls an OCI manifest by tag, then again as a no-op', async () => {
    const first = await sb.runCli(0, 'pull', `${plain}/skiff/busybox-oci:1.0`);
    const again = await sb.runCli(0, 'pull', `${plain}/skiff/busybox-oci:1.0`);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr).toMatch(/skipped: already exists/);
  });

  it('selects the platform from an OCI index, and pulls by digest', async () => {
    const amd = await sb.runCli(0, 'pull', '-q', `${plain}/skiff/multi`);
    const arm = await sb.runCli(0, 'pull', '-q', '--platform', 'linux/arm64', `${plain}/skiff/multi`);
    expect(arm.stdout).not.toBe(amd.stdout);
    expect(amd.stderr).toBe('');
    const inspect = JSON.parse((await sb.runCli(0, 'image', 'inspect', arm.stdout.trim())).stdout);
    expect(inspect[0].Architecture).toBe('arm64');
    const none = await sb.runCli(125, 'pull', '--platform', 'linux/s390x', `${plain}/skiff/multi`);
    expect(none.stderr).toMatch(/no image for platform linux\/s390x \(the image offers: linux\/amd64, linux\/arm64\)/);
    const digest = inject('multiIndexDigest');
    const byDigest = await sb.runCli(0, 'pull', '-q', `${plain}/skiff/multi@${digest}`);
    expect(byDigest.stdout).toBe(amd.stdout);
  });

  it('shares a base layer between images and downloads it once', async () => {
    await sb.runCli(0, 'pull', `${plain}/skiff/shared-a`);
    const before = layerDirs().length;
    const b = await sb.runCli(0, 'pull', `${plain}/skiff/shared-b`);
    expect(b.stderr).toMatch(/skipped: already exists/);
    expect(layerDirs().length).toBe(before + 1);
  });

  it('pulls a large layer intact', async () => {
    await sb.runCli(0, 'pull', `${plain}/skiff/big`);
    expect(statSync(findInLayers('usr/share/big.bin')).size).toBe(8 * 1024 * 1024);
  });
});
