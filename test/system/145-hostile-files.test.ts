// Attacks on the user's own files through the paths skiff reads and writes for them: a running
// container that swaps a directory for a symlink to the user's home while `cp` writes into it or
// reads from it, symlinks an earlier `cp` left on the host, archives whose members are symlinks,
// hardlinks, devices or too large (`load`, `import`), and an image's /etc/passwd that points at the
// host's. Each attack must leave the user's files as they were.
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { testIds, useSandbox } from '../helpers/cli.js';
import { makeLayer, makeTar, type EntrySpec } from '../helpers/layers.js';
import { buildImage, pushImage } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const own = (path: string) => chownSync(path, testIds().uid, testIds().gid);
// Files and directories made by root for the test user.
const file = (path: string, content: string) => {
  writeFileSync(path, content);
  own(path);
};
const dir = (path: string) => {
  mkdirSync(path, { recursive: true });
  own(path);
};
const tree = (path: string): string[] =>
  readdirSync(path, { recursive: true, encoding: 'utf8' })
    .map((p) => String(p))
    .sort();
const oneLineError = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1);

const sb = useSandbox('hostile', { pull: [IMG] });

describe('cp against a container that changes its tree', () => {
  it("never writes into the user's files while the container flips its destination between a directory and a symlink", async () => {
    const victim = join(sb.home, 'victim');
    dir(victim);
    const payload = join(sb.home, 'payload');
    dir(payload);
    for (let i = 0; i < 150; i++) file(join(payload, `f${i}`), `payload ${i}\n`);
    dir(join(payload, 'sub'));
    for (let i = 0; i < 50; i++) file(join(payload, 'sub', `g${i}`), 'deep\n');
    // /t/d is a directory one moment and a symlink to the victim's host path the next.
    const flip = `mkdir -p /t/d; while :; do mv /t/d /t/x; ln -s ${victim} /t/d; rm /t/d; mv /t/x /t/d; done`;
    await sb.runCli(0, 'run', '-d', '--name', 'flipper', IMG, 'sh', '-c', flip);
    const codes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await sb.run(['cp', payload, 'flipper:/t/d/']);
      codes.push(r.code);
      if (r.code !== 0) {
        expect(r.code).toBe(125);
        oneLineError(r.stderr);
      }
      const contents = await sb.run(['cp', `${payload}/.`, 'flipper:/t/d']);
      codes.push(contents.code);
      expect(tree(victim)).toEqual([]);
    }
    expect(codes.every((c) => c === 0 || c === 125)).toBe(true);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'flipper');
  });

  it("never reads the user's files while the container flips a directory it copies out for a symlink", async () => {
    const secrets = join(sb.home, 'secrets');
    dir(secrets);
    for (let i = 0; i < 100; i++) file(join(secrets, `s${i}`), 'host secret\n');
    // /data/d holds files of the same names as the user's secrets, and is now and then a symlink to them.
    const setup = 'mkdir -p /data/d; for i in $(seq 0 99); do echo inside > /data/d/s$i; done';
    const flip = `${setup}; while :; do mv /data/d /data/x; ln -s ${secrets} /data/d; rm /data/d; mv /data/x /data/d; done`;
    await sb.runCli(0, 'run', '-d', '--name', 'reader', IMG, 'sh', '-c', flip);
    let copied = 0;
    for (let i = 0; i < 20; i++) {
      const out = join(sb.home, `out${i}`);
      dir(out);
      const r = await sb.run(['cp', 'reader:/data', out]);
      expect([0, 125]).toContain(r.code);
      for (const name of existsSync(join(out, 'data')) ? tree(join(out, 'data')) : []) {
        const path = join(out, 'data', name);
        // A symlink copied as a symlink is fine; only what was written as a file counts.
        if (realpathSync(path).startsWith(`${out}/`) && lstatSync(path).isFile()) {
          copied++;
          expect(readFileSync(path, 'utf8')).not.toContain('host secret');
        }
      }
    }
    expect(copied).toBeGreaterThan(0);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'reader');
  });

  it("diff never lists the user's file names while the container flips a directory for a symlink", async () => {
    const names = join(sb.home, 'names');
    dir(names);
    for (let i = 0; i < 20; i++) file(join(names, `host-only-${i}`), '');
    const flip = `mkdir -p /t/d; for i in $(seq 0 50); do touch /t/d/f$i; done; while :; do mv /t/d /t/x; ln -s ${names} /t/d; rm /t/d; mv /t/x /t/d; done`;
    await sb.runCli(0, 'run', '-d', '--name', 'differ', IMG, 'sh', '-c', flip);
    for (let i = 0; i < 20; i++) {
      const r = await sb.run(['diff', 'differ']);
      expect(r.stdout).not.toMatch(/host-only/);
      expect(r.code).toBe(0);
    }
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'differ');
  });

  it('replaces, never follows, a symlink that an earlier cp out left on the host', async () => {
    const victimFile = join(sb.home, 'victim.txt');
    file(victimFile, 'untouched\n');
    const victimDir = join(sb.home, 'victim-dir');
    dir(victimDir);
    // First the container holds links to the user's files; the first cp copies them out as links.
    await sb.runCli(0, 'run', '--name', 'planter', IMG, 'sh', '-c', `mkdir /pl && ln -s ${victimFile} /pl/f && ln -s ${victimDir} /pl/d`);
    const out = join(sb.home, 'planted');
    dir(out);
    await sb.runCli(0, 'cp', 'planter:/pl/.', out);
    expect(lstatSync(join(out, 'f')).isSymbolicLink()).toBe(true);
    // Then the same names are a file and a directory with content, and the user copies again.
    await sb.runCli(0, 'commit', '-q', 'planter', 'localhost/planted:1');
    await sb.runCli(
      0,
      'run',
      '--name',
      'planter2',
      'localhost/planted:1',
      'sh',
      '-c',
      'rm /pl/f /pl/d && echo pwned > /pl/f && chmod 777 /pl/f && mkdir /pl/d && echo pwned > /pl/d/new',
    );
    await sb.runCli(0, 'cp', 'planter2:/pl/.', out);
    expect(readFileSync(victimFile, 'utf8')).toBe('untouched\n');
    expect(statSync(victimFile).mode & 0o777).toBe(0o644);
    expect(tree(victimDir)).toEqual([]);
    expect(lstatSync(join(out, 'f')).isFile()).toBe(true);
    expect(readFileSync(join(out, 'f'), 'utf8')).toBe('pwned\n');
    expect(readFileSync(join(out, 'd', 'new'), 'utf8')).toBe('pwned\n');
    await sb.runCli(0, 'rm', 'planter', 'planter2');
    await sb.runCli(0, 'rmi', 'localhost/planted:1');
  });

  it('names container paths, never store paths, in its errors', async () => {
    await sb.runCli(0, 'create', '--name', 'quiet', IMG);
    const source = join(sb.home, 'source.txt');
    file(source, 'x\n');
    const r = await sb.run(['cp', 'quiet:/no/such/file', sb.home]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/\/no\/such\/file: no such file or directory in container quiet/);
    expect(r.stderr).not.toMatch(/containers\/[0-9a-f]{64}/);
    const into = await sb.run(['cp', source, 'quiet:/no/such/dir/x']);
    expect(into.code).toBe(125);
    expect(into.stderr).toMatch(/destination directory \/no\/such\/dir does not exist in container quiet/);
    // A trailing slash names a directory; a destination that cannot be written fails, and at once.
    const slash = await sb.run(['cp', source, 'quiet:/etc/passwd/']);
    expect(slash.code).toBe(125);
    expect(slash.stderr).toMatch(/\/etc\/passwd\/: not a directory in container quiet/);
    const proc = await sb.run(['cp', 'quiet:/etc/passwd', '/proc/x'], { timeoutMs: 20_000 });
    expect(proc.code).toBe(125);
    oneLineError(proc.stderr);
    await sb.runCli(0, 'rm', 'quiet');
  });
});

// A docker-archive (manifest.json, config, layer tars) or oci-archive built from entries.
const archive = async (name: string, entries: EntrySpec[]): Promise<string> => {
  const path = join(sb.home, name);
  writeFileSync(path, await makeTar(entries));
  own(path);
  return path;
};
const json = (path: string, value: unknown): EntrySpec => ({ path, content: JSON.stringify(value) });

describe('load and import of hostile archives', () => {
  let layerTar: Buffer;
  let config: string;
  beforeAll(async () => {
    const layer = await makeLayer([{ path: 'hello', content: 'hi\n' }]);
    layerTar = layer.tar;
    config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.diffId] }, config: {} });
  });
  const manifest = (tag: string, configName = 'config.json', layers = ['layer.tar']) =>
    json('manifest.json', [{ Config: configName, RepoTags: [tag], Layers: layers }]);
  const images = async () => (await sb.runCli(0, 'images', '--format', '{{.Repository}}:{{.Tag}}')).stdout;

  it('loads a docker-archive whose repeated layer is a symlink to another member', async () => {
    const path = await archive('dedup.tar', [
      manifest('localhost/dedup:1', 'config.json', ['a/layer.tar']),
      { path: 'config.json', content: config },
      { path: 'b/', type: 'directory' },
      { path: 'b/layer.tar', content: layerTar },
      { path: 'a/', type: 'directory' },
      { path: 'a/layer.tar', type: 'symlink', target: '../b/layer.tar' },
    ]);
    await sb.runCli(0, 'load', '-q', '-i', path);
    await sb.runCli(0, 'create', '--name', 'dedup', 'localhost/dedup:1', '/hello');
    await sb.runCli(0, 'cp', 'dedup:/hello', join(sb.home, 'hello'));
    expect(readFileSync(join(sb.home, 'hello'), 'utf8')).toBe('hi\n');
    await sb.runCli(0, 'rm', 'dedup');
  });

  it('never reads a host file through a member that is a symlink', async () => {
    const creds = join(sb.home, '.docker', 'config.json');
    dir(join(sb.home, '.docker'));
    file(creds, JSON.stringify({ auths: { 'registry.example': { auth: 'c2VjcmV0OnNlY3JldA==' } }, rootfs: { type: 'layers', diff_ids: [] } }));
    const cases: [string, EntrySpec[], RegExp][] = [
      [
        'config.tar',
        [manifest('localhost/evil:config'), { path: 'config.json', type: 'symlink', target: creds }, { path: 'layer.tar', content: layerTar }],
        /archive lacks "config.json"/,
      ],
      [
        'zero.tar',
        [manifest('localhost/evil:zero'), { path: 'config.json', content: config }, { path: 'layer.tar', type: 'symlink', target: '/dev/zero' }],
        /archive lacks "layer.tar"/,
      ],
      [
        'manifest.tar',
        [
          { path: 'manifest.json', type: 'symlink', target: creds },
          { path: 'config.json', content: config },
        ],
        /neither a docker-archive|archive lacks/,
      ],
      ['dotdot.tar', [manifest('localhost/evil:dotdot', '../../.docker/config.json'), { path: 'layer.tar', content: layerTar }], /archive lacks/],
      [
        'hardlink.tar',
        [manifest('localhost/evil:hard'), { path: 'config.json', type: 'link', target: creds }, { path: 'layer.tar', content: layerTar }],
        /hardlink target .* is not in this layer|refusing/,
      ],
      [
        'device.tar',
        [manifest('localhost/evil:dev'), { path: 'config.json', type: 'character-device', devmajor: 1, devminor: 5 }, { path: 'layer.tar', content: layerTar }],
        /archive lacks "config.json"|not a regular file/,
      ],
      [
        'oci.tar',
        [
          { path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
          { path: 'index.json', type: 'symlink', target: creds },
        ],
        /archive lacks "index.json"|neither/,
      ],
    ];
    for (const [name, entries, message] of cases) {
      const r = await sb.run(['load', '-i', await archive(name, entries)], { timeoutMs: 30_000 });
      expect(r.code, name).toBe(125);
      expect(r.stderr, name).toMatch(message);
      oneLineError(r.stderr);
    }
    expect(await images()).not.toMatch(/evil/);
    // An archive that brings the credentials file as its own config member is no image either.
    const own = await sb.run([
      'load',
      '-i',
      await archive('creds.tar', [
        manifest('localhost/evil:creds'),
        { path: 'config.json', content: readFileSync(creds, 'utf8') },
        { path: 'layer.tar', content: layerTar },
      ]),
    ]);
    expect(own.code).toBe(125);
    expect(own.stderr).toMatch(/is not an image config|lists 0 layers/);
    expect(await images()).not.toMatch(/evil/);
  });

  it('refuses documents larger than their caps in an archive (its index 1 MiB, a config 4 MiB)', async () => {
    const big = ' '.repeat(5 << 20);
    const r = await sb.run(['load', '-i', await archive('big.tar', [{ path: 'manifest.json', content: `[${big}]` }])]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/archive member "manifest.json" is larger than 1 MiB, the limit for it/);
    const bigConfig = await sb.run([
      'load',
      '-i',
      await archive('bigconfig.tar', [
        manifest('localhost/evil:big'),
        { path: 'config.json', content: `${config}${big}` },
        { path: 'layer.tar', content: layerTar },
      ]),
    ]);
    expect(bigConfig.code).toBe(125);
    expect(bigConfig.stderr).toMatch(/archive member "config.json" is larger than 4 MiB, the limit for it/);
  });

  it('imports nothing outside the layer from a hostile root filesystem tarball', async () => {
    const outside = join(sb.home, 'outside');
    dir(outside);
    const cases: [string, EntrySpec[]][] = [
      ['dotdot', [{ path: '../../escaped', content: 'x' }]],
      [
        'through-link',
        [
          { path: 'link', type: 'symlink', target: outside },
          { path: 'link/escaped', content: 'x' },
        ],
      ],
      ['hardlink', [{ path: 'hard', type: 'link', target: join(outside, '..', 'victim.txt') }]],
    ];
    for (const [name, entries] of cases) {
      const r = await sb.run(['import', await archive(`import-${name}.tar`, entries), `localhost/evil:${name}`]);
      expect(r.code, name).toBe(125);
      expect(r.stderr, name).toMatch(/refusing layer entry/);
    }
    expect(tree(outside)).toEqual([]);
    expect(await images()).not.toMatch(/evil/);
    // A device node (here /dev/sda's numbers) is left out: a rootless user cannot make one, and the
    // runtime gives the container its own /dev.
    const devices = await archive('import-device.tar', [
      { path: 'dev/', type: 'directory' },
      { path: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 },
      { path: 'dev/mem', type: 'character-device', devmajor: 1, devminor: 1 },
      { path: 'hello', content: 'hi\n' },
    ]);
    await sb.runCli(0, 'import', devices, 'localhost/devices:1');
    await sb.runCli(0, 'create', '--name', 'devices', 'localhost/devices:1', '/hello');
    const out = join(sb.home, 'devices-out');
    dir(out);
    await sb.runCli(0, 'cp', 'devices:/dev/.', out);
    expect(tree(out)).toEqual([]);
    await sb.runCli(0, 'rm', 'devices');
  });
});

describe("the image's accounts", () => {
  it("resolves --user NAME in the container's /etc/passwd, even when that is a symlink to /etc/passwd", async () => {
    const base = await makeLayer([
      { path: 'etc/', type: 'directory' },
      { path: 'etc/passwd', type: 'symlink', target: '/etc/passwd' },
      { path: 'etc/group', type: 'symlink', target: '../../../../etc/group' },
    ]);
    const busybox = await makeLayer([
      { path: 'bin/', type: 'directory' },
      { path: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
    ]);
    await pushImage(plain, 'skiff/passwd-link', 'latest', buildImage([busybox, base]));
    // skifftest (and root) exist in the host's /etc/passwd; the container has no such accounts.
    const r = await sb.run(['run', '--rm', '--user', 'skifftest', `${plain}/skiff/passwd-link`, '/bin/busybox', 'id', '-u']);
    expect(r.code).toBe(126);
    expect(r.stderr).toMatch(/unable to find user skifftest/);
    const g = await sb.run(['run', '--rm', '--user', '0:skifftest', `${plain}/skiff/passwd-link`, '/bin/busybox', 'id', '-g']);
    expect(g.code).toBe(126);
    expect(g.stderr).toMatch(/unable to find group skifftest/);
  });
});
