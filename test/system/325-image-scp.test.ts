// skiff image scp over a real ssh: an sshd of the test's own on a loopback port, logging the test
// user in with a key made for the test. The "remote" host is this one and the same user, with
// another store: the authorized key's environment= options give the session the remote
// sandbox's HOME and XDG_RUNTIME_DIR and a PATH whose `skiff` is this tree's.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SKIFF, testIds, until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const image = `${plain}/skiff/busybox`;
const local = useSandbox('scp', { pull: [image] });
const remote = useSandbox('scp-remote');

let sshd: ChildProcess | undefined;
let serverDir = '';
let port = 0;
let sshEnv: Record<string, string> = {};
let podmanLog = '';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });

const names = async (sb: typeof local): Promise<string[]> =>
  JSON.parse((await sb.runCli(0, 'images', '--format', 'json')).stdout).flatMap((i: { Names?: string[] }) => i.Names ?? []);

const scp = (...args: string[]) => local.run(['image', 'scp', ...args], { env: sshEnv });

beforeAll(async () => {
  const { uid, gid } = testIds();
  // The server's files: root's, readable by the user (sshd reads authorized_keys as the user).
  serverDir = mkdtempSync('/tmp/skiff-t-sshd-');
  chmodSync(serverDir, 0o755);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(serverDir, 'host_key')]);
  // The user's side: its key and ssh config in the sandbox's ~/.ssh, 0700/0600, the user's.
  const dotSsh = join(local.home, '.ssh');
  mkdirSync(dotSsh, { mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dotSsh, 'id_ed25519')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dotSsh, 'id_podman')]);
  port = await freePort();
  writeFileSync(
    join(dotSsh, 'config'),
    `Host podmanhost\n  HostName 127.0.0.1\n  IdentityFile ${join(dotSsh, 'id_podman')}\nHost *\n  IdentityFile ${join(dotSsh, 'id_ed25519')}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  BatchMode yes\n`,
  );
  const userFiles = ['config', 'id_ed25519', 'id_ed25519.pub', 'id_podman', 'id_podman.pub'];
  for (const f of userFiles) chmodSync(join(dotSsh, f), 0o600);
  for (const f of [dotSsh, ...userFiles.map((n) => join(dotSsh, n))]) chownSync(f, uid, gid);
  // ssh reads ~/.ssh from the passwd entry, not $HOME: a wrapper first on PATH points it at the
  // sandbox's config. skiff itself runs the real ssh through it, with its own argv.
  const bin = join(local.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\nexec /usr/bin/ssh -F ${join(dotSsh, 'config')} "$@"\n`, { mode: 0o755 });
  sshEnv = { PATH: `${bin}:${local.env.PATH}` };
  // The remote session: skiff on its PATH (this tree's), the remote sandbox's store.
  const remoteBin = join(remote.dir, 'bin');
  mkdirSync(remoteBin);
  writeFileSync(join(remoteBin, 'skiff'), `#!/bin/sh\nexec ${SKIFF} "$@"\n`, { mode: 0o755 });
  const env = {
    HOME: remote.home,
    XDG_RUNTIME_DIR: remote.env.XDG_RUNTIME_DIR,
    PATH: `${remoteBin}:${remote.env.PATH}`,
    SKIFF_NODE: remote.env.SKIFF_NODE,
    LANG: 'C.UTF-8',
  };
  const options = Object.entries(env)
    .map(([k, v]) => `environment="${k}=${v}"`)
    .join(',');
  // The other key logs in where skiff is not on PATH: a stand-in `podman` records what it was asked.
  const podmanBin = join(remote.dir, 'podman-bin');
  mkdirSync(podmanBin);
  podmanLog = join(remote.dir, 'podman.log');
  writeFileSync(
    join(podmanBin, 'podman'),
    `#!/bin/sh\necho "$*" >> ${podmanLog}\nif [ "$1" = load ]; then wc -c >> ${podmanLog}; echo "Loaded image: localhost/fake:latest"; fi\n`,
    { mode: 0o755 },
  );
  chownSync(remote.dir, uid, gid);
  const podmanOptions = `environment="HOME=${remote.home}",environment="PATH=${podmanBin}:/usr/bin:/bin"`;
  writeFileSync(
    join(serverDir, 'authorized_keys'),
    `${options} ${readFileSync(join(dotSsh, 'id_ed25519.pub'), 'utf8')}${podmanOptions} ${readFileSync(join(dotSsh, 'id_podman.pub'), 'utf8')}`,
    { mode: 0o644 },
  );
  writeFileSync(
    join(serverDir, 'sshd_config'),
    [
      `HostKey ${join(serverDir, 'host_key')}`,
      `PidFile ${join(serverDir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(serverDir, 'authorized_keys')}`,
      'StrictModes no',
      // The test user's password is locked ('!'); without PAM sshd would refuse it a key login too.
      'UsePAM yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitUserEnvironment yes',
      `AllowUsers ${
        readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .find((l) => l.split(':')[2] === String(uid))
          ?.split(':')[0]
      }`,
      '',
    ].join('\n'),
  );
  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(serverDir, 'sshd_config'), '-p', String(port), '-o', 'ListenAddress=127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  sshd.stderr?.on('data', (d) => (log += d));
  await until(async () => {
    if (sshd?.exitCode !== null) throw new Error(`sshd ended: ${log}`);
    try {
      execFileSync('sh', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore', shell: false });
      return true;
    } catch {
      return log.includes('listening');
    }
  });
});

afterAll(() => {
  sshd?.kill('SIGKILL');
  if (serverDir) rmSync(serverDir, { recursive: true, force: true });
});

describe('image scp over ssh', () => {
  it('sends a local image into the remote store under a new name, and fetches it back', async () => {
    const sent = await scp(image, `127.0.0.1:${port}::localhost/copied:v1`);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/Loaded image: /);
    const there = await names(remote);
    expect(there).toContain('localhost/copied:v1');
    expect(there).toContain(image.includes('/') ? `${image}:latest` : image);
    const localId = JSON.parse((await local.runCli(0, 'image', 'inspect', image)).stdout)[0].Id;
    const remoteId = JSON.parse((await remote.runCli(0, 'image', 'inspect', 'localhost/copied:v1')).stdout)[0].Id;
    expect(remoteId).toBe(localId);

    const quiet = await scp('-q', `${local.env.USER}@127.0.0.1:${port}::localhost/copied:v1`, 'localhost/back:v2');
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toBe('');
    const back = JSON.parse((await local.runCli(0, 'image', 'inspect', 'localhost/back:v2')).stdout)[0];
    expect(back.Id).toBe(localId);
  });

  it("runs Podman's load where skiff is not on the remote PATH, and tags the copy with the image's id", async () => {
    const id = JSON.parse((await local.runCli(0, 'image', 'inspect', image)).stdout)[0].Id;
    const sent = await scp(image, `podmanhost:${port}::localhost/viapodman:v1`);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout.trim()).toBe('Loaded image: localhost/fake:latest');
    const [load, size, tag] = readFileSync(podmanLog, 'utf8').trim().split('\n');
    expect(load).toBe('load');
    expect(Number(size.trim())).toBeGreaterThan(1000);
    expect(tag).toBe(`tag sha256:${id} localhost/viapodman:v1`);
  });

  it('fails in one line, exit 125, loading nothing', async () => {
    const before = await names(remote);
    const missing = await scp('localhost/nosuch:v1', `127.0.0.1:${port}::`);
    expect(missing.code).toBe(125);
    expect(missing.stderr.trim()).toMatch(/^Error: .*nosuch.*image not known$/);

    const remoteMissing = await scp(`127.0.0.1:${port}::localhost/nosuch:v1`);
    expect(remoteMissing.code).toBe(125);
    expect(remoteMissing.stderr.trim().split('\n')).toHaveLength(1);
    expect(remoteMissing.stderr).toMatch(/ssh to 127\.0\.0\.1:\d+ failed \(exit 125\): Error: .*nosuch/);

    const refused = await scp(image, `nobody@127.0.0.1:${port}::`);
    expect(refused.code, refused.stderr).toBe(125);
    expect(refused.stderr.trim()).toMatch(/^Error: ssh to nobody@127\.0\.0\.1:\d+ failed \(exit 255\): .*Permission denied/);

    const closed = await scp(image, `127.0.0.1:${await freePort()}::`);
    expect(closed.code).toBe(125);
    expect(closed.stderr.trim()).toMatch(/^Error: ssh to 127\.0\.0\.1:\d+ failed \(exit 255\): .*Connection refused/);

    const noSsh = await local.run(['image', 'scp', image, `127.0.0.1:${port}::`], { env: { PATH: '/nonexistent' } });
    expect(noSsh.code).toBe(125);
    expect(noSsh.stderr.trim()).toMatch(/^Error: ssh not found/);
    expect(await names(remote)).toEqual(before);
  });

  it('refuses local copies between users and bad forms, and host strings that would be ssh options', async () => {
    const marker = join(local.dir, 'pwned');
    for (const [args, message] of [
      [[image, 'root@localhost::'], /needs root.*use ssh/],
      [[image], /needs root/],
      [[`127.0.0.1:${port}::`], /no image/],
      [[`a::${image}`, 'b::'], /two other hosts/],
      [[image, '127.0.0.1:0::'], /invalid port/],
      [['--', image, `-oProxyCommand=touch ${marker}::`], /invalid host/],
      [['--', image, '-oProxyCommand=sh@127.0.0.1::'], /invalid user/],
      [[image, `me;touch ${marker}@127.0.0.1::`], /invalid user/],
      [[image, `127.0.0.1:${port}::x';touch ${marker};'`], /invalid new name/],
    ] as [string[], RegExp][]) {
      const r = await scp(...args);
      expect(r.code, args.join(' ')).toBe(125);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(() => readFileSync(marker)).toThrow();
  });
});
