// The security and process flags of run, terminals and attach, skiff unshare, and the other ways
// to make a root filesystem (fuse-overlayfs, copy).
import { chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { subuidStart, testIds, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('opts', { pull: [IMG] });

// Runs skiff on a terminal of its own, typing `input`.
const onTerminal = (args: string[], input = '') => sb.run(args, { pty: true, input, timeoutMs: 30_000 });

describe('process and security flags', () => {
  it('--init runs catatonit as pid 1 with the command under it', async () => {
    const r = await sb.runCli(0, 'run', '--rm', '--init', IMG, 'sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "');
    const [pid, init] = r.stdout.trim().split('\n');
    expect(pid).not.toBe('1');
    expect(init).toMatch(/^\/run\/skiff-init -- sh -c/);
  });

  it('--tmpfs mounts a tmpfs; --security-opt no-new-privileges sets NoNewPrivs', async () => {
    const r = await sb.runCli(
      0,
      'run',
      '--rm',
      '--tmpfs',
      '/scratch:size=1m',
      '--security-opt',
      'no-new-privileges',
      IMG,
      'sh',
      '-c',
      'grep " /scratch " /proc/mounts; grep NoNewPrivs /proc/self/status',
    );
    expect(r.stdout).toMatch(/^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec.*size=1024k/m);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
    const bad = await sb.run(['run', '--rm', '--security-opt', 'bogus', IMG, 'sh']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/invalid --security-opt "bogus"/);
  });

  it('applies the default seccomp profile unless unconfined or --privileged', async () => {
    const mode = async (...flags: string[]) =>
      (await sb.runCli(0, 'run', '--rm', ...flags, IMG, 'sh', '-c', 'grep Seccomp: /proc/self/status')).stdout.trim().split(/\s+/)[1];
    expect(await mode()).toBe('2');
    expect(await mode('--security-opt', 'seccomp=unconfined')).toBe('0');
    expect(await mode('--privileged')).toBe('0');
    // A denied call fails with EPERM: keyctl through busybox is not there, so use unshare(2).
    const denied = await sb.run(['run', '--rm', IMG, 'sh', '-c', 'unshare -U true']);
    expect(denied.code).not.toBe(0);
    const caps = (await sb.runCli(0, 'run', '--rm', '--privileged', IMG, 'sh', '-c', 'grep CapEff /proc/self/status')).stdout;
    expect(caps).toMatch(/CapEff:\s+000001ffffffffff/);
  });
});

describe('terminals and attach', () => {
  it('run -t gives the container a terminal', async () => {
    const r = await onTerminal(['run', '--rm', '-t', IMG, 'sh', '-c', 'tty; stty size']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
  });

  it('run -it reads the terminal and exits with the shell', async () => {
    const r = await onTerminal(['run', '--rm', '-it', IMG, 'sh'], 'echo from-tty-$((6*7))\nexit 3\n');
    expect(r.stdout).toMatch(/from-tty-42/);
    expect(r.code).toBe(3);
  });

  it("attach follows a running container's output until it exits", async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'talker', IMG, 'sh', '-c', 'sleep 0.5; echo late; exit 6');
    const r = await sb.run(['attach', 'talker']);
    expect(r).toMatchObject({ code: 6, stdout: 'late\n' });
    await sb.runCli(0, 'rm', 'talker');
  });

  it('rename moves the name; the old one is free again', async () => {
    await sb.runCli(0, 'create', '--name', 'before', IMG, 'sh');
    await sb.runCli(0, 'rename', 'before', 'after');
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).toBe('after\n');
    await sb.runCli(0, 'create', '--name', 'before', IMG, 'sh');
    expect((await sb.run(['rename', 'after', 'before'])).code).toBe(125);
    await sb.runCli(0, 'rm', 'before', 'after');
  });
});

describe('skiff unshare', () => {
  it('runs a command as uid 0 of the rootless namespace and passes its exit code', async () => {
    const r = await sb.runCli(0, 'unshare', 'sh', '-c', 'id -u; cat /proc/self/uid_map');
    const [uid, first] = r.stdout.trim().split('\n');
    expect(uid).toBe('0');
    expect(first.trim().split(/\s+/).map(Number)).toEqual([0, testIds().uid, 1]);
    expect((await sb.run(['unshare', 'sh', '-c', 'exit 9'])).code).toBe(9);
    expect((await sb.run(['unshare', 'no-such-program'])).code).toBe(127);
  });
});

describe('root filesystem drivers', () => {
  for (const driver of ['fuse-overlayfs', 'copy']) {
    it(`${driver}: runs, sees the image's whiteouts, and writes with mapped ids`, async () => {
      const conf = join(sb.home, `${driver}.conf`);
      writeFileSync(conf, `[storage]\nrootfs = "${driver}"\n`);
      chownSync(conf, testIds().uid, testIds().gid);
      const env = { SKIFF_CONFIG: conf };
      const r = await sb.run(['run', '--name', `fs-${driver}`, IMG, 'sh', '-c', 'ls /data; ls /home/www; touch /made && chown 33 /made'], { env });
      expect(r.stderr).toBe('');
      // The app layer's opaque /data and its whiteout of old.html are honoured.
      expect(r.stdout).toBe('new.txt\nindex.html\n');
      const inspect = JSON.parse((await sb.runCli(0, 'inspect', `fs-${driver}`)).stdout) as { Id: string; Driver: string }[];
      expect(inspect[0].Driver).toBe(driver);
      const dir = join(sb.dataDir, 'containers', inspect[0].Id, driver === 'copy' ? 'rootfs' : 'upper');
      expect(statSync(join(dir, 'made')).uid).toBe(subuidStart() + 32);
      // The container has exited: its root is unmounted (by its clean-up, which may still be running).
      const mounted = () => readFileSync(`/proc/${sb.pausePid()}/mountinfo`, 'utf8').includes(inspect[0].Id);
      await expect.poll(mounted, { timeout: 10_000 }).toBe(false);
      await sb.runCli(0, 'rm', `fs-${driver}`);
    });
  }

  it('the probed driver is cached and shown by info', async () => {
    await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'true');
    const cached = readFileSync(join(sb.dir, 'run', 'skiff', 'rootfs-driver'), 'utf8').trim();
    expect(['overlay', 'fuse-overlayfs', 'copy']).toContain(cached);
    const info = JSON.parse((await sb.runCli(0, 'info', '--format', 'json')).stdout) as { store: { rootfsDriver: string } };
    expect(info.store.rootfsDriver).toBe(cached);
  });
});
