// Moving images out of and into skiff: push to a registry, save/load archives, and the same
// artifacts read and written by skopeo (a comparison tool here, never a part of skiff).
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';
import { storeContents } from '../helpers/store.js';

const plain = inject('plainRegistry');
const basic = inject('basicRegistry');
let busybox: { Id: string; Digest: string; RootFS: { Layers: string[] } };

const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inspectLocal = async (ref: string) => JSON.parse((await sb.runCli(0, 'image', 'inspect', ref)).stdout)[0];
const file = (name: string) => join(sb.dir, name);
const readable = (path: string) => chmodSync(path, 0o644);

const sb = useSandbox('transfer', { pull: [`${plain}/skiff/busybox`] });
beforeAll(async () => {
  busybox = await inspectLocal(`${plain}/skiff/busybox`);
});

describe('push', () => {
  it('pushes an image that skopeo and skiff read back with the same digest', async () => {
    await sb.runCli(0, 'push', `${plain}/skiff/busybox`, `${plain}/pushed/busybox:v1`, '--digestfile', file('digest'));
    const remote = JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${plain}/pushed/busybox:v1`));
    expect(remote.Digest).toBe(busybox.Digest);
    expect(execFileSync('cat', [file('digest')]).toString()).toBe(busybox.Digest);
    const again = await sb.runCli(0, 'push', `${plain}/skiff/busybox`, `${plain}/pushed/busybox:v1`);
    expect(again.stderr).toMatch(/skipped: already exists/);
    const pulled = await sb.runCli(0, 'pull', '-q', `${plain}/pushed/busybox:v1`);
    expect(pulled.stdout.trim()).toBe(busybox.Id);
  });

  it('needs credentials for a protected registry', async () => {
    const denied = await sb.runCli(125, 'push', `${plain}/skiff/busybox`, `${basic}/mine/busybox:v1`);
    expect(denied.stderr.trim().split('\n').at(-1)).toMatch(/authentication required .*skiff login/);
    await sb.runCli(0, 'push', '--creds', 'tester:secret', `${plain}/skiff/busybox`, `${basic}/mine/busybox:v1`);
    const remote = JSON.parse(skopeo('inspect', '--tls-verify=false', '--creds', 'tester:secret', `docker://${basic}/mine/busybox:v1`));
    expect(remote.Digest).toBe(busybox.Digest);
  });
});

describe('save and load', () => {
  it('saves a docker-archive that skopeo reads', async () => {
    await sb.runCli(0, 'save', '-o', file('busybox.tar'), `${plain}/skiff/busybox`);
    const info = JSON.parse(skopeo('inspect', `docker-archive:${file('busybox.tar')}`));
    expect(info.Layers).toEqual(busybox.RootFS.Layers);
    const config = JSON.parse(skopeo('inspect', '--config', `docker-archive:${file('busybox.tar')}`));
    expect(config.rootfs.diff_ids).toEqual(busybox.RootFS.Layers);
  });

  it('saves an oci-archive that skopeo reads', async () => {
    await sb.runCli(0, 'save', '--format', 'oci-archive', '-o', file('busybox-oci.tar'), `${plain}/skiff/busybox`);
    const info = JSON.parse(skopeo('inspect', `oci-archive:${file('busybox-oci.tar')}`));
    const manifest = JSON.parse(skopeo('inspect', '--raw', `docker://${plain}/skiff/busybox`, '--tls-verify=false'));
    expect(info.Layers).toEqual(manifest.layers.map((l: { digest: string }) => l.digest));
  });

  it('loads archives written by skopeo, both formats, keeping the image id', async () => {
    skopeo('copy', '--src-tls-verify=false', `docker://${plain}/skiff/busybox`, `docker-archive:${file('from-skopeo.tar')}:skopeo/busybox:v1`);
    skopeo('copy', '--src-tls-verify=false', `docker://${plain}/skiff/busybox`, `oci-archive:${file('from-skopeo-oci.tar')}:quay.io/skopeo/busybox:oci`);
    readable(file('from-skopeo.tar'));
    readable(file('from-skopeo-oci.tar'));
    const docker = await sb.runCli(0, 'load', '-i', file('from-skopeo.tar'));
    expect(docker.stdout).toBe('Loaded image: docker.io/skopeo/busybox:v1\n');
    const oci = await sb.runCli(0, 'load', '-i', file('from-skopeo-oci.tar'));
    expect(oci.stdout).toBe('Loaded image: quay.io/skopeo/busybox:oci\n');
    expect((await inspectLocal('skopeo/busybox:v1')).Id).toBe(busybox.Id);
    // Converting to OCI rewrites the config, so the id changes; the manifest and layers are skopeo's.
    const fromOci = await inspectLocal('quay.io/skopeo/busybox:oci');
    expect(fromOci.Digest).toBe(JSON.parse(skopeo('inspect', `oci-archive:${file('from-skopeo-oci.tar')}`)).Digest);
    expect(fromOci.RootFS.Layers).toEqual(busybox.RootFS.Layers);
  });

  it('round-trips its own archives through rmi and load (also from standard input)', async () => {
    await sb.runCli(0, 'rmi', '-f', busybox.Id);
    await sb.runCli(1, 'image', 'exists', busybox.Id);
    const loaded = await sb.run(['load'], { stdinFile: file('busybox.tar') });
    expect(loaded).toMatchObject({ code: 0, stdout: `Loaded image: ${plain}/skiff/busybox:latest\n` });
    expect((await inspectLocal(`${plain}/skiff/busybox`)).Id).toBe(busybox.Id);
    await sb.runCli(0, 'rmi', '-f', busybox.Id);
    await sb.runCli(0, 'load', '-q', '-i', file('busybox-oci.tar'));
    expect((await inspectLocal(`${plain}/skiff/busybox`)).Id).toBe(busybox.Id);
    // A loaded image pushes like a pulled one.
    await sb.runCli(0, 'push', `${plain}/skiff/busybox`, `${plain}/pushed/reloaded:v1`);
    expect(JSON.parse(skopeo('inspect', '--tls-verify=false', `docker://${plain}/pushed/reloaded:v1`)).Layers).toHaveLength(2);
  });

  it('refuses a file that is not an archive, storing nothing', async () => {
    writeFileSync(file('junk.tar'), 'this is not a tar archive at all'.repeat(40));
    readable(file('junk.tar'));
    const before = storeContents(sb.dataDir);
    const { stderr } = await sb.runCli(125, 'load', '-i', file('junk.tar'));
    expect(stderr).toMatch(/^Error: archive .*junk.tar is not a readable image archive/);
    expect(storeContents(sb.dataDir)).toEqual(before);
    const missing = await sb.runCli(125, 'load', '-i', file('nope.tar'));
    expect(missing.stderr).toMatch(/nope.tar: no such file/);
  });
});

describe('remote inspection', () => {
  it('shows an image index with its platforms', async () => {
    const index = JSON.parse((await sb.runCli(0, 'manifest', 'inspect', `${plain}/skiff/multi`)).stdout);
    expect(index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    const image = JSON.parse((await sb.runCli(0, 'manifest', 'inspect', `${plain}/skiff/busybox`)).stdout);
    expect(image.layers).toHaveLength(2);
    await sb.runCli(125, 'manifest', 'inspect', `${plain}/skiff/busybox:missing`);
  });

  it('searches the catalog and lists tags', async () => {
    const { stdout } = await sb.runCli(0, 'search', `${plain}/skiff`, '--format', '{{.Name}}');
    expect(stdout.split('\n')).toEqual(expect.arrayContaining([`${plain}/skiff/busybox`, `${plain}/skiff/multi`]));
    const tags = await sb.runCli(0, 'search', '--list-tags', `${plain}/skiff/busybox-oci`);
    expect(tags.stdout).toMatch(new RegExp(`^NAME\\s+TAG\\n${plain}/skiff/busybox-oci\\s+1.0\\n$`));
  });
});
