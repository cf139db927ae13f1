// Manifest lists as Podman keeps them: made from local images (platforms from their configs,
// changed with --arch/--os/…), from a registry's image or index, edited entry by entry, pushed
// with their images to a real registry and pulled back by the list's name; removed without their
// images. And the refusals: a name that is no list, a remote index over its size bound, signing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';
import { endless, fixed, startHostileRegistry, type HostileRegistry } from '../helpers/hostile-registry.js';

const plain = inject('plainRegistry');
const basic = inject('basicRegistry');
const multiIndexDigest = inject('multiIndexDigest');
const BUSYBOX = `${plain}/skiff/busybox`;
const MULTI = `${plain}/skiff/multi`;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const HOST_ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;

interface Entry {
  mediaType: string;
  size: number;
  digest: string;
  platform: { architecture: string; os: string; variant?: string; 'os.version'?: string; features?: string[]; 'os.features'?: string[] };
  annotations?: Record<string, string>;
}
interface List {
  schemaVersion: number;
  mediaType: string;
  manifests: Entry[];
}

const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const remoteRaw = (ref: string): Buffer => skopeo('inspect', '--raw', '--tls-verify=false', `docker://${ref}`);
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const sb = useSandbox('manifest', { pull: [BUSYBOX] });
const inspect = async (name: string): Promise<List> => JSON.parse((await sb.runCli(0, 'manifest', 'inspect', name)).stdout);
const imageInspect = async (name: string) => JSON.parse((await sb.runCli(0, 'image', 'inspect', name)).stdout)[0];
// The one error line of a command that must fail with `code`.
const failure = async (code: number, ...args: string[]): Promise<string> => {
  const r = await sb.run(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  return r.stderr.trim();
};

let busybox: { Id: string; Digest: string };
let arm: { Id: string; RepoDigests: string[] };
let armDigest: string;

beforeAll(async () => {
  await sb.runCli(0, 'pull', '-q', '--platform', 'linux/arm64', MULTI);
  busybox = await imageInspect(BUSYBOX);
  arm = await imageInspect(MULTI);
  // The arm64 image's own manifest digest (its first repo digest is the index's).
  armDigest = arm.RepoDigests.map((r) => r.slice(r.indexOf('@') + 1)).find((d) => d !== multiIndexDigest)!;
});

describe('a list of local images', () => {
  it('is made with their platforms, shown by inspect and images, and checked by exists', async () => {
    const id = (await sb.runCli(0, 'manifest', 'create', 'mylist', BUSYBOX, MULTI)).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const list = await inspect('mylist');
    expect(list.schemaVersion).toBe(2);
    // One entry is an OCI manifest: the list is an OCI index.
    expect(list.mediaType).toBe(OCI_INDEX);
    expect(list.manifests.map((m) => [m.digest, m.platform.os, m.platform.architecture])).toEqual([
      [busybox.Digest, 'linux', 'amd64'],
      [armDigest, 'linux', 'arm64'],
    ]);
    expect(list.manifests[0].mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const { stdout } = await sb.runCli(0, 'images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    expect(stdout).toContain(`localhost/mylist:latest ${id.slice(0, 12)}`);
    await sb.runCli(0, 'manifest', 'exists', 'mylist');
    await sb.runCli(0, 'manifest', 'exists', id);
    await sb.runCli(1, 'manifest', 'exists', 'nosuchlist');
    expect(await failure(125, 'manifest', 'exists', BUSYBOX)).toMatch(/image is not a manifest list/);
    // Used as an image, a list is its entry for this machine (Podman's lookup).
    if (HOST_ARCH === 'amd64') expect((await imageInspect('mylist')).Id).toBe(busybox.Id);
    expect(await failure(125, 'manifest', 'create', 'mylist')).toMatch(/localhost\/mylist:latest is already the name of image .*--amend/);
  });

  it('takes entries, annotations and platform changes; drops entries by digest', async () => {
    await sb.runCli(0, 'manifest', 'create', 'edited');
    const empty = await inspect('edited');
    expect(empty).toEqual({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [] });
    await sb.runCli(
      0,
      'manifest',
      'add',
      '--arch',
      'arm',
      '--variant',
      'v7',
      '--os-version',
      '1.2',
      '--features',
      'sse4,avx',
      '--annotation',
      'org.example=one',
      'edited',
      `containers-storage:${BUSYBOX}`,
    );
    let [entry] = (await inspect('edited')).manifests;
    expect(entry.platform).toEqual({ architecture: 'arm', os: 'linux', 'os.version': '1.2', variant: 'v7', features: ['sse4', 'avx'] });
    expect(entry.annotations).toEqual({ 'org.example': 'one' });
    await sb.runCli(0, 'manifest', 'annotate', '--arch', 's390x', '--os-features', 'win32k', '--annotation', 'second=two', 'edited', busybox.Digest);
    [entry] = (await inspect('edited')).manifests;
    expect(entry.platform).toMatchObject({ architecture: 's390x', variant: 'v7', 'os.features': ['win32k'] });
    expect(entry.annotations).toEqual({ 'org.example': 'one', second: 'two' });
    // A local image in the list names its entry as well as the digest does.
    await sb.runCli(0, 'manifest', 'annotate', '--os', 'freebsd', 'edited', BUSYBOX);
    expect((await inspect('edited')).manifests[0].platform.os).toBe('freebsd');

    const unknown = `sha256:${'0'.repeat(64)}`;
    expect(await failure(125, 'manifest', 'annotate', '--arch', 'x', 'edited', unknown)).toMatch(/no entry of manifest list edited has digest sha256:0{64}/);
    expect(await failure(125, 'manifest', 'remove', 'edited', 'sha256:1234')).toMatch(/invalid image digest "sha256:1234"/);
    expect(await failure(125, 'manifest', 'add', '--annotation', 'novalue', 'edited', BUSYBOX)).toMatch(/no value given for annotation "novalue"/);
    const id = (await sb.runCli(0, 'manifest', 'remove', 'edited', busybox.Digest)).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect((await inspect('edited')).manifests).toEqual([]);
    expect(await failure(125, 'manifest', 'remove', 'edited', busybox.Digest)).toMatch(/no entry of manifest list edited/);
  });

  it('refuses to add to, or amend, an image that is not a list', async () => {
    expect(await failure(125, 'manifest', 'add', BUSYBOX, MULTI)).toMatch(new RegExp(`^Error: ${BUSYBOX}: image is not a manifest list`));
    expect(await failure(125, 'manifest', 'create', '--amend', BUSYBOX, MULTI)).toMatch(/image is not a manifest list/);
    expect(await failure(125, 'manifest', 'add', 'edited', 'oci-archive:/tmp/x.tar')).toMatch(/containers-storage:NAME.*docker:\/\/NAME/);
  });
});

describe('registry images', () => {
  it("adds an image, an index's entry for this platform, or every entry with --all", async () => {
    // Not stored here, so looked up in its registry (only its manifest and config are read).
    await sb.runCli(0, 'manifest', 'create', 'remote', `${plain}/skiff/shared-a`);
    let list = await inspect('remote');
    expect(list.manifests).toHaveLength(1);
    expect(list.manifests[0]).toMatchObject({ digest: sha256(remoteRaw(`${plain}/skiff/shared-a`)), platform: { architecture: 'amd64', os: 'linux' } });
    expect(list.manifests[0].size).toBe(remoteRaw(`${plain}/skiff/shared-a`).length);
    await sb.runCli(1, 'image', 'exists', `${plain}/skiff/shared-a`);

    const index = JSON.parse(remoteRaw(MULTI).toString()) as List;
    await sb.runCli(0, 'manifest', 'add', 'remote', `docker://${MULTI}`);
    list = await inspect('remote');
    const mine = index.manifests.find((m) => m.platform.architecture === HOST_ARCH)!;
    expect(list.manifests.map((m) => m.digest)).toEqual([list.manifests[0].digest, mine.digest]);
    await sb.runCli(0, 'manifest', 'create', '--all', 'everything', `docker://${MULTI}`);
    expect((await inspect('everything')).manifests.map((m) => [m.digest, m.platform.architecture])).toEqual(
      index.manifests.map((m) => [m.digest, m.platform.architecture]),
    );
  });
});

describe('push', () => {
  it('sends the local images and the list; --digestfile, the registry and inspect agree; pull picks this platform', async () => {
    const digestfile = join(sb.dir, 'list-digest');
    const r = await sb.runCli(0, 'manifest', 'push', '--digestfile', digestfile, 'mylist', `docker://${plain}/lists/mine:v1`);
    expect(r.stdout).toBe('');
    const raw = remoteRaw(`${plain}/lists/mine:v1`);
    const digest = readFileSync(digestfile, 'utf8');
    expect(digest).toBe(sha256(raw));
    const remote = await inspect(`${plain}/lists/mine:v1`);
    expect(remote).toEqual(JSON.parse(raw.toString()));
    expect(remote.manifests.map((m) => [m.digest, m.platform.architecture])).toEqual([
      [busybox.Digest, 'amd64'],
      [armDigest, 'arm64'],
    ]);
    // Each image is in the repository under its digest, whole.
    for (const m of remote.manifests) expect(sha256(remoteRaw(`${plain}/lists/mine@${m.digest}`))).toBe(m.digest);
    skopeo('copy', '--all', '--src-tls-verify=false', `docker://${plain}/lists/mine:v1`, `dir:${join(sb.dir, 'copied')}`);

    const pulled = (await sb.runCli(0, 'pull', '-q', `${plain}/lists/mine:v1`)).stdout.trim();
    expect(pulled).toBe(HOST_ARCH === 'amd64' ? busybox.Id : arm.Id.replace(/^sha256:/, ''));
  });

  it('copies the images a list took from a registry, and converts with --format v2s2', async () => {
    await sb.runCli(0, 'manifest', 'push', '--format', 'v2s2', 'everything', `${plain}/lists/copied:v2`);
    const list = JSON.parse(remoteRaw(`${plain}/lists/copied:v2`).toString()) as List;
    expect(list.mediaType).toBe(DOCKER_LIST);
    expect(list.manifests.map((m) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    for (const m of list.manifests) {
      const image = JSON.parse(remoteRaw(`${plain}/lists/copied@${m.digest}`).toString());
      expect(image.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(image.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    }
    skopeo('copy', '--all', '--src-tls-verify=false', `docker://${plain}/lists/copied:v2`, `dir:${join(sb.dir, 'copied-v2')}`);
    // Into another registry (with its credentials), blob by blob through skiff.
    await sb.runCli(0, 'manifest', 'push', '-q', '--creds', 'tester:secret', 'everything', `${basic}/lists/copied:v1`);
    const there = skopeo('inspect', '--raw', '--tls-verify=false', '--creds', 'tester:secret', `docker://${basic}/lists/copied:v1`);
    expect(JSON.parse(there.toString()).manifests.map((m: Entry) => m.digest)).toEqual((await inspect('everything')).manifests.map((m) => m.digest));
    const into = join(sb.dir, 'copied-basic');
    skopeo('copy', '--all', '--src-tls-verify=false', '--src-creds', 'tester:secret', `docker://${basic}/lists/copied:v1`, `dir:${into}`);
  });

  it('pushes a locally built image gzipped, the list naming the manifest that was pushed', async () => {
    // A build keeps its layers uncompressed; push gzips them, which changes the manifest's digest.
    const context = join(sb.dir, 'context');
    mkdirSync(context);
    writeFileSync(join(context, 'hello'), 'made here\n');
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY hello /hello\n');
    await sb.runCli(0, 'build', '-q', '-t', 'localhost/made:1', context);
    await sb.runCli(0, 'manifest', 'create', 'madelist', 'localhost/made:1');
    const [local] = (await inspect('madelist')).manifests;
    await sb.runCli(0, 'manifest', 'push', '-q', 'madelist', `${plain}/lists/made:v1`);
    const [pushed] = (JSON.parse(remoteRaw(`${plain}/lists/made:v1`).toString()) as List).manifests;
    expect(pushed.digest).not.toBe(local.digest);
    const image = JSON.parse(remoteRaw(`${plain}/lists/made@${pushed.digest}`).toString());
    expect(image.layers.map((l: { mediaType: string }) => l.mediaType.endsWith('gzip'))).toEqual([true]);
    expect(pushed.size).toBe(remoteRaw(`${plain}/lists/made@${pushed.digest}`).length);
  });

  it('with --all=false names the images the destination lacks; --rm removes the list once pushed', async () => {
    await sb.runCli(0, 'manifest', 'create', 'partial', BUSYBOX);
    const missing = await failure(125, 'manifest', 'push', '--all=false', 'partial', `${plain}/lists/partial:v1`);
    expect(missing).toContain(`lacks the image ${busybox.Digest} of the list: push with --all`);
    // Its image is there once pushed, so the list alone now goes.
    await sb.runCli(0, 'push', BUSYBOX, `${plain}/lists/partial:image`);
    await sb.runCli(0, 'manifest', 'push', '--all=false', '--rm', '-q', 'partial', `${plain}/lists/partial:v1`);
    await sb.runCli(1, 'manifest', 'exists', 'partial');
    await sb.runCli(0, 'image', 'exists', BUSYBOX);
  });

  it('refuses signing and zstd, by flag, before sending anything', async () => {
    expect(await failure(125, 'manifest', 'push', '--sign-by', 'ABCD', 'mylist', `${plain}/lists/signed:v1`)).toMatch(
      /^Error: --sign-by: skiff does not sign images/,
    );
    expect(await failure(125, 'manifest', 'push', '--sign-by-sigstore-private-key', '/k', 'mylist', `${plain}/lists/signed:v1`)).toMatch(
      /--sign-by-sigstore-private-key: skiff does not sign/,
    );
    expect(await failure(125, 'manifest', 'push', '--compression-format', 'zstd', 'mylist', `${plain}/lists/signed:v1`)).toMatch(/zstd/);
    expect(() => remoteRaw(`${plain}/lists/signed:v1`)).toThrow();
    await sb.runCli(0, 'manifest', 'push', '--remove-signatures', '--compression-format', 'gzip', '-q', 'mylist', `${plain}/lists/signed:v1`);
  });
});

describe('rm', () => {
  it('removes lists, not their images', async () => {
    const id = (await sb.runCli(0, 'manifest', 'create', 'doomed', BUSYBOX)).stdout.trim();
    const r = await sb.runCli(0, 'manifest', 'rm', 'doomed');
    expect(r.stdout).toBe(`Untagged: localhost/doomed:latest\nDeleted: ${id}\n`);
    await sb.runCli(1, 'manifest', 'exists', 'doomed');
    await sb.runCli(0, 'image', 'exists', BUSYBOX);
    expect(await failure(1, 'manifest', 'rm', 'doomed')).toMatch(/doomed: image not known/);
    expect(await failure(125, 'manifest', 'rm', BUSYBOX)).toMatch(/image is not a manifest list/);
    // rmi takes a list too; tag names it again.
    await sb.runCli(0, 'tag', 'remote', 'remote-again');
    await sb.runCli(0, 'manifest', 'exists', 'remote-again');
    await sb.runCli(0, 'rmi', 'remote', 'remote-again');
    await sb.runCli(1, 'manifest', 'exists', 'remote');
  });
});

describe('a misbehaving or unusual registry', () => {
  let reg: HostileRegistry;
  beforeAll(async () => {
    reg = await startHostileRegistry();
  });
  afterAll(async () => {
    await reg.stop();
  });

  it('refuses a remote index larger than 4 MiB, reading no further, and leaves the list as it was', async () => {
    const entry = JSON.stringify({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 1 });
    const path = '/v2/huge/index/manifests/latest';
    reg.route(path, endless(`{"schemaVersion":2,"mediaType":"${OCI_INDEX}","manifests":[`, `${entry},`, { 'content-type': OCI_INDEX }));
    await sb.runCli(0, 'manifest', 'create', 'bounded');
    const line = await failure(125, 'manifest', 'add', '--all', 'bounded', `docker://${reg.host}/huge/index`);
    expect(line).toMatch(/^Error: manifest huge\/index:latest from registry 127\.0\.0\.1:\d+ is larger than 4 MiB, the limit for it: refusing to read it$/);
    expect(reg.sent(path)).toBeLessThan(64 * 1024 * 1024);
    expect((await inspect('bounded')).manifests).toEqual([]);
  });

  it('refuses --compression-format gzip for a zstd layer it would have to recompress', async () => {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: `sha256:${'b'.repeat(64)}`, size: 10 }],
    });
    const type = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
    reg.route('/v2/zstd/image/manifests/latest', fixed(manifest, type));
    reg.route(`/v2/zstd/image/manifests/${sha256(manifest)}`, fixed(manifest, type));
    reg.route(`/v2/zstd/image/blobs/${sha256(config)}`, fixed(config));
    await sb.runCli(0, 'manifest', 'create', 'zstdlist', `docker://${reg.host}/zstd/image`);
    const line = await failure(125, 'manifest', 'push', '--compression-format', 'gzip', 'zstdlist', `${plain}/lists/zstd:v1`);
    expect(line).toMatch(/layer sha256:b{64} of .* is zstd-compressed and skiff does not recompress layers/);
    expect(() => remoteRaw(`${plain}/lists/zstd:v1`)).toThrow();
    // Refused before anything was sent: not even the config blob went.
    expect((await fetch(`http://${plain}/v2/lists/zstd/blobs/${sha256(config)}`, { method: 'HEAD' })).status).toBe(404);
  });
});
