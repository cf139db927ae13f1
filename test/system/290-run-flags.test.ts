// The run/create flags Podman 4.3 has that skiff lacked, each against real containers: -a/--attach,
// --passwd/--passwd-entry/--hostuser (the /etc/passwd entry for a --user the image lacks, and its
// HOME), --preserve-fds, --systemd, --chrootdirs, --subuidname/--subgidname, --rootfs (DIR and DIR:O),
// --device-cgroup-rule, --cpu-rt-*, --blkio-weight-device, and the pod flags (refused).
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { isRoot, TEST_USER, testIds, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('runflags', { pull: [IMG] });

afterEach(async () => {
  await sb.run(['rm', '-a', '-f', '-t', '0']);
});

const errorLine = async (args: string[], code = 125): Promise<string> => {
  const r = await sb.run(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
};

const out = async (...args: string[]): Promise<string> => (await sb.runCli(0, ...args)).stdout;

// A root filesystem directory of the test user's: busybox as sh, an /etc/passwd.
const makeRootfs = (name: string, passwd: string | { link: string } = 'root:x:0:0:root:/root:/bin/sh\n'): string => {
  const dir = join(sb.dir, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin/sh'));
  if (typeof passwd === 'string') writeFileSync(join(dir, 'etc/passwd'), passwd);
  else symlinkSync(passwd.link, join(dir, 'etc/passwd'));
  const { uid, gid } = testIds();
  for (const p of [dir, join(dir, 'bin'), join(dir, 'etc'), join(dir, 'bin/sh')]) chownSync(p, uid, gid);
  if (typeof passwd === 'string') chownSync(join(dir, 'etc/passwd'), uid, gid);
  return dir;
};

describe('--user with --passwd, --passwd-entry, --hostuser', () => {
  it('a numeric --user the image lacks gets an /etc/passwd and /etc/group entry and HOME, as Podman', async () => {
    const script = 'id; echo HOME=$HOME; tail -n 1 /etc/passwd; tail -n 1 /etc/group';
    expect(await out('run', '--rm', '--user', '1000', '-w', '/tmp', IMG, 'sh', '-c', script)).toBe(
      'uid=1000(1000) gid=0(root) groups=1000(1000)\nHOME=/tmp\n1000:*:1000:0:container user:/tmp:/bin/sh\n1000:x:1000:1000\n',
    );
    // A group the image has is used, not added; a number it lacks is.
    expect(await out('run', '--rm', '--user', '1001:staff', IMG, 'sh', '-c', script)).toBe(
      'uid=1001(1001) gid=50(staff)\nHOME=/\n1001:*:1001:50:container user:/:/bin/sh\nnogroup:x:65534:\n',
    );
    expect(await out('run', '--rm', '--user', '1002:77', IMG, 'sh', '-c', 'tail -n 1 /etc/passwd; tail -n 1 /etc/group')).toBe(
      '1002:*:1002:77:container user:/:/bin/sh\n77:x:77:1002\n',
    );
    // A user the image has gets nothing added.
    expect(await out('run', '--rm', '--user', '33', IMG, 'sh', '-c', 'echo HOME=$HOME; grep -c . /etc/passwd')).toBe('HOME=/home/www\n3\n');
  });

  it('adds the entry once: a restarted container finds it in its own /etc/passwd', async () => {
    await sb.runCli(0, 'create', '--name', 'again', '--user', '1000', IMG, 'sh', '-c', 'grep -c "^1000:" /etc/passwd');
    await sb.runCli(0, 'start', '-a', 'again');
    expect((await sb.runCli(0, 'start', '-a', 'again')).stdout).toBe('1\n');
  });

  it('--passwd=false adds none; --passwd-entry is the template of the one added', async () => {
    expect(await out('run', '--rm', '--passwd=false', '--user', '1000', IMG, 'sh', '-c', 'echo HOME=$HOME; grep -c "^1000:" /etc/passwd || true')).toBe(
      'HOME=/\n0\n',
    );
    const template = '$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false';
    expect(await out('run', '--rm', '--user', '1234', '-w', '/srv', '--passwd-entry', template, IMG, 'sh', '-c', 'tail -n 1 /etc/passwd; echo $HOME')).toBe(
      '1234:x:1234:0:container user:/srv:/bin/false\n/srv\n',
    );
  });

  it('on a --read-only root, the entries are in copies mounted over the files', async () => {
    const script = 'tail -n 1 /etc/passwd; grep -c " /etc/passwd " /proc/mounts; grep -c " /etc/group " /proc/mounts';
    expect(await out('run', '--rm', '--read-only', '--user', '1000', IMG, 'sh', '-c', script)).toBe('1000:*:1000:0:container user:/:/bin/sh\n1\n1\n');
  });

  it("--hostuser copies a host account's entry (home: the working directory unless mounted)", async () => {
    const { uid, gid } = testIds();
    const name = isRoot ? TEST_USER : execFileSync('id', ['-un']).toString().trim();
    const entry = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`))!
      .split(':');
    expect(await out('run', '--rm', '--hostuser', name, '--user', name, IMG, 'sh', '-c', 'id -u; id -g; tail -n 1 /etc/passwd; echo $HOME')).toBe(
      `${uid}\n${gid}\n${name}:*:${uid}:${gid}:${entry[4]}:/:/bin/sh\n/\n`,
    );
    // Its home mounted in: that home.
    const home = entry[5]!;
    expect(await out('run', '--rm', '--hostuser', name, '--tmpfs', home, IMG, 'sh', '-c', 'tail -n 1 /etc/passwd')).toBe(
      `${name}:*:${uid}:${gid}:${entry[4]}:${home}:/bin/sh\n`,
    );
    expect(await errorLine(['run', '--rm', '--hostuser', 'no-such-user-here', IMG, 'true'])).toMatch(
      /--hostuser no-such-user-here: no such user in this host's \/etc\/passwd/,
    );
  });

  it('an /etc/passwd that is a link is followed inside the root only: a host file at its target is never written', async () => {
    const target = join(sb.dir, 'host-passwd');
    writeFileSync(target, 'host:x:0:0::/:/bin/sh\n');
    const root = makeRootfs('linked-root', { link: target });
    const r = await sb.run(['run', '--rm', '--user', '1000', '--rootfs', root, 'sh', '-c', 'true']);
    expect(r.stderr).toMatch(/the container's \/etc\/passwd is a link that leads nowhere in it/);
    expect(r.code).toBe(125);
    expect(readFileSync(target, 'utf8')).toBe('host:x:0:0::/:/bin/sh\n');
  });
});

describe('-a/--attach', () => {
  const script = 'echo to-out; echo to-err >&2';
  it('attaches only the streams named', async () => {
    const outOnly = await sb.runCli(0, 'run', '--rm', '-a', 'stdout', IMG, 'sh', '-c', script);
    expect([outOnly.stdout, outOnly.stderr]).toEqual(['to-out\n', '']);
    const errOnly = await sb.runCli(0, 'run', '--rm', '-a', 'STDERR', IMG, 'sh', '-c', script);
    expect([errOnly.stdout, errOnly.stderr]).toEqual(['', 'to-err\n']);
    const both = await sb.runCli(0, 'run', '--rm', '-a', 'stdout', '-a', 'stderr', IMG, 'sh', '-c', script);
    expect([both.stdout, both.stderr]).toEqual(['to-out\n', 'to-err\n']);
    // Standard input follows -i, as in Podman.
    expect((await sb.run(['run', '--rm', '-i', '-a', 'stdout', IMG, 'sh', '-c', 'cat; echo end'], { input: 'typed\n' })).stdout).toBe('typed\nend\n');
  });

  it('create -a: start -a attaches those streams', async () => {
    await sb.runCli(0, 'create', '--name', 'later', '-a', 'stderr', IMG, 'sh', '-c', script);
    const started = await sb.runCli(0, 'start', '-a', 'later');
    expect([started.stdout, started.stderr]).toEqual(['', 'to-err\n']);
  });

  it('refuses a stream it does not know, and -a with -d', async () => {
    expect(await errorLine(['run', '-a', 'stdlog', IMG, 'true'])).toMatch(/invalid stream "stdlog" for --attach: use stdin, stdout or stderr/);
    expect(await errorLine(['run', '-d', '-a', 'stdout', IMG, 'true'])).toMatch(/--attach and --detach cannot be used together/);
    expect(await out('ps', '-a', '-q')).toBe('');
  });
});

describe('--preserve-fds', () => {
  it("passes skiff's fds 3.. to the container's process; one not given is refused", async () => {
    const file = join(sb.dir, 'fd3.txt');
    writeFileSync(file, 'through fd 3\n');
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const fd = openSync(file, 'r');
        const child = sb.spawn(args, { stdio: ['ignore', 'pipe', 'pipe', fd] });
        closeSync(fd);
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d) => (stdout += d));
        child.stderr!.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
    expect(await run(['run', '--rm', '--preserve-fds', '1', IMG, 'sh', '-c', 'cat <&3'])).toEqual({ code: 0, stdout: 'through fd 3\n', stderr: '' });
    // Without the flag, fd 3 is not the container's.
    expect((await run(['run', '--rm', IMG, 'sh', '-c', 'cat <&3'])).stdout).toBe('');
    const refused = await run(['run', '--rm', '--preserve-fds', '2', IMG, 'true']);
    expect([refused.code, refused.stderr.trim()]).toEqual([
      125,
      'Error: --preserve-fds 2: file descriptor 4 is not open; open fds 3 to 4 for skiff, or pass fewer',
    ]);
    expect(await errorLine(['run', '--preserve-fds', 'x', IMG, 'true'])).toMatch(/invalid --preserve-fds "x"/);
    expect(await out('ps', '-a', '-q')).toBe('');
  });
});

describe('--systemd', () => {
  it("always: an init's tmpfs, container_uuid, and SIGRTMIN+3 stops it", async () => {
    const mounts = await out(
      'run',
      '--rm',
      '--systemd',
      'always',
      IMG,
      'sh',
      '-c',
      'grep -E "^tmpfs /(run|run/lock|tmp|var/log/journal) " /proc/mounts | cut -d" " -f2 | sort; env | grep ^container_uuid=',
    );
    const id = /container_uuid=([0-9a-f]{32})/.exec(mounts)?.[1];
    expect(mounts.replace(/container_uuid=.*\n/, '')).toBe('/run\n/run/lock\n/tmp\n/var/log/journal\n');
    expect(id).toBeDefined();
    // The image's files there are copied up (tmpcopyup): /run has what the image put there.
    await sb.runCli(0, 'run', '-d', '--name', 'init', '--systemd', 'always', IMG, 'sh', '-c', 'trap "echo got-rtmin3; exit 0" 37; while :; do sleep 0.1; done');
    expect(await out('inspect', '--format', '{{.Config.StopSignal}}', 'init')).toBe('37\n'); // SIGRTMIN+3, as Podman's number
    await sb.runCli(0, 'stop', '-t', '10', 'init');
    expect(await out('logs', 'init')).toBe('got-rtmin3\n');
    expect(await out('inspect', '--format', '{{.State.ExitCode}}', 'init')).toBe('0\n');
  });

  it('true (the default) only when the command is an init or systemd; false never', async () => {
    const signal = async (...args: string[]) => {
      const id = (await out('create', ...args)).trim();
      return (await out('inspect', '--format', '{{.Config.StopSignal}}', id)).trim();
    };
    // (Podman's numbers: SIGRTMIN+3 37, SIGTERM 15, SIGINT 2.)
    expect(await signal(IMG, '/sbin/init')).toBe('37');
    expect(await signal(IMG, '/usr/lib/systemd/systemd', '--log-level=info')).toBe('37');
    expect(await signal(IMG, '/bin/sh', '-c', '/sbin/init')).toBe('37');
    expect(await signal(IMG, 'sh')).toBe('15');
    expect(await signal('--systemd', 'false', IMG, '/sbin/init')).toBe('15');
    expect(await signal('--stop-signal', 'SIGINT', IMG, '/sbin/init')).toBe('2');
    expect(await out('run', '--rm', IMG, 'sh', '-c', 'grep -c " /var/log/journal " /proc/mounts || true')).toBe('0\n');
    expect(await errorLine(['create', '--systemd', 'maybe', IMG])).toMatch(/invalid --systemd "maybe": use true, false or always/);
  });
});

describe('--chrootdirs, --subuidname, --rootfs', () => {
  it('--chrootdirs: /etc/hosts and /etc/resolv.conf are mounted in the chroot too', async () => {
    const script = 'cmp /etc/hosts /jail/etc/hosts && cmp /etc/resolv.conf /jail/etc/resolv.conf && echo same; grep -c " /jail/etc/" /proc/mounts';
    expect(await out('run', '--rm', '--chrootdirs', '/jail', IMG, 'sh', '-c', script)).toBe('same\n2\n');
    expect(await errorLine(['run', '--chrootdirs', 'jail', IMG, 'true'])).toMatch(/invalid --chrootdirs "jail": use an absolute path/);
  });

  it("--subuidname maps the named /etc/subuid range (as ids of skiff's namespace); a name with none is refused", async () => {
    const name = isRoot ? TEST_USER : execFileSync('id', ['-un']).toString().trim();
    const [, start, count] = readFileSync('/etc/subuid', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`))!
      .split(':');
    // Root in the container cannot search the sandbox's directories otherwise (as Podman needs too).
    for (const d of [sb.dir, sb.home, join(sb.home, '.local'), join(sb.home, '.local/share')]) execFileSync('chmod', ['o+x', d]);
    const maps = await out('run', '--rm', '--subuidname', name, IMG, 'sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map');
    const lines = maps
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    expect(lines[0]).toEqual([0, 1, Number(count)]);
    expect(lines[1]![0]).toBe(0);
    expect(Number(start)).toBeGreaterThan(0);
    expect(await errorLine(['run', '--subuidname', 'no-such-user-here', IMG, 'true'])).toMatch(
      /--subuidname no-such-user-here: \/etc\/subuid has no range for no-such-user-here/,
    );
    expect(await errorLine(['run', '--subgidname', name, '--userns', 'keep-id', IMG, 'true'])).toMatch(/cannot be used with --userns=keep-id/);
  });

  it('--rootfs DIR runs the directory as the root (written); DIR:O puts an overlay on it (not written)', async () => {
    const root = makeRootfs('plain-root');
    expect(await out('run', '--rm', '--rootfs', root, 'sh', '-c', 'echo made > /made; echo ok')).toBe('ok\n');
    expect(readFileSync(join(root, 'made'), 'utf8')).toBe('made\n');
    expect(await out('run', '--rm', '--rootfs', `${root}:O`, 'sh', '-c', 'echo made > /made-o; cat /made-o /made')).toBe('made\nmade\n');
    expect(existsSync(join(root, 'made-o'))).toBe(false);
    await sb.runCli(0, 'run', '-d', '--name', 'fromdir', '--rootfs', `${root}:O`, 'sh', '-c', 'sleep 30');
    expect(await out('ps', '--format', '{{.Names}} {{.Image}}')).toBe(`fromdir ${root}:O\n`);
    expect(await errorLine(['commit', 'fromdir', 'fromdir-image'])).toMatch(/runs a --rootfs directory, not an image: make an image of it with/);
    // A clone runs the same directory (it had no image to take: "invalid reference").
    await sb.runCli(0, 'container', 'clone', 'fromdir', 'fromdir-copy');
    expect(await out('ps', '-a', '--filter', 'name=fromdir-copy', '--format', '{{.Names}} {{.Image}}')).toBe(`fromdir-copy ${root}:O\n`);
    await sb.runCli(0, 'start', 'fromdir-copy');
    expect(await out('exec', 'fromdir-copy', 'sh', '-c', 'echo in-copy')).toBe('in-copy\n');
    await sb.runCli(0, 'container', 'clone', 'fromdir', 'fromdir-image', IMG);
    expect(await out('inspect', '--format', '{{.ImageName}}', 'fromdir-image')).toBe(`${IMG}:latest\n`);
    await sb.runCli(0, 'start', 'fromdir-image');
    expect(await out('exec', 'fromdir-image', 'ls', '/bin')).toMatch(/busybox/);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'fromdir', 'fromdir-copy', 'fromdir-image');
    expect(await errorLine(['run', '--rootfs', join(sb.dir, 'nowhere'), 'true'])).toMatch(/--rootfs .*nowhere is not a directory/);
    expect(await errorLine(['run', '--userns', 'keep-id', '--rootfs', root, 'true'])).toMatch(/--rootfs runs the directory with your own ids/);
  });
});

describe('flags accepted with a warning, refused, or needing a cgroup', () => {
  it('--device-cgroup-rule: checked, then left out with one warning (a rootless container has no device cgroup)', async () => {
    const r = await sb.runCli(0, 'run', '--rm', '--device-cgroup-rule', 'c 1:3 rwm', IMG, 'sh', '-c', 'echo ran');
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/--device-cgroup-rule has no effect on a rootless container/)]);
    expect(await errorLine(['run', '--device-cgroup-rule', 'c 1 rwm', IMG, 'true'])).toMatch(/invalid --device-cgroup-rule "c 1 rwm"/);
  });

  it('--pod, --pod-id-file and --init-ctr are refused: no pods yet', async () => {
    expect(await errorLine(['run', '--pod', 'p', IMG, 'true'])).toBe('Error: --pod: pods are not supported by skiff yet: run the container without it');
    expect(await errorLine(['create', '--pod-id-file', join(sb.dir, 'pod.id'), IMG, 'true'])).toMatch(/^Error: --pod-id-file: pods are not supported/);
    expect(await errorLine(['create', '--init-ctr', 'once', IMG, 'true'])).toMatch(/^Error: --init-ctr: pods are not supported/);
    expect(await out('ps', '-a', '-q')).toBe('');
  });

  it('--cpu-rt-period, --cpu-rt-runtime and --blkio-weight-device: values checked; limits need a cgroup (update too)', async () => {
    const why = JSON.parse(await out('info', '--format', 'json')).host.cgroupLimits as string;
    expect(why).toMatch(/^none: /); // this host gives the test user no cgroup (see 200-limits)
    for (const flags of [
      ['--cpu-rt-period', '1000000'],
      ['--cpu-rt-runtime', '950000'],
      ['--blkio-weight-device', '/dev/null:200'],
    ])
      expect(await errorLine(['run', '--rm', ...flags, IMG, 'true'])).toMatch(new RegExp(`${flags[0]} cannot be enforced`));
    expect(await errorLine(['run', '--blkio-weight-device', '/dev/sda:5', IMG, 'true'])).toMatch(/the weight is 0 or from 10 to 1000/);
    expect(await errorLine(['run', '--blkio-weight-device', 'sda:200', IMG, 'true'])).toMatch(/use DEVICE-PATH:WEIGHT/);
    expect(await errorLine(['run', '--cpu-rt-period', 'x', IMG, 'true'])).toMatch(/invalid --cpu-rt-period "x"/);
    await sb.runCli(0, 'create', '--name', 'limited', IMG, 'true');
    expect(await errorLine(['update', '--cpu-rt-runtime', '1000', 'limited'])).toMatch(/has no cgroup of its own/);
    expect(await errorLine(['update', '--blkio-weight-device', '/dev/null:100', 'limited'])).toMatch(/has no cgroup of its own/);
  });
});
