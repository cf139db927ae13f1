// Image transports on pull, push, save, load, create and run: docker://, docker-archive:,
// oci-archive:, oci:, dir: and containers-storage:, read and written by skiff and checked with
// skopeo (a comparison tool here, never a part of skiff); and layouts built to attack: huge
// documents, layer tars that climb out, blobs that are symlinks out of the layout.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SKIFF, spawnAsTestUser, testIds, useSandbox } from '../helpers/cli.js';
import { makeLayer, makeTar, sha256, type EntrySpec } from '../helpers/layers.js';
import { storeContents } from '../helpers/store.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const own = (path: string) => chownSync(path, testIds().uid, testIds().gid);
const oneLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1);

const sb = useSandbox('transports', { pull: [IMG] });
const at = (name: string) => join(sb.dir, name);
let busybox: { Id: string; Digest: string; RootFS: { Layers: string[] } };
const inspect = async (ref: string) => JSON.parse((await sb.runCli(0, 'image', 'inspect', ref)).stdout)[0];
const names = async (ref: string): Promise<string[]> => (await inspect(ref)).RepoTags;

beforeAll(async () => {
  busybox = await inspect(IMG);
  await sb.runCli(0, 'tag', IMG, 'localhost/extra:1');
});

describe('save formats', () => {
  it('writes docker-archive (extra names without -m, several images with -m), oci-archive, oci-dir and docker-dir that skopeo reads', async () => {
    await sb.runCli(0, 'save', '-o', at('names.tar'), IMG, 'localhost/more:2');
    const manifest = JSON.parse(execFileSync('tar', ['xOf', at('names.tar'), 'manifest.json']).toString());
    expect(manifest).toHaveLength(1);
    expect(manifest[0].RepoTags).toEqual(['localhost/more:2', `${IMG}:latest`]);
    await sb.runCli(0, 'save', '-m', '-o', at('multi.tar'), IMG, 'localhost/extra:1');
    const multi = JSON.parse(execFileSync('tar', ['xOf', at('multi.tar'), 'manifest.json']).toString());
    expect(multi.map((e: { RepoTags: string[] }) => e.RepoTags)).toEqual([[`${IMG}:latest`], ['localhost/extra:1']]);
    expect(JSON.parse(skopeo('inspect', `docker-archive:${at('multi.tar')}:localhost/extra:1`)).Layers).toEqual(busybox.RootFS.Layers);

    await sb.runCli(0, 'save', '--format', 'oci-dir', '-o', at('ocidir'), IMG);
    expect(JSON.parse(readFileSync(at('ocidir/index.json'), 'utf8')).manifests[0].annotations['org.opencontainers.image.ref.name']).toBe(`${IMG}:latest`);
    expect(JSON.parse(skopeo('inspect', `oci:${at('ocidir')}`)).Layers).toHaveLength(2);

    await sb.runCli(0, 'save', '--format', 'docker-dir', '-o', at('dockerdir'), IMG);
    expect(readFileSync(at('dockerdir/version'), 'utf8')).toBe('Directory Transport Version: 1.1\n');
    const dirManifest = JSON.parse(skopeo('inspect', '--raw', `dir:${at('dockerdir')}`));
    expect(dirManifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(JSON.parse(skopeo('inspect', '--config', `dir:${at('dockerdir')}`)).rootfs.diff_ids).toEqual(busybox.RootFS.Layers);
    // A second save replaces a dir: layout (atomically); --compress gzips the layers.
    await sb.runCli(0, 'save', '--format', 'docker-dir', '--compress', '-o', at('dockerdir'), IMG);
    const gz = JSON.parse(skopeo('inspect', '--raw', `dir:${at('dockerdir')}`));
    expect(gz.layers.every((l: { mediaType: string }) => l.mediaType.endsWith('.tar.gzip'))).toBe(true);
  });

  it('refuses what Podman refuses, with one line and exit 125', async () => {
    const cases: [string[], RegExp][] = [
      [['save', '-m', '--format', 'oci-archive', '-o', at('x.tar'), IMG, 'localhost/extra:1'], /unsupported format "oci-archive" for saving multiple images/],
      [['save', '--compress', '-o', at('x.tar'), IMG], /--compress can only be set when --format is 'docker-dir'/],
      [['save', '--format', 'oci-dir', IMG], /--format oci-dir writes a directory: name it with --output DIR/],
    ];
    for (const [args, message] of cases) {
      const r = await sb.run(args);
      expect(r.code, args.join(' ')).toBe(125);
      expect(r.stderr).toMatch(message);
      oneLine(r.stderr);
    }
    const bogus = await sb.run(['save', '--format', 'bogus', '-o', at('x.tar'), IMG]);
    expect(bogus).toMatchObject({
      code: 125,
      stderr: expect.stringMatching(/argument 'bogus' is invalid. Allowed choices are docker-archive, oci-archive, oci-dir, docker-dir/),
    });
    mkdirSync(at('busy'));
    writeFileSync(at('busy/mine'), 'keep');
    own(at('busy'));
    const busy = await sb.run(['save', '--format', 'docker-dir', '-o', at('busy'), IMG]);
    expect(busy.code).toBe(125);
    expect(busy.stderr).toMatch(/not empty and holds no image layout/);
    expect(readdirSync(at('busy'))).toEqual(['mine']);
  });

  it('save | load keeps the names (a multi-image archive too)', async () => {
    await sb.runCli(0, 'tag', IMG, 'localhost/piped:1');
    // The pipe's far end is another store, so every name there came through the pipe.
    const other = join(sb.home, 'other-store');
    const pipe = spawnAsTestUser('sh', ['-c', `"$SKIFF" save -m localhost/piped:1 localhost/extra:1 | "$SKIFF" --root "$OTHER" load`], {
      env: { ...sb.env, SKIFF, OTHER: other },
      cwd: sb.home,
    });
    let out = '';
    let err = '';
    pipe.stdout!.on('data', (d) => (out += d));
    pipe.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => pipe.on('exit', resolve));
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toBe('Loaded image: localhost/piped:1\nLoaded image: localhost/extra:1\n');
    const listed = await sb.runCli(0, '--root', other, 'images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    expect(listed.stdout.split('\n').sort()).toEqual(['', `localhost/extra:1 ${busybox.Id.slice(0, 12)}`, `localhost/piped:1 ${busybox.Id.slice(0, 12)}`]);
    await sb.runCli(0, '--root', other, 'rmi', '-a');
  });
});

describe('pull, create and run from layouts', () => {
  it('pulls from each transport, naming the image as Podman does', async () => {
    await sb.runCli(0, 'rmi', '-f', busybox.Id);
    const pulled = await sb.runCli(0, 'pull', `docker-archive:${at('multi.tar')}:localhost/extra:1`);
    expect(pulled.stdout).toBe(`${busybox.Id}\n`);
    expect(await names(busybox.Id)).toEqual(['localhost/extra:1']);
    const ambiguous = await sb.run(['pull', `docker-archive:${at('multi.tar')}`]);
    expect(ambiguous.code).toBe(125);
    expect(ambiguous.stderr).toMatch(/holds 2 images: name one/);
    await sb.runCli(0, 'pull', '-q', `docker-archive:${at('multi.tar')}:@0`);
    expect(await names(busybox.Id)).toContain(`${IMG}:latest`);
    const past = await sb.run(['pull', `docker-archive:${at('multi.tar')}:@7`]);
    expect(past.code).toBe(125);
    expect(past.stderr).toMatch(/has no image @7: it holds 2/);

    // oci: and dir: name the image localhost/PATH; a path that makes no valid name (capitals) none.
    const lower = `/tmp/skiff-transports-${process.pid}`;
    execFileSync('cp', ['-r', at('ocidir'), `${lower}-oci`]);
    execFileSync('cp', ['-r', at('dockerdir'), `${lower}-dir`]);
    try {
      await sb.runCli(0, 'pull', '-q', `oci:${lower}-oci`);
      expect(await names(busybox.Id)).toContain(`localhost${lower}-oci:latest`);
      await sb.runCli(0, 'pull', '-q', `dir:${lower}-dir`);
      expect(await names(busybox.Id)).toContain(`localhost${lower}-dir:latest`);
    } finally {
      execFileSync('rm', ['-rf', `${lower}-oci`, `${lower}-dir`]);
    }
    // (A path with capitals whatever the sandbox's random name is.)
    const capitals = `${lower}-OCI`;
    execFileSync('cp', ['-r', at('ocidir'), capitals]);
    const before = await names(busybox.Id);
    try {
      expect((await sb.runCli(0, 'pull', `oci:${capitals}`)).stdout).toBe(`${busybox.Id}\n`);
    } finally {
      execFileSync('rm', ['-rf', capitals]);
    }
    expect(await names(busybox.Id)).toEqual(before);
    await sb.runCli(0, 'save', '--format', 'oci-archive', '-o', at('oci.tar'), `${IMG}:latest`);
    await sb.runCli(0, 'rmi', '-f', busybox.Id);
    await sb.runCli(0, 'pull', '-q', `oci-archive:${at('oci.tar')}`);
    expect(await names(busybox.Id)).toEqual([`${IMG}:latest`]);
    // docker:// is a registry; containers-storage: the local store.
    await sb.runCli(0, 'pull', '-q', `docker://${IMG}`);
    expect((await sb.runCli(0, 'pull', '-q', `containers-storage:${IMG}`)).stdout).toBe(`${busybox.Id}\n`);
    const noTransport = await sb.run(['pull', 'oci:']);
    expect(noTransport.code).toBe(125);
    expect(noTransport.stderr).toMatch(/invalid image reference "oci:": it names no path/);
  });

  it('creates and runs containers from an archive and a directory', async () => {
    await sb.runCli(0, 'rmi', '-f', busybox.Id);
    const run = await sb.runCli(0, 'run', '--rm', `docker-archive:${at('names.tar')}:localhost/more:2`, 'sh', '-c', 'echo from-archive');
    expect(run.stdout).toBe('from-archive\n');
    expect(await names(busybox.Id)).toEqual(['localhost/more:2']);
    const created = (await sb.runCli(0, 'create', `oci:${at('ocidir')}`, 'true')).stdout.trim();
    const ctr = JSON.parse((await sb.runCli(0, 'container', 'inspect', created)).stdout)[0];
    expect(ctr.Image.replace(/^sha256:/, '')).toBe(busybox.Id);
    await sb.runCli(0, 'rm', created);
    const fromDocker = await sb.runCli(0, 'run', '--rm', `docker://${IMG}`, 'sh', '-c', 'echo registry');
    expect(fromDocker.stdout).toBe('registry\n');
  });
});

describe('push to layouts', () => {
  it('pushes into each layout, in the formats asked for', async () => {
    await sb.runCli(0, 'push', IMG, `oci-archive:${at('pushed-oci.tar')}:mine`);
    expect(JSON.parse(skopeo('inspect', `oci-archive:${at('pushed-oci.tar')}:mine`)).Layers).toHaveLength(2);
    await sb.runCli(0, 'push', IMG, `docker-archive:${at('pushed.tar')}:localhost/pushed:1`);
    expect(JSON.parse(execFileSync('tar', ['xOf', at('pushed.tar'), 'manifest.json']).toString())[0].RepoTags).toEqual(['localhost/pushed:1']);
    await sb.runCli(0, 'push', '--digestfile', at('digest'), IMG, `oci:${at('ocidir')}:second`);
    const index = JSON.parse(readFileSync(at('ocidir/index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual([
      `${IMG}:latest`,
      'second',
    ]);
    expect(readFileSync(at('digest'), 'utf8')).toBe(index.manifests[1].digest);
    await sb.runCli(0, 'push', '--format', 'oci', IMG, `dir:${at('pushed-dir')}`);
    expect(JSON.parse(skopeo('inspect', '--raw', `dir:${at('pushed-dir')}`)).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    await sb.runCli(0, 'push', IMG, 'containers-storage:localhost/stored:1');
    expect(await names(busybox.Id)).toContain('localhost/stored:1');
    // What was pushed into a layout comes back as the same image.
    await sb.runCli(0, 'rmi', '-f', busybox.Id);
    await sb.runCli(0, 'pull', '-q', `oci:${at('ocidir')}:second`);
    expect((await inspect(busybox.Id)).Id).toBe(busybox.Id);
    await sb.runCli(0, 'pull', '-q', IMG);
  });
});

describe('hostile layouts', () => {
  let layer: { tar: Buffer; gz: Buffer; diffId: string; digest: string };
  let config: Buffer;
  beforeAll(async () => {
    layer = await makeLayer([{ path: 'hello', content: 'hi\n' }]);
    config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] }, config: {} }));
  });
  const ociManifest = (layers: { digest: string; size: number }[], cfg = config) =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: cfg.length },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
      }),
    );
  // An OCI layout as entries: the layout file, the index naming `manifest`, and the blobs given.
  const ociEntries = (manifest: Buffer, blobs: EntrySpec[], index?: string): EntrySpec[] => [
    { path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    {
      path: 'index.json',
      content:
        index ??
        JSON.stringify({
          schemaVersion: 2,
          manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length }],
        }),
    },
    { path: 'blobs/', type: 'directory' },
    { path: 'blobs/sha256/', type: 'directory' },
    { path: `blobs/sha256/${sha256(manifest).slice(7)}`, content: manifest },
    { path: `blobs/sha256/${sha256(config).slice(7)}`, content: config },
    ...blobs,
  ];
  const archive = async (name: string, entries: EntrySpec[]) => {
    const path = at(name);
    writeFileSync(path, await makeTar(entries));
    own(path);
    return path;
  };

  it('refuses an oci-archive whose index or manifest is huge, and a docker-archive whose manifest.json is', async () => {
    const before = storeContents(sb.dataDir);
    const hugeIndex = await archive('huge-index.tar', ociEntries(ociManifest([]), [], `{"manifests":[${' '.repeat(2 << 20)}]}`));
    let r = await sb.run(['pull', `oci-archive:${hugeIndex}`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/archive member "index.json" is larger than 1 MiB, the limit for it/);
    const bigManifest = Buffer.from(JSON.stringify({ schemaVersion: 2, pad: ' '.repeat(5 << 20) }));
    const hugeManifest = await archive('huge-manifest.tar', ociEntries(bigManifest, []));
    r = await sb.run(['pull', `oci-archive:${hugeManifest}`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/is larger than 4 MiB, the limit for it/);
    const hugeDocker = await archive('huge-docker.tar', [{ path: 'manifest.json', content: `[${' '.repeat(2 << 20)}]` }]);
    r = await sb.run(['pull', `docker-archive:${hugeDocker}`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/archive member "manifest.json" is larger than 1 MiB/);
    oneLine(r.stderr);
    expect(storeContents(sb.dataDir)).toEqual(before);
  });

  it('refuses layers that climb out of the layer, storing nothing', async () => {
    const outside = join(sb.home, 'outside');
    mkdirSync(outside, { recursive: true });
    own(outside);
    const attacks: [string, EntrySpec[]][] = [
      ['dotdot', [{ path: '../../../escaped-dotdot', content: 'x' }]],
      [
        'symlink',
        [
          { path: 'link', type: 'symlink', target: outside },
          { path: 'link/escaped-symlink', content: 'x' },
        ],
      ],
    ];
    const before = storeContents(sb.dataDir);
    for (const [name, entries] of attacks) {
      const tar = await makeTar(entries);
      const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, config: {} }));
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(cfg), size: cfg.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(tar), size: tar.length }],
        }),
      );
      const entriesOci: EntrySpec[] = [
        { path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
        {
          path: 'index.json',
          content: JSON.stringify({
            schemaVersion: 2,
            manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length }],
          }),
        },
        { path: `blobs/sha256/${sha256(manifest).slice(7)}`, content: manifest },
        { path: `blobs/sha256/${sha256(cfg).slice(7)}`, content: cfg },
        { path: `blobs/sha256/${sha256(tar).slice(7)}`, content: tar },
      ];
      const ociPath = await archive(`${name}-oci.tar`, entriesOci);
      const r = await sb.run(['pull', `oci-archive:${ociPath}`]);
      expect(r.code, name).toBe(125);
      const docker = await archive(`${name}-docker.tar`, [
        { path: 'manifest.json', content: JSON.stringify([{ Config: 'config.json', RepoTags: [`localhost/evil:${name}`], Layers: ['layer.tar'] }]) },
        { path: 'config.json', content: cfg },
        { path: 'layer.tar', content: tar },
      ]);
      const d = await sb.run(['pull', `docker-archive:${docker}`]);
      expect(d.code, name).toBe(125);
      oneLine(d.stderr);
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(sb.dir, 'escaped-dotdot'))).toBe(false);
    expect(storeContents(sb.dataDir)).toEqual(before);
    // An absolute name is taken inside the layer, as tar does.
    const tar = await makeTar([{ path: `${outside}/inside`, content: 'x' }]);
    const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, config: {} });
    const absolute = await archive('absolute.tar', [
      { path: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: ['localhost/absolute:1'], Layers: ['l.tar'] }]) },
      { path: 'c.json', content: cfg },
      { path: 'l.tar', content: tar },
    ]);
    await sb.runCli(0, 'pull', '-q', `docker-archive:${absolute}`);
    expect(readdirSync(outside)).toEqual([]);
    await sb.runCli(0, 'create', '--name', 'absolute', 'localhost/absolute:1', '/x');
    await sb.runCli(0, 'cp', `absolute:${outside}/inside`, join(sb.home, 'got'));
    expect(readFileSync(join(sb.home, 'got'), 'utf8')).toBe('x');
    await sb.runCli(0, 'rm', 'absolute');
    await sb.runCli(0, 'rmi', 'localhost/absolute:1');
  });

  it('never reads a blob through a symlink out of an oci: directory', async () => {
    const secret = join(sb.home, 'secret');
    writeFileSync(secret, layer.tar);
    own(secret);
    const dir = at('evil-oci');
    const manifest = ociManifest([{ digest: layer.diffId, size: layer.tar.length }]);
    mkdirSync(dir);
    for (const e of ociEntries(manifest, [])) {
      const path = join(dir, e.path);
      if (e.type === 'directory') mkdirSync(path, { recursive: true });
      else writeFileSync(path, e.content as string | Buffer);
    }
    // The layer's blob is a symlink to a file outside the layout (which holds the very bytes it names).
    symlinkSync(secret, join(dir, 'blobs/sha256', layer.diffId.slice(7)));
    execFileSync('chown', ['-R', `${testIds().uid}:${testIds().gid}`, dir]);
    const r = await sb.run(['pull', `oci:${dir}`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(new RegExp(`directory ${dir} lacks "blobs/sha256/${layer.diffId.slice(7)}"`));
    oneLine(r.stderr);
    expect((await sb.runCli(0, 'images', '--format', '{{.Repository}}')).stdout).not.toMatch(/evil-oci/);
  });
});
