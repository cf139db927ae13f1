// Volumes and bind mounts: data that outlives containers (owned by you on the host, root's inside),
// read-only mounts, the image's content copied into a new volume, anonymous volumes removed with
// their container only when asked, names refused before anything is made, and volumes in use kept.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { testIds, until, useSandbox } from '../helpers/cli.js';
import { makeTar } from '../helpers/layers.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const TICK = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'];

const sb = useSandbox('volumes', { pull: [IMG] });
const volumesDir = () => join(sb.dataDir, 'volumes');
const volumeNames = () => (existsSync(volumesDir()) ? readdirSync(volumesDir()).filter((n) => !n.startsWith('.')) : []);

describe('named volumes', () => {
  it('keep data across containers, owned by you on the host, shared by running containers', async () => {
    expect((await sb.runCli(0, 'volume', 'create', '--label', 'app=db', 'data')).stdout).toBe('data\n');
    await sb.runCli(0, 'run', '--rm', '-v', 'data:/data', IMG, 'sh', '-c', 'echo kept > /data/file');
    const file = join(volumesDir(), 'data', '_data', 'file');
    expect(readFileSync(file, 'utf8')).toBe('kept\n');
    expect(statSync(file).uid).toBe(testIds().uid); // root inside is you outside
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'data:/other', IMG, 'sh', '-c', 'cat /other/file; stat -c %u /other/file')).stdout).toBe('kept\n0\n');
    // Two running containers see each other's writes.
    await sb.runCli(0, 'run', '-d', '--name', 'w1', '-v', 'data:/v', IMG, ...TICK);
    await sb.runCli(0, 'run', '-d', '--name', 'w2', '--mount', 'type=volume,source=data,target=/v', IMG, ...TICK);
    await sb.runCli(0, 'exec', 'w1', 'sh', '-c', 'echo from-w1 > /v/shared');
    expect((await sb.runCli(0, 'exec', 'w2', 'sh', '-c', 'cat /v/shared')).stdout).toBe('from-w1\n');
    // In use: refused, naming the containers (volume rm -f would remove them: see 285); rm -f of a container keeps it.
    const refused = await sb.run(['volume', 'rm', 'data']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/volume data is used by containers w1, w2: remove them first, or use --force/);
    await sb.runCli(0, 'rm', '-f', '-v', 'w1', 'w2');
    expect(volumeNames()).toEqual(['data']);
    const [inspected] = JSON.parse((await sb.runCli(0, 'volume', 'inspect', 'data')).stdout);
    expect(inspected).toMatchObject({ Name: 'data', Driver: 'local', Labels: { app: 'db' }, Mountpoint: join(volumesDir(), 'data', '_data') });
    expect((await sb.runCli(0, 'volume', 'ls', '--filter', 'label=app=db', '-q')).stdout).toBe('data\n');
    expect((await sb.run(['volume', 'exists', 'data'])).code).toBe(0);
    expect((await sb.run(['volume', 'exists', 'nope'])).code).toBe(1);
    expect((await sb.runCli(0, 'volume', 'rm', 'data')).stdout).toBe('data\n');
    expect((await sb.run(['volume', 'rm', 'data'])).code).toBe(1);
    expect(volumeNames()).toEqual([]);
  });

  it('mounts read-only with :ro and --mount readonly', async () => {
    await sb.runCli(0, 'volume', 'create', 'ro');
    for (const flag of [
      ['-v', 'ro:/d:ro'],
      ['--mount', 'type=volume,src=ro,dst=/d,readonly'],
    ]) {
      const write = await sb.run(['run', '--rm', ...flag, IMG, 'sh', '-c', 'echo x > /d/f']);
      expect(write.code).not.toBe(0);
      expect(write.stdout + write.stderr).toMatch(/Read-only file system/);
    }
    expect(readdirSync(join(volumesDir(), 'ro', '_data'))).toEqual([]);
    await sb.runCli(0, 'volume', 'rm', 'ro');
  });

  it("copies the image's content into a new volume unless nocopy, and keeps what a killed container wrote", async () => {
    await sb.runCli(0, 'run', '--name', 'seedbox', IMG, 'sh', '-c', 'mkdir -p /seed && echo seeded > /seed/file && chown 33:33 /seed/file');
    await sb.runCli(0, 'commit', '-q', '-c', 'VOLUME /seed', 'seedbox', 'localhost/seeded');
    await sb.runCli(0, 'rm', 'seedbox');
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'filled:/seed', 'localhost/seeded', 'sh', '-c', 'cat /seed/file; stat -c %u /seed/file')).stdout).toBe(
      'seeded\n33\n',
    );
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'empty:/seed:nocopy', 'localhost/seeded', 'ls', '-A', '/seed')).stdout).toBe('');
    // Only a new volume is filled: one the container emptied stays empty.
    await sb.runCli(0, 'run', '--rm', '-v', 'filled:/seed', 'localhost/seeded', 'sh', '-c', 'rm /seed/file');
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'filled:/seed', 'localhost/seeded', 'ls', '-A', '/seed')).stdout).toBe('');
    // A writer killed midway: every line it wrote before the kill is still there.
    await sb.runCli(0, 'run', '-d', '--name', 'writer', '-v', 'log:/log', IMG, 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo line$i >> /log/out; done');
    const out = join(volumesDir(), 'log', '_data', 'out');
    await until(async () => existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 200);
    const before = readFileSync(out, 'utf8').split('\n').length;
    await sb.runCli(0, 'rm', '-f', 'writer');
    expect(readFileSync(out, 'utf8').split('\n').length).toBeGreaterThanOrEqual(before);
    for (const v of ['filled', 'empty', 'log']) await sb.runCli(0, 'volume', 'rm', v);
  });
});

describe('anonymous volumes', () => {
  it('come from -v /path and the image VOLUMEs; --rm and rm -v remove them, rm keeps them, prune takes unused ones', async () => {
    const start = volumeNames().length;
    await sb.runCli(0, 'run', '--rm', '-v', '/scratch', 'localhost/seeded', 'sh', '-c', 'cat /seed/file > /scratch/x');
    expect(volumeNames().length).toBe(start);
    await sb.runCli(0, 'run', '--name', 'keeps', 'localhost/seeded', 'sh', '-c', 'cat /seed/file');
    const mounts = JSON.parse((await sb.runCli(0, 'inspect', '--format', 'json', 'keeps')).stdout)[0].Mounts;
    expect(mounts).toMatchObject([{ Type: 'volume', Destination: '/seed', RW: true, Driver: 'local' }]);
    expect(volumeNames().length).toBe(start + 1);
    await sb.runCli(0, 'rm', 'keeps');
    expect(volumeNames().length).toBe(start + 1);
    await sb.runCli(0, 'run', '--name', 'drops', '--image-volume', 'tmpfs', 'localhost/seeded', 'sh', '-c', 'true');
    await sb.runCli(0, 'run', '--name', 'drops2', '-v', '/gone', IMG, 'sh', '-c', 'true');
    expect(volumeNames().length).toBe(start + 2);
    await sb.runCli(0, 'rm', '-v', 'drops', 'drops2');
    expect(volumeNames().length).toBe(start + 1);
    // prune: only what no container uses, stopped ones included.
    await sb.runCli(0, 'create', '--name', 'holder', '-v', 'held:/h', IMG, 'sh', '-c', 'true');
    const pruned = (await sb.runCli(0, 'volume', 'prune', '-f')).stdout.trim().split('\n');
    expect(pruned).toHaveLength(start + 1);
    expect(volumeNames()).toEqual(['held']);
    await sb.runCli(0, 'rm', 'holder');
    await sb.runCli(0, 'system', 'prune', '-f', '--volumes');
    expect(volumeNames()).toEqual([]);
  });
});

describe('bind mounts', () => {
  it('mount host paths (relative ones too): files you own are root inside, root’s files are yours outside', async () => {
    const src = join(sb.home, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'main.c'), 'int main;\n');
    for (const p of [src, join(src, 'main.c')]) (await import('node:fs')).chownSync(p, testIds().uid, testIds().gid);
    expect((await sb.runCli(0, 'run', '--rm', '-v', './src:/work', IMG, 'sh', '-c', 'stat -c %u /work/main.c; echo out > /work/built')).stdout).toBe('0\n');
    expect(statSync(join(src, 'built')).uid).toBe(testIds().uid);
    const ro = await sb.run(['run', '--rm', '--mount', `type=bind,source=${src},target=/work,readonly`, IMG, 'sh', '-c', 'touch /work/x']);
    expect(ro.code).not.toBe(0);
    expect(existsSync(join(src, 'x'))).toBe(false);
  });
});

describe('bad input', () => {
  it(':O lays a writable layer over a host directory: the container sees its writes, the host never, the next run neither', async () => {
    const src = join(sb.home, 'lower');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'keep'), 'host\n');
    for (const p of [src, join(src, 'keep')]) (await import('node:fs')).chownSync(p, testIds().uid, testIds().gid);
    const out = await sb.runCli(
      0,
      'run',
      '--rm',
      '-v',
      `${src}:/d:O`,
      IMG,
      'sh',
      '-c',
      'echo changed > /d/keep; touch /d/new; rm -f /d/gone; cat /d/keep; ls /d',
    );
    expect(out.stdout).toBe('changed\nkeep\nnew\n');
    expect(readFileSync(join(src, 'keep'), 'utf8')).toBe('host\n');
    expect(readdirSync(src)).toEqual(['keep']);
    // A kept container: cp goes into the overlay while it runs; a restart starts from the host's tree again.
    await sb.runCli(0, 'run', '-d', '--name', 'ov', '-v', `${src}:/d:O`, IMG, ...TICK);
    const copied = join(sb.home, 'copied');
    writeFileSync(copied, 'x');
    (await import('node:fs')).chownSync(copied, testIds().uid, testIds().gid);
    await sb.runCli(0, 'cp', copied, 'ov:/d/copied');
    expect((await sb.runCli(0, 'exec', 'ov', 'ls', '/d')).stdout).toBe('copied\nkeep\n');
    expect(readdirSync(src)).toEqual(['keep']);
    await sb.runCli(0, 'restart', '-t', '0', 'ov');
    expect((await sb.runCli(0, 'exec', 'ov', 'ls', '/d')).stdout).toBe('keep\n');
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'ov');
    // Nothing of the overlays is left mounted in skiff's namespace.
    expect(readFileSync(`/proc/${sb.pausePid()}/mountinfo`, 'utf8')).not.toMatch(/\/overlays\/\d+\/merged/);
  });

  it('refuses bad names and mounts with exit 125 before anything is made', async () => {
    const containers = (await sb.runCli(0, 'ps', '-aq')).stdout;
    for (const name of ['../x', 'a/b', '.hidden', '-x']) {
      const r = await sb.run(['volume', 'create', name]);
      expect(r.code, name).toBe(125);
    }
    for (const spec of ['a/b:/x', '../x:/x', 'data:relative', '/x:/', 'v:/x:bogus', '::']) {
      const r = await sb.run(['run', '--rm', '-v', spec, IMG, 'sh', '-c', 'true']);
      expect(r.code, spec).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const missing = await sb.run(['run', '--rm', '-v', '/no/such/dir:/x', IMG, 'sh', '-c', 'true']);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/bind mount source \/no\/such\/dir does not exist/);
    const twice = await sb.run(['run', '--rm', '-v', 'a:/x', '--tmpfs', '/x', IMG, 'sh', '-c', 'true']);
    expect(twice.stderr).toMatch(/\/x is mounted twice/);
    expect(volumeNames()).toEqual([]);
    expect((await sb.runCli(0, 'ps', '-aq')).stdout).toBe(containers);
  });
});

describe('through volumes', () => {
  it('exports and imports a volume, and an import never writes outside it', async () => {
    await sb.runCli(0, 'volume', 'create', 'ex');
    await sb.runCli(0, 'run', '--rm', '-v', 'ex:/d', IMG, 'sh', '-c', 'mkdir /d/sub && echo hi > /d/sub/f && chown 33:33 /d/sub/f');
    const archive = join(sb.home, 'ex.tar');
    await sb.runCli(0, 'volume', 'export', 'ex', '-o', archive);
    await sb.runCli(0, 'volume', 'create', 'im');
    await sb.runCli(0, 'volume', 'import', 'im', archive);
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'im:/d', IMG, 'sh', '-c', 'cat /d/sub/f; stat -c %u /d/sub/f')).stdout).toBe('hi\n33\n');
    // Hostile archives: a ".." path, and a link to the home followed by a file through it.
    const victim = join(sb.home, 'victim');
    for (const [label, entries] of [
      ['dotdot', [{ path: '../../../../victim', content: 'pwned' }]],
      [
        'link',
        [
          { path: 'out', type: 'symlink' as const, target: sb.home },
          { path: 'out/victim', content: 'pwned' },
        ],
      ],
    ] as const) {
      const tar = join(sb.home, `${label}.tar`);
      writeFileSync(tar, await makeTar([...entries]));
      const r = await sb.run(['volume', 'import', 'im', tar]);
      expect(r.code, label).toBe(125);
      expect(existsSync(victim), label).toBe(false);
    }
    for (const v of ['ex', 'im']) await sb.runCli(0, 'volume', 'rm', v);
  });

  it('cp reads and writes through volumes and bind mounts, never into a read-only one', async () => {
    const bind = join(sb.home, 'bound');
    mkdirSync(bind);
    writeFileSync(join(bind, 'host.txt'), 'from the host\n');
    for (const p of [bind, join(bind, 'host.txt')]) (await import('node:fs')).chownSync(p, testIds().uid, testIds().gid);
    await sb.runCli(0, 'run', '-d', '--name', 'cpv', '-v', 'cpvol:/vol', '-v', `${bind}:/b`, '-v', 'cpro:/ro:ro', IMG, ...TICK);
    const src = join(sb.home, 'in.txt');
    writeFileSync(src, 'copied in\n');
    (await import('node:fs')).chownSync(src, testIds().uid, testIds().gid);
    await sb.runCli(0, 'cp', src, 'cpv:/vol/');
    expect(readFileSync(join(volumesDir(), 'cpvol', '_data', 'in.txt'), 'utf8')).toBe('copied in\n');
    expect((await sb.runCli(0, 'exec', 'cpv', 'sh', '-c', 'cat /vol/in.txt')).stdout).toBe('copied in\n');
    await sb.runCli(0, 'cp', 'cpv:/b/host.txt', join(sb.home, 'back.txt'));
    expect(readFileSync(join(sb.home, 'back.txt'), 'utf8')).toBe('from the host\n');
    const ro = await sb.run(['cp', src, 'cpv:/ro/']);
    expect(ro.code).toBe(125);
    expect(ro.stderr).toMatch(/\/ro is mounted read-only/);
    await sb.runCli(0, 'rm', '-f', 'cpv');
    for (const v of ['cpvol', 'cpro']) await sb.runCli(0, 'volume', 'rm', v);
  });

  it('--volumes-from, --device and --read-only-tmpfs', async () => {
    await sb.runCli(0, 'create', '--name', 'vsrc', '-v', 'shared:/s', IMG, 'sh', '-c', 'true');
    await sb.runCli(0, 'run', '--rm', '-v', 'shared:/s', IMG, 'sh', '-c', 'echo one > /s/f');
    expect((await sb.runCli(0, 'run', '--rm', '--volumes-from', 'vsrc', IMG, 'sh', '-c', 'cat /s/f')).stdout).toBe('one\n');
    const ro = await sb.run(['run', '--rm', '--volumes-from', 'vsrc:ro', IMG, 'sh', '-c', 'echo two > /s/f']);
    expect(ro.stdout + ro.stderr).toMatch(/Read-only file system/);
    expect((await sb.run(['run', '--rm', '--volumes-from', 'nosuch', IMG, 'sh', '-c', 'true'])).code).toBe(125);
    await sb.runCli(0, 'rm', 'vsrc');
    await sb.runCli(0, 'volume', 'rm', 'shared');
    expect(
      (await sb.runCli(0, 'run', '--rm', '--device', '/dev/null:/dev/other', IMG, 'sh', '-c', 'echo x > /dev/other && stat -c %t,%T /dev/other')).stdout,
    ).toBe('1,3\n');
    expect((await sb.run(['run', '--rm', '--device', '/etc/passwd', IMG, 'sh', '-c', 'true'])).stderr).toMatch(/not a device node/);
    await sb.runCli(0, 'run', '--rm', '--read-only', IMG, 'sh', '-c', 'touch /tmp/x');
    expect((await sb.run(['run', '--rm', '--read-only', '--read-only-tmpfs=false', IMG, 'sh', '-c', 'touch /tmp/x'])).code).not.toBe(0);
  });
});

describe('volume kinds and :U', () => {
  it(':U hands the content to the container user, without following links out of the mount', async () => {
    const tree = join(sb.home, 'owned');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'sub', 'f'), 'x\n');
    const outside = join(sb.home, 'outside.txt');
    writeFileSync(outside, 'mine\n');
    const fs = await import('node:fs');
    for (const p of [tree, join(tree, 'sub'), join(tree, 'sub', 'f'), outside]) fs.chownSync(p, testIds().uid, testIds().gid);
    fs.symlinkSync(outside, join(tree, 'link'));
    fs.lchownSync(join(tree, 'link'), testIds().uid, testIds().gid);
    const out = await sb.runCli(
      0,
      'run',
      '--rm',
      '-u',
      '33:33',
      '-v',
      `${tree}:/t:U`,
      IMG,
      'sh',
      '-c',
      'stat -c %u:%g /t /t/sub /t/sub/f; echo y > /t/sub/new && echo wrote',
    );
    expect(out.stdout).toBe('33:33\n33:33\n33:33\nwrote\n');
    // On the host the files now belong to a subordinate id; the link's target is untouched.
    expect(statSync(join(tree, 'sub', 'f')).uid).not.toBe(testIds().uid);
    expect(statSync(outside).uid).toBe(testIds().uid);
    await sb.runCli(0, 'unshare', 'rm', '-rf', tree);
  });

  it("a tmpfs volume is fresh in each container; mount prints a directory volume's path", async () => {
    await sb.runCli(0, 'volume', 'create', '--opt', 'type=tmpfs', '--opt', 'o=size=1m', 'scratch');
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'scratch:/s', IMG, 'sh', '-c', 'echo x > /s/f; grep " /s " /proc/mounts | cut -d" " -f3')).stdout).toBe(
      'tmpfs\n',
    );
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'scratch:/s', IMG, 'ls', '-A', '/s')).stdout).toBe('');
    expect((await sb.run(['volume', 'create', '--opt', 'type=nfs', 'bad'])).code).toBe(125);
    expect((await sb.run(['volume', 'mount', 'scratch'])).code).toBe(125);
    await sb.runCli(0, 'volume', 'create', 'dirvol');
    expect((await sb.runCli(0, 'volume', 'mount', 'dirvol')).stdout).toBe(`${join(volumesDir(), 'dirvol', '_data')}\n`);
    for (const v of ['scratch', 'dirvol']) await sb.runCli(0, 'volume', 'rm', v);
  });
});

describe('as Podman does it', () => {
  it("a new volume takes the image directory's owner and mode, or the container user's", async () => {
    await sb.runCli(0, 'run', '--name', 'ownbox', IMG, 'sh', '-c', 'mkdir /app && chown 33:33 /app && chmod 0750 /app');
    await sb.runCli(0, 'commit', '-q', '-c', 'VOLUME /app', '-c', 'USER 33', 'ownbox', 'localhost/owned');
    await sb.runCli(0, 'rm', 'ownbox');
    expect((await sb.runCli(0, 'run', '--rm', '-v', 'appdata:/app', 'localhost/owned', 'sh', '-c', 'touch /app/x && stat -c %u:%a /app')).stdout).toBe(
      '33:750\n',
    );
    expect((await sb.runCli(0, 'run', '--rm', '-u', '44:44', '-v', 'fresh:/nodir', IMG, 'sh', '-c', 'touch /nodir/x && stat -c %u /nodir')).stdout).toBe(
      '44\n',
    );
    for (const v of ['appdata', 'fresh']) await sb.runCli(0, 'volume', 'rm', v);
  });

  it('mounts shallow paths first, and cp reaches a file bind', async () => {
    const app = join(sb.home, 'app');
    mkdirSync(app);
    writeFileSync(join(sb.home, 'app.conf'), 'setting=1\n');
    const fs = await import('node:fs');
    for (const p of [app, join(sb.home, 'app.conf')]) fs.chownSync(p, testIds().uid, testIds().gid);
    const mounts = await sb.runCli(
      0,
      'run',
      '--rm',
      '--tmpfs',
      '/app/tmp',
      '-v',
      `${app}:/app`,
      IMG,
      'sh',
      '-c',
      'grep " /app/tmp " /proc/mounts | cut -d" " -f3',
    );
    expect(mounts.stdout).toBe('tmpfs\n');
    await sb.runCli(0, 'run', '-d', '--name', 'confbox', '-v', `${join(sb.home, 'app.conf')}:/etc/app.conf`, IMG, ...TICK);
    await sb.runCli(0, 'cp', 'confbox:/etc/app.conf', join(sb.home, 'copied.conf'));
    expect(readFileSync(join(sb.home, 'copied.conf'), 'utf8')).toBe('setting=1\n');
    await sb.runCli(0, 'rm', '-f', 'confbox');
  });

  it('cp and :U refuse a bind source that was replaced after the container was made', async () => {
    const fs = await import('node:fs');
    const own = (p: string) => fs.lchownSync(p, testIds().uid, testIds().gid);
    const src = join(sb.home, 'bsrc');
    const elsewhere = join(sb.home, 'elsewhere');
    for (const d of [src, elsewhere]) {
      mkdirSync(d);
      own(d);
    }
    await sb.runCli(0, 'run', '-d', '--name', 'swapped', '-v', `${src}:/b`, IMG, ...TICK);
    fs.renameSync(src, `${src}.old`);
    fs.symlinkSync(elsewhere, src);
    own(src);
    const file = join(sb.home, 'f.txt');
    writeFileSync(file, 'x\n');
    own(file);
    const r = await sb.run(['cp', file, 'swapped:/b/']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/bind mount source .* (is a symbolic link now|is not the one)/);
    expect(readdirSync(elsewhere)).toEqual([]);
    await sb.runCli(0, 'rm', '-f', 'swapped');
  });
});
