// Containers with a user namespace of their own: keep-id (your uid inside too, files you make in a
// bind mount are yours outside, an /etc/passwd entry and a home), nomap, auto and --uidmap; the
// image's layers shifted once per map and shared, never copied per container.
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { subuidStart, testIds, useSandbox } from '../helpers/cli.js';
import { makeTar } from '../helpers/layers.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('userns-modes', { pull: [IMG] });
const CAP_CHOWN_V2 = String.fromCharCode(1, 0, 0, 2, 1, 0, 0, 0, ...Array(12).fill(0));
const mine = (path: string) => chownSync(path, testIds().uid, testIds().gid);

// Bytes of regular files under the store's layers (the shifted copies included), counting each inode once.
const layerBytes = (): number => {
  const seen = new Set<number>();
  let total = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        if (!seen.has(st.ino)) total += st.size;
        seen.add(st.ino);
      }
    }
  };
  walk(join(sb.dataDir, 'layers'));
  return total;
};

describe('--userns=keep-id', () => {
  it('runs as your uid, with an /etc/passwd entry and a home; files made in a bind mount are yours outside', async () => {
    const { uid, gid } = testIds();
    const src = join(sb.home, 'tree');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'mine'), 'x');
    for (const p of [src, join(src, 'mine')]) mine(p);
    const out = await sb.runCli(
      0,
      'run',
      '--rm',
      '--userns=keep-id',
      '-v',
      `${src}:/src`,
      IMG,
      'sh',
      '-c',
      'id -u; id -g; stat -c %u /src/mine; stat -c %u:%g /bin/busybox /etc/hosts; touch /src/made; grep "^[^:]*:[^:]*:$(id -u):" /etc/passwd | cut -d: -f6; echo $HOME; test -d "$HOME" && echo home',
    );
    const [u, g, owner, bin, hosts, entryHome, home, hasHome] = out.stdout.trim().split('\n');
    expect([u, g, owner]).toEqual([String(uid), String(gid), String(uid)]);
    expect([bin, hosts]).toEqual(['0:0', '0:0']); // the image's files are root's, as in the image
    expect(entryHome).toBe(home);
    expect(hasHome).toBe('home');
    expect(statSync(join(src, 'made')).uid).toBe(uid);
    expect(statSync(join(src, 'made')).gid).toBe(gid);
  });

  it("exec runs as you; commit and export give the container's own ids", async () => {
    const { uid } = testIds();
    await sb.runCli(0, 'run', '-d', '--name', 'kc', '--userns=keep-id', IMG, 'sh', '-c', 'touch /tmp/by-you; sleep 30');
    expect((await sb.runCli(0, 'exec', 'kc', 'sh', '-c', 'id -u')).stdout).toBe(`${uid}\n`);
    await sb.runCli(0, 'exec', '--user', '0', 'kc', 'sh', '-c', 'touch /by-root');
    await sb.runCli(0, 'commit', '-q', 'kc', 'localhost/keepid-made');
    const owners = await sb.runCli(0, 'run', '--rm', 'localhost/keepid-made', 'sh', '-c', 'stat -c %u /tmp/by-you /by-root /bin/busybox');
    expect(owners.stdout).toBe(`${uid}\n0\n0\n`);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'kc');
  });

  it('takes uid= and gid=, and --user over its default user', async () => {
    expect((await sb.runCli(0, 'run', '--rm', '--userns=keep-id:uid=200,gid=300', IMG, 'sh', '-c', 'id -u; id -g')).stdout).toBe('200\n300\n');
    expect((await sb.runCli(0, 'run', '--rm', '--userns=keep-id', '--user', '0', IMG, 'sh', '-c', 'id -u')).stdout).toBe('0\n');
  });

  it("shifts the image's layers once: more containers of that map add no copy", async () => {
    await sb.runCli(0, 'run', '--rm', '--userns=keep-id', IMG, 'sh', '-c', ':');
    const before = layerBytes();
    for (const name of ['k1', 'k2', 'k3']) await sb.runCli(0, 'create', '--name', name, '--userns=keep-id', IMG, 'sh', '-c', ':');
    await sb.runCli(0, 'start', '-a', 'k1');
    expect(layerBytes()).toBe(before);
    const [inspected] = JSON.parse((await sb.runCli(0, 'inspect', 'k1')).stdout);
    expect(inspected.HostConfig.UsernsMode).toBe('keep-id');
    await sb.runCli(0, 'rm', 'k1', 'k2', 'k3');
  });
});

describe('the shifted copy', () => {
  it('keeps links, modes and owners, and follows no link out of the layer', async () => {
    const victim = join(sb.home, 'victim');
    mkdirSync(victim, { recursive: true });
    mine(victim);
    const tar = join(sb.home, 'shift.tar');
    writeFileSync(
      tar,
      await makeTar([
        { path: 'bin/', type: 'directory' },
        { path: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
        { path: 'bin/sh', type: 'symlink', target: 'busybox' },
        { path: 'out', type: 'symlink', target: victim },
        { path: 'a', content: 'same' },
        { path: 'b', type: 'link', target: 'a' },
        { path: 'www', content: 'x', uid: 33, gid: 33 },
        { path: 'suid', content: 'x', mode: 0o4755 },
        // busybox with CAP_CHOWN as a file capability (v2, effective), for the namespace's root.
        { path: 'busybox-caps', content: readFileSync('/bin/busybox'), mode: 0o755, pax: { 'SCHILY.xattr.security.capability': CAP_CHOWN_V2 } },
        { path: 'locked/', type: 'directory', mode: 0o500 },
        { path: 'locked/f', content: 'x', mode: 0o400 },
      ]),
    );
    mine(tar);
    await sb.runCli(0, 'import', tar, 'localhost/shift:1');
    const out = await sb.runCli(
      0,
      'run',
      '--rm',
      '--userns=keep-id',
      '--user',
      '0',
      'localhost/shift:1',
      '/bin/sh',
      '-c',
      'stat -c "%u %h %i" /a /b; readlink /out; stat -c "%u:%g" /www; stat -c %a /suid /locked /locked/f',
    );
    const [a, b, link, www, ...modes] = out.stdout.trim().split('\n');
    // Run as you inside: the file capability survived the copy (a write after setting it would drop it).
    const caps = await sb.runCli(0, 'run', '--rm', '--userns=keep-id', 'localhost/shift:1', '/busybox-caps', 'grep', 'CapEff', '/proc/self/status');
    expect(caps.stdout).toMatch(/CapEff:\s+0000000000000001/);
    expect(a!.split(' ').slice(0, 2)).toEqual(['0', '2']);
    expect(b).toBe(a); // one inode, two names
    expect(link).toBe(victim);
    expect(www).toBe('33:33');
    expect(modes).toEqual(['4755', '500', '400']);
    expect(readdirSync(victim)).toEqual([]);
  });
});

describe('other maps', () => {
  it('nomap: root inside is not you; your files are nobody; a store it cannot reach is named', async () => {
    const src = join(sb.home, 'nomap');
    mkdirSync(src, { recursive: true });
    mine(src);
    // The sandbox's directory is 0700, as many homes are: root inside (a subordinate id) cannot reach the store.
    const refused = await sb.run(['run', '--rm', '--userns=nomap', IMG, 'sh', '-c', ':']);
    expect(refused.code).toBe(125);
    const [, dir] = /cannot reach (\S+): let others search it \(chmod o\+x \1\)/.exec(refused.stderr) ?? [];
    expect([sb.dir, join(sb.home, '.local'), join(sb.home, '.local/share')]).toContain(dir);
    for (const d of [sb.dir, join(sb.home, '.local'), join(sb.home, '.local/share')]) chmodSync(d, statSync(d).mode | 0o001);
    const out = await sb.runCli(
      0,
      'run',
      '--rm',
      '--userns=nomap',
      '-v',
      `${src}:/src`,
      '-v',
      'nomapvol:/data',
      IMG,
      'sh',
      '-c',
      'id -u; stat -c %u /src; stat -c %u /bin/busybox; touch /data/made && stat -c %u /data/made',
    );
    // A new volume is root's inside (the first subordinate id outside), so root there can write it.
    expect(out.stdout).toBe('0\n65534\n0\n0\n');
    expect(statSync(join(sb.dataDir, 'volumes', 'nomapvol', '_data', 'made')).uid).toBe(subuidStart());
    // cp gives the container's user (root here) what it copies in, not you (nobody inside).
    await sb.runCli(0, 'create', '--name', 'nm', '--userns=nomap', IMG, 'sh', '-c', 'stat -c %u /copied');
    const copied = join(sb.home, 'to-copy');
    writeFileSync(copied, 'x');
    mine(copied);
    await sb.runCli(0, 'cp', copied, 'nm:/copied');
    expect((await sb.runCli(0, 'start', '-a', 'nm')).stdout).toBe('0\n');
    await sb.runCli(0, 'rm', 'nm');
  });

  it('--uidmap: the map given, root inside a subordinate id outside', async () => {
    const src = join(sb.home, 'mapped');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'f'), '');
    for (const p of [src, join(src, 'f')]) mine(p);
    const out = await sb.runCli(
      0,
      'run',
      '--rm',
      '--uidmap',
      '0:1:5000',
      '--uidmap',
      '5000:0:1',
      '-v',
      `${src}:/src`,
      IMG,
      'sh',
      '-c',
      'stat -c %u /src/f; touch /src/by-root; cat /proc/self/uid_map',
    );
    expect(out.stdout.split('\n')[0]).toBe('5000');
    expect(statSync(join(src, 'by-root')).uid).not.toBe(testIds().uid);
  });

  it('auto: two containers get ranges that do not overlap', async () => {
    await sb.runCli(0, 'create', '--name', 'a1', '--userns=auto', IMG, 'sh', '-c', 'cat /proc/self/uid_map');
    await sb.runCli(0, 'create', '--name', 'a2', '--userns=auto:size=2048', IMG, 'sh', '-c', 'cat /proc/self/uid_map');
    const maps = await Promise.all(['a1', 'a2'].map(async (n) => JSON.parse((await sb.runCli(0, 'inspect', n)).stdout)[0].HostConfig));
    expect(maps.map((m) => m.UsernsMode)).toEqual(['auto', 'auto:size=2048']);
    const [a1, a2] = maps.map((m) => m.IDMappings.UidMap[0].split(':').map(Number));
    expect(a1).toEqual([0, a1[1], 1024]);
    expect(a2).toEqual([0, a2[1], 2048]);
    expect(a1[1] + 1024 <= a2[1] || a2[1] + 2048 <= a1[1]).toBe(true);
    // The map the container runs with is the one inspect shows (uid_map there counts from skiff's namespace's ids).
    expect((await sb.runCli(0, 'start', '-a', 'a1')).stdout.trim().split(/\s+/).map(Number)).toEqual([0, a1[1], 1024]);
    await sb.runCli(0, 'rm', 'a1', 'a2');
  });

  it('auto: creates made at once still get ranges of their own', async () => {
    const names = ['p1', 'p2', 'p3', 'p4'];
    const created = await Promise.all(names.map((n) => sb.run(['create', '--name', n, '--userns=auto', IMG, 'sh', '-c', ':'])));
    expect(created.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const starts = await Promise.all(
      names.map(async (n) => Number(JSON.parse((await sb.runCli(0, 'inspect', n)).stdout)[0].HostConfig.IDMappings.UidMap[0].split(':')[1])),
    );
    const sorted = [...starts].sort((a, b) => a - b);
    expect(sorted.every((s, i) => i === 0 || s >= sorted[i - 1]! + 1024)).toBe(true);
    await sb.runCli(0, 'rm', ...names);
  });

  it(':U chowns to the container user as its map places it', async () => {
    const src = join(sb.home, 'chowned');
    mkdirSync(src, { recursive: true });
    mine(src);
    const out = await sb.runCli(0, 'run', '--rm', '--userns=keep-id', '--user', '0', '-v', `${src}:/d:U`, IMG, 'sh', '-c', 'stat -c %u /d');
    expect(out.stdout).toBe('0\n');
    expect(statSync(src).uid).toBe(subuidStart()); // root inside is the first subordinate id in keep-id's map
  });

  it('refuses bad modes and maps before anything is made', async () => {
    for (const [args, message] of [
      [['--userns=bogus'], /invalid --userns "bogus"/],
      [['--userns=keep-id:size=3'], /invalid --userns=keep-id:size=3/],
      [['--uidmap', '0:1'], /invalid --uidmap "0:1": use CONTAINER_ID:HOST_ID:SIZE/],
      [['--uidmap', '0:1:10000000'], /goes past skiff's user namespace/],
      [['--uidmap', '0:1:10', '--uidmap', '5:100:10'], /two ranges overlap/],
      [['--userns=keep-id', '--uidmap', '0:1:10'], /cannot be used with --userns=keep-id/],
    ] as const) {
      const r = await sb.run(['create', '--name', 'bad', ...args, IMG, 'true']);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toMatch(message);
    }
    expect((await sb.run(['container', 'exists', 'bad'])).code).toBe(1);
  });
});
