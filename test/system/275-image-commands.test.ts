// The image commands and flags beyond pull/push/save/load basics, against real loopback registries:
// pull --all-tags, push --format/--compression-format and the signing flags, --cert-dir with a
// registry that wants a client certificate, login --get-login/--verbose, image diff, image tree,
// image mount/unmount (and rmi of a mounted image), rmi --no-prune, image prune --filter, search
// --filter/--compatible, import --arch/--os/--variant, images --filter label/before/since.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildHelpers } from '../helpers/build.js';
import { testIds, useSandbox } from '../helpers/cli.js';
import { makeTar } from '../helpers/layers.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const basic = inject('basicRegistry');
const IMG = `${plain}/skiff/busybox`;

const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const hasZstd = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v zstd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// One error line (progress lines such as "Trying to pull" aside).
const oneLine = (stderr: string) => expect(stderr.split('\n').filter((l) => l && !l.startsWith('Trying to pull'))).toHaveLength(1);

const sb = useSandbox('image-commands', { pull: [IMG] });
const b = buildHelpers(sb);
let busyboxId: string;
beforeAll(async () => {
  busyboxId = (await b.inspect(IMG)).Id;
});
const imagesAll = async () =>
  (await sb.runCli(0, 'images', '-a', '-q', '--no-trunc')).stdout
    .split('\n')
    .filter(Boolean)
    .map((i) => i.replace(/^sha256:/, ''))
    .sort();

describe('pull and push flags', () => {
  it('pulls every tag of a repository with --all-tags, and several images at once', async () => {
    await sb.runCli(0, 'push', IMG, `${plain}/alltags/bb:one`);
    await sb.runCli(0, 'push', IMG, `${plain}/alltags/bb:two`);
    const all = await sb.runCli(0, 'pull', '-q', '--all-tags', `${plain}/alltags/bb`);
    expect(all.stdout).toBe(`${busyboxId}\n`);
    const names = (await sb.runCli(0, 'images', '--format', '{{.Repository}}:{{.Tag}}')).stdout.split('\n');
    expect(names.filter((n) => n.includes('/alltags/')).sort()).toEqual([`${plain}/alltags/bb:one`, `${plain}/alltags/bb:two`]);
    const tagged = await sb.run(['pull', '--all-tags', `${plain}/alltags/bb:one`]);
    expect(tagged.code).toBe(125);
    expect(tagged.stderr).toMatch(/--all-tags takes a repository without a tag or digest/);
    const archive = await sb.run(['pull', '-a', 'docker-archive:/nonexistent.tar']);
    expect(archive.stderr).toMatch(/pulling all tags is not supported for the docker-archive transport/);
    // --variant picks from an index by the architecture's variant (the fixture's entries name none).
    const variant = await sb.run(['pull', '--arch', 'arm64', '--variant', 'v8', `${plain}/skiff/multi`]);
    expect(variant.code).toBe(125);
    expect(variant.stderr).toMatch(/no image for platform linux\/arm64\/v8 \(the image offers: linux\/amd64, linux\/arm64\)/);
    const conflict = await sb.run(['pull', '--platform', 'linux/arm64', '--arch', 'arm64', `${plain}/skiff/multi`]);
    expect(conflict.stderr).toMatch(/--platform and --arch conflict/);
    const two = await sb.runCli(0, 'pull', '-q', `${plain}/alltags/bb:one`, `${plain}/skiff/busybox-oci:1.0`);
    expect(two.stdout.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('pushes as OCI or Docker schema 2, gzip or zstd, and refuses to sign', async () => {
    await sb.runCli(0, 'push', '--format', 'oci', IMG, `${plain}/formats/bb:oci`);
    const oci = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${plain}/formats/bb:oci`));
    expect(oci.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(oci.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(Array(2).fill('application/vnd.oci.image.layer.v1.tar+gzip'));
    await sb.runCli(0, 'push', '-f', 'v2s2', IMG, `${plain}/formats/bb:v2s2`);
    const docker = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${plain}/formats/bb:v2s2`));
    expect(docker.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const zstd = await sb.run(['push', '--compression-format', 'zstd', '--remove-signatures', IMG, `${plain}/formats/bb:zstd`]);
    if (hasZstd) {
      expect(zstd.code).toBe(0);
      const raw = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${plain}/formats/bb:zstd`));
      expect(raw.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(raw.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(Array(2).fill('application/vnd.oci.image.layer.v1.tar+zstd'));
      // skopeo checks every blob's digest on the way.
      const out = mkdtempSync(join(tmpdir(), 'skiff-zstd-'));
      try {
        skopeo('copy', '--src-tls-verify=false', `docker://${plain}/formats/bb:zstd`, `dir:${out}/copy`);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    } else {
      expect(zstd.code).toBe(125);
      expect(zstd.stderr).toMatch(/zstd compression needs the zstd program: install it/);
    }
    const refusals: [string[], RegExp][] = [
      [['--sign-by', 'me@example.com'], /--sign-by: skiff does not sign images/],
      [['--sign-by-sigstore-private-key', '/k'], /--sign-by-sigstore-private-key: skiff does not sign images/],
      [['--sign-passphrase-file', '/p'], /--sign-passphrase-file: skiff does not sign images/],
      [['--format', 'v2s1'], /Docker schema 1 is deprecated/],
      [['--format', 'v2s2', '--compression-format', 'zstd'], /zstd-compressed layers need an OCI manifest/],
    ];
    for (const [flags, message] of refusals) {
      const r = await sb.run(['push', ...flags, IMG, `${plain}/formats/bb:refused`]);
      expect(r.code, flags.join(' ')).toBe(125);
      expect(r.stderr).toMatch(message);
      oneLine(r.stderr);
    }
    await sb.runCli(125, 'manifest', 'inspect', `${plain}/formats/bb:refused`);
  });
});

describe('--cert-dir', () => {
  let reg: Registry;
  let dir: string;
  const certs = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-certs-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      certs('client-ca.key'),
      '-out',
      certs('client-ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=client-ca',
    );
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', certs('client.key'), '-out', certs('client.csr'), '-subj', '/CN=skiff-client');
    ssl(
      'x509',
      '-req',
      '-in',
      certs('client.csr'),
      '-CA',
      certs('client-ca.crt'),
      '-CAkey',
      certs('client-ca.key'),
      '-CAcreateserial',
      '-out',
      certs('client.cert'),
      '-days',
      '2',
    );
    reg = await startRegistry({ tls: true, clientCaFile: certs('client-ca.crt') });
    for (const sub of ['full', 'ca-only', 'no-key']) mkdirSync(certs(sub));
    for (const sub of ['full', 'ca-only', 'no-key']) writeFileSync(certs(`${sub}/ca.crt`), readFileSync(reg.caFile!));
    writeFileSync(certs('full/client.cert'), readFileSync(certs('client.cert')));
    writeFileSync(certs('full/client.key'), readFileSync(certs('client.key')));
    writeFileSync(certs('no-key/client.cert'), readFileSync(certs('client.cert')));
    execFileSync('chown', ['-R', `${testIds().uid}:${testIds().gid}`, dir]);
    chmodSync(dir, 0o755);
  });
  afterAll(async () => {
    await reg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the CA and presents the client certificate of the directory given', async () => {
    await sb.runCli(0, 'push', '--cert-dir', certs('full'), IMG, `${reg.host}/cert/busybox:1`);
    const pulled = await sb.runCli(0, 'pull', '-q', '--cert-dir', certs('full'), `${reg.host}/cert/busybox:1`);
    expect(pulled.stdout).toBe(`${busyboxId}\n`);
    const login = await sb.runCli(
      0,
      'login',
      '--cert-dir',
      certs('full'),
      '-v',
      '-u',
      'someone',
      '-p',
      'pw',
      '--authfile',
      join(sb.home, 'auth.json'),
      reg.host,
    );
    expect(login.stdout).toBe(`Used:  ${join(sb.home, 'auth.json')}\nLogin Succeeded!\n`);
    // No CA: the registry's certificate is not trusted; a CA but no client pair: the registry hangs up.
    const untrusted = await sb.run(['pull', `${reg.host}/cert/busybox:1`]);
    expect(untrusted.code).toBe(125);
    expect(untrusted.stderr).toMatch(/TLS verification failed for registry/);
    const noClient = await sb.run(['pull', '--cert-dir', certs('ca-only'), `${reg.host}/cert/busybox:1`]);
    expect(noClient.code).toBe(125);
    const half = await sb.run(['pull', '--cert-dir', certs('no-key'), `${reg.host}/cert/busybox:1`]);
    expect(half.code).toBe(125);
    expect(half.stderr).toMatch(/missing key client.key for client certificate .*no-key\/client.cert/);
    oneLine(half.stderr);
    const missing = await sb.run(['pull', '--cert-dir', certs('nope'), `${reg.host}/cert/busybox:1`]);
    expect(missing.stderr).toMatch(/--cert-dir .*nope: no such directory/);
  });

  it('manifest add and manifest push take --cert-dir as well', async () => {
    await sb.runCli(0, 'manifest', 'create', 'localhost/certlist:1');
    const untrusted = await sb.run(['manifest', 'add', 'localhost/certlist:1', `docker://${reg.host}/cert/busybox:1`]);
    expect(untrusted.code).toBe(125);
    expect(untrusted.stderr).toMatch(/TLS verification failed for registry/);
    await sb.runCli(0, 'manifest', 'add', '--cert-dir', certs('full'), 'localhost/certlist:1', `docker://${reg.host}/cert/busybox:1`);
    // A local image too: its blobs go as push sends them.
    await sb.runCli(0, 'manifest', 'add', 'localhost/certlist:1', `containers-storage:${IMG}`);
    expect((await sb.run(['manifest', 'push', 'localhost/certlist:1', `${reg.host}/cert/list:1`])).code).toBe(125);
    await sb.runCli(0, 'manifest', 'push', '-q', '--cert-dir', certs('full'), 'localhost/certlist:1', `${reg.host}/cert/list:1`);
    const pulled = await sb.runCli(0, 'pull', '-q', '--cert-dir', certs('full'), `${reg.host}/cert/list:1`);
    expect(pulled.stdout).toBe(`${busyboxId}\n`);
    await sb.runCli(0, 'manifest', 'rm', 'localhost/certlist:1');
  });
});

describe('login', () => {
  it('prints the stored user with --get-login', async () => {
    const authfile = join(sb.home, 'login.json');
    await sb.runCli(0, 'login', '-u', 'tester', '-p', 'secret', '--authfile', authfile, basic);
    expect((await sb.runCli(0, 'login', '--get-login', '--authfile', authfile, basic)).stdout).toBe('tester\n');
    const none = await sb.run(['login', '--get-login', '--authfile', authfile, 'quay.io']);
    expect(none).toMatchObject({ code: 125, stderr: 'Error: not logged into quay.io\n' });
  });
});

describe('layers: image diff, image tree, rmi --no-prune', () => {
  let built: string;
  beforeAll(async () => {
    const ctx = b.context('layers-ctx', {
      'a.txt': 'a\n',
      'b.txt': 'b\n',
      Containerfile: `FROM ${IMG}\nCOPY a.txt /a.txt\nRUN rm /bin/su\nCOPY b.txt /b.txt\n`,
    });
    await sb.runCli(0, 'build', '-q', '-t', 'localhost/layered:1', ctx);
    built = (await b.inspect('localhost/layered:1')).Id;
  });

  it('diffs an image against its parent and against another image', async () => {
    expect((await sb.runCli(0, 'image', 'diff', 'localhost/layered:1')).stdout).toBe('A /b.txt\n');
    const json = JSON.parse((await sb.runCli(0, 'image', 'diff', '--format', 'json', 'localhost/layered:1', IMG)).stdout);
    expect(json.added).toEqual(['/a.txt', '/b.txt']);
    expect(json.deleted).toEqual(['/bin/su']);
    const back = JSON.parse((await sb.runCli(0, 'image', 'diff', '--format', 'json', IMG, 'localhost/layered:1')).stdout);
    expect(back.added).toEqual(['/bin/su']);
    expect(back.deleted).toEqual(['/a.txt', '/b.txt']);
    await sb.runCli(125, 'image', 'diff', 'localhost/nope:1');
  });

  it('prints the layer tree as Podman does', async () => {
    const tree = (await sb.runCli(0, 'image', 'tree', 'localhost/layered:1')).stdout.split('\n');
    expect(tree.slice(0, 4)).toEqual([
      `Image ID: ${built.slice(0, 12)}`,
      'Tags:     [localhost/layered:1]',
      expect.stringMatching(/^Size: {5}\d/),
      'Image Layers',
    ]);
    expect(tree.slice(4)).toEqual([
      expect.stringMatching(/^├── ID: [0-9a-f]{12} Size: +[\d.]+[kM]?B$/),
      expect.stringMatching(new RegExp(`^├── ID: [0-9a-f]{12} Size: +[\\d.]+[kM]?B Top Layer of: \\[.*${IMG}:latest.*\\]$`)),
      expect.stringMatching(/^├── ID: [0-9a-f]{12} Size: +[\d.]+[kM]?B$/),
      expect.stringMatching(/^├── ID: [0-9a-f]{12} Size: +[\d.]+[kM]?B$/),
      expect.stringMatching(/^└── ID: [0-9a-f]{12} Size: +[\d.]+[kM]?B Top Layer of: \[localhost\/layered:1\]$/),
      '',
      '',
    ]);
    const requires = (await sb.runCli(0, 'image', 'tree', '--whatrequires', IMG)).stdout;
    expect(requires).toMatch(new RegExp(`Image Layers\\n├── ID: [0-9a-f]{12} Size: +\\S+ Top Layer of: \\[.*${IMG}:latest.*\\]\\n`));
    expect(requires).toMatch(/└── ID: [0-9a-f]{12} Size: +\S+ Top Layer of: \[localhost\/layered:1\]\n\n$/);
  });

  it('keeps the dangling parents with --no-prune and removes them without it', async () => {
    const before = await imagesAll();
    expect(before.length).toBeGreaterThan(2);
    const kept = await sb.runCli(0, 'rmi', '--no-prune', 'localhost/layered:1');
    expect(kept.stdout).toBe(`Untagged: localhost/layered:1\nDeleted: ${built}\n`);
    expect(await imagesAll()).toEqual(before.filter((i) => i !== built));
    // The build again (its steps cached), then rmi: the image and its build's steps go.
    await sb.runCli(0, 'build', '-q', '-t', 'localhost/layered:1', join(sb.home, 'layers-ctx'));
    const pruned = await sb.runCli(0, 'rmi', 'localhost/layered:1');
    const deleted = pruned.stdout.split('\n').filter((l) => l.startsWith('Deleted: '));
    expect(deleted.length).toBeGreaterThan(1);
    const left = await imagesAll();
    expect(left).toContain(busyboxId);
    for (const line of deleted) expect(left).not.toContain(line.slice(9));
  });
});

describe('image mount and unmount', () => {
  it('mounts read-only, counts mounts, and rmi unmounts what it removes', async () => {
    await sb.runCli(0, 'tag', IMG, 'localhost/mounted:1');
    const path = (await sb.runCli(0, 'image', 'mount', 'localhost/mounted:1')).stdout.trim();
    expect(path).toMatch(/\/image-mounts\/[0-9a-f]{64}\/merged$/);
    const seen = await sb.runCli(0, 'unshare', 'sh', '-c', `ls ${path}/bin; touch ${path}/x 2>/dev/null && echo writable || echo read-only`);
    expect(seen.stdout).toMatch(/busybox[\s\S]*read-only\n$/);
    expect((await sb.runCli(0, 'image', 'mount', 'localhost/mounted:1')).stdout.trim()).toBe(path);
    const listed = await sb.runCli(0, 'image', 'mount');
    expect(listed.stdout).toMatch(new RegExp(`^\\S+  ${path}\\n$`));
    const json = JSON.parse((await sb.runCli(0, 'image', 'mount', '--format', 'json')).stdout);
    expect(json).toEqual([
      { id: busyboxId, Names: [expect.stringMatching(/^sha256:/)], Repositories: expect.arrayContaining(['localhost/mounted:1']), mountpoint: path },
    ]);
    // Two mounts: the first unmount leaves it mounted, the second unmounts, a third finds nothing to do.
    expect((await sb.runCli(0, 'image', 'unmount', 'localhost/mounted:1')).stdout).toBe(`${busyboxId}\n`);
    expect((await sb.runCli(0, 'image', 'mount')).stdout).toBe(listed.stdout);
    expect((await sb.runCli(0, 'image', 'umount', 'localhost/mounted:1')).stdout).toBe(`${busyboxId}\n`);
    expect((await sb.runCli(0, 'image', 'mount')).stdout).toBe('');
    expect((await sb.runCli(0, 'image', 'unmount', 'localhost/mounted:1')).stdout).toBe('');
    expect((await sb.runCli(0, 'unshare', 'sh', '-c', `ls ${path} 2>/dev/null | wc -l`)).stdout.trim()).toBe('0');
    // --force lets go of every mount at once; --all of every image.
    await sb.runCli(0, 'image', 'mount', 'localhost/mounted:1');
    await sb.runCli(0, 'image', 'mount', 'localhost/mounted:1');
    await sb.runCli(0, 'image', 'unmount', '--force', 'localhost/mounted:1');
    expect((await sb.runCli(0, 'image', 'mount')).stdout).toBe('');
    await sb.runCli(0, 'image', 'mount', 'localhost/mounted:1');
    expect((await sb.runCli(0, 'image', 'unmount', '--all')).stdout).toBe(`${busyboxId}\n`);
    const both = await sb.run(['image', 'unmount', '--all', 'localhost/mounted:1']);
    expect(both.stderr).toMatch(/when using the --all switch, you may not pass any image names or IDs/);
    // rmi of a mounted image unmounts it (Podman's), and the layers go with the image.
    await sb.runCli(0, 'load', '-q', '-i', await saveTo('mounted.tar', 'localhost/mounted:1'));
    const ids = await imagesAll();
    await sb.runCli(0, 'image', 'mount', 'localhost/mounted:1');
    await sb.runCli(0, 'rmi', '-f', busyboxId);
    expect(await imagesAll()).toEqual(ids.filter((i) => i !== busyboxId));
    expect((await sb.runCli(0, 'image', 'mount')).stdout).toBe('');
    expect((await sb.runCli(0, 'unshare', 'sh', '-c', 'grep -c image-mounts /proc/self/mountinfo || true')).stdout.trim()).toBe('0');
    await sb.runCli(0, 'pull', '-q', IMG);
  });
});

const saveTo = async (name: string, image: string): Promise<string> => {
  const path = join(sb.dir, name);
  await sb.runCli(0, 'save', '-o', path, image);
  return path;
};

describe('filters and the rest', () => {
  it('prunes only the images its filters match; --external is accepted', async () => {
    const tar = join(sb.home, 'root.tar');
    writeFileSync(tar, await makeTar([{ path: 'f', content: 'x' }]));
    chownSync(tar, testIds().uid, testIds().gid);
    const doomed = (await sb.runCli(0, 'import', '-q', '--change', 'LABEL prune=yes', tar)).stdout.trim();
    const spared = (await sb.runCli(0, 'import', '-q', '--change', 'LABEL prune=no', '-m', 'other', tar)).stdout.trim();
    const out = await sb.runCli(0, 'image', 'prune', '--external', '--filter', 'label=prune=yes');
    expect(out.stdout).toBe(`${doomed}\n`);
    expect(await imagesAll()).toContain(spared);
    const labelled = await sb.runCli(0, 'images', '-q', '--no-trunc', '--filter', 'label=prune', '--filter', 'label!=prune=yes');
    expect(labelled.stdout).toBe(`sha256:${spared}\n`);
    const since = await sb.runCli(0, 'images', '-q', '--no-trunc', '--filter', `before=${spared}`);
    expect(since.stdout).not.toContain(spared);
    await sb.runCli(0, 'image', 'prune', '-f', '--filter', 'until=0s');
    expect(await imagesAll()).not.toContain(spared);
    const bad = await sb.run(['image', 'prune', '--filter', 'colour=red']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/invalid filter "colour=red"/);
  });

  it('keeps the names an image had for images --history', async () => {
    await sb.runCli(0, 'tag', IMG, 'localhost/hist:1', 'localhost/hist:2');
    await sb.runCli(0, 'untag', IMG, 'localhost/hist:1');
    const history = (await sb.runCli(0, 'images', '--format', '{{.History}}', 'localhost/hist:2')).stdout.trim().split(', ');
    expect(history[0]).toBe('localhost/hist:2');
    expect(history).toEqual(expect.arrayContaining([`${IMG}:latest`, 'localhost/hist:1']));
    const table = (await sb.runCli(0, 'images', '--history', 'localhost/hist:2')).stdout.split('\n');
    expect(table[0]).toMatch(/SIZE\s+HISTORY$/);
    expect(table[1]).toMatch(/localhost\/hist:1/);
    const json = JSON.parse((await sb.runCli(0, 'images', '--format', 'json', 'localhost/hist:2')).stdout);
    expect(json[0].History).toContain('localhost/hist:1');
    expect(JSON.parse((await sb.runCli(0, 'image', 'inspect', 'localhost/hist:2')).stdout)[0].NamesHistory).toContain('localhost/hist:1');
  });

  it('imports with the platform given', async () => {
    const tar = join(sb.home, 'root.tar');
    const id = (await sb.runCli(0, 'import', '-q', '--arch', 'arm64', '--os', 'linux', '--variant', 'v8', tar, 'localhost/imported:arm')).stdout.trim();
    const info = await b.inspect(id);
    expect([info.Architecture, info.Os]).toEqual(['arm64', 'linux']);
    const archive = await saveTo('imported.tar', 'localhost/imported:arm');
    const config = JSON.parse(execFileSync('tar', ['xOf', archive, `${id}.json`]).toString());
    expect(config).toMatchObject({ architecture: 'arm64', os: 'linux', variant: 'v8' });
  });

  it('searches with filters, Docker-compatible columns, and as image search', async () => {
    const compatible = await sb.runCli(0, 'image', 'search', '--compatible', `${plain}/skiff/busy`);
    expect(compatible.stdout.split('\n')[0]).toMatch(/^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\s+AUTOMATED$/);
    expect(compatible.stdout).toMatch(new RegExp(`${plain}/skiff/busybox\\s+0`));
    const official = await sb.runCli(0, 'search', '--filter', 'is-official=true', '--format', '{{.Name}}', `${plain}/skiff/busy`);
    expect(official.stdout).toBe('');
    const any = await sb.runCli(0, 'search', '--filter', 'stars=0', '--filter', 'is-automated=false', '--format', '{{.Name}}', `${plain}/skiff/busybox`);
    expect(any.stdout.split('\n')).toContain(`${plain}/skiff/busybox`);
    const bad = await sb.run(['search', '--filter', 'stars=many', `${plain}/skiff`]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/stars takes a number/);
  });
});

describe('system reset with a mounted image', () => {
  it('unmounts it and removes the store (this file runs it last)', async () => {
    const path = (await sb.runCli(0, 'image', 'mount', IMG)).stdout.trim();
    expect((await sb.runCli(0, 'unshare', 'sh', '-c', `ls ${path}/bin | wc -l`)).stdout.trim()).not.toBe('0');
    await sb.runCli(0, 'system', 'reset', '--force');
    expect(existsSync(sb.dataDir)).toBe(false);
  });
});
