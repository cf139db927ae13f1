// Podman's container flags that scripts use, each against real containers: -l/--latest on the
// one-container commands, ps --sort/--ns/--sync/--watch/--external/--pod, logs with several
// containers (--names, --color), port --all, exec --env-file/--preserve-fds/--detach-keys,
// restart --running, rm --depend, inspect --size, container prune --filter, cp --overwrite and
// commit --format/--iidfile/--squash/--include-volumes.
import { closeSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'];

const sb = useSandbox('container-flags', { pull: [IMG] });

// Every container goes after each test: --latest and ps see only the test's own.
afterEach(async () => {
  await sb.run(['rm', '-a', '-f', '-t', '0', '--depend']);
});

const runDetached = async (name: string, ...rest: string[]): Promise<string> =>
  (await sb.runCli(0, 'run', '-d', '--name', name, ...rest, IMG, ...SLEEPER)).stdout.trim();

// The link /proc/PID/ns/NS names ("net:[4026531992]").
const readlinkNs = (pid: number, ns: string): string => readlinkSync(`/proc/${pid}/ns/${ns}`);

const errorLine = async (args: string[], code = 125): Promise<string> => {
  const r = await sb.run(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
};

describe('--latest', () => {
  it('acts on the newest container: attach, exec, logs, port, start, top, wait, inspect, container inspect', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'older', '-p', '18081:80', IMG, ...SLEEPER);
    const newest = (
      await sb.runCli(0, 'run', '-d', '--name', 'newer', '-p', '18082:80', IMG, 'sh', '-c', 'echo hello from newer; exec sleep 30')
    ).stdout.trim();
    expect((await sb.runCli(0, 'exec', '-l', 'sh', '-c', 'echo $HOSTNAME')).stdout.trim()).toBe(newest.slice(0, 12));
    expect((await sb.runCli(0, 'logs', '-l')).stdout).toBe('hello from newer\n');
    expect((await sb.runCli(0, 'port', '-l')).stdout).toBe('80/tcp -> 0.0.0.0:18082\n');
    expect((await sb.runCli(0, 'port', '-l', '80')).stdout).toBe('0.0.0.0:18082\n');
    expect((await sb.runCli(0, 'top', '-l')).stdout).toMatch(/sleep 30/);
    expect(JSON.parse((await sb.runCli(0, 'inspect', '-l')).stdout)[0].Id).toBe(newest);
    expect(JSON.parse((await sb.runCli(0, 'container', 'inspect', '-l')).stdout)[0].Name).toBe('newer');
    await sb.runCli(0, 'kill', 'newer');
    expect((await sb.runCli(0, 'wait', '-l')).stdout).toBe('137\n');
    expect((await sb.runCli(0, 'start', '-l')).stdout).toBe(`${newest}\n`);
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'newer')).stdout).toBe('running\n');
    // attach -l: the newest one's output until it ends.
    await sb.runCli(0, 'run', '-d', '--name', 'newest', IMG, 'sh', '-c', 'sleep 1; echo attached; exit 3');
    const attach = await sb.run(['attach', '-l', '--no-stdin']);
    expect([attach.code, attach.stdout]).toEqual([3, 'attached\n']);
    // A name and --latest together, or neither, is a usage error.
    expect(await errorLine(['logs', '-l', 'older'])).toMatch(/--latest takes no container name/);
    expect(await errorLine(['top'])).toMatch(/name a container, or use --latest/);
  });

  it('with no container at all fails naming --latest', async () => {
    expect(await errorLine(['logs', '-l'])).toMatch(/--latest found none/);
    expect(await errorLine(['exec', '-l', 'true'])).toMatch(/--latest found none/);
  });
});

describe('ps', () => {
  it('--sort orders by Podman keys; a bad key is refused', async () => {
    await runDetached('bbb');
    await runDetached('ccc');
    await runDetached('aaa');
    const names = async (...flags: string[]) => (await sb.runCli(0, 'ps', '--format', '{{.Names}}', ...flags)).stdout.trim().split('\n');
    // Podman lists the oldest first.
    expect(await names()).toEqual(['bbb', 'ccc', 'aaa']);
    expect(await names('--sort', 'created')).toEqual(['bbb', 'ccc', 'aaa']);
    expect(await names('--sort', 'names')).toEqual(['aaa', 'bbb', 'ccc']);
    expect(await names('--sort', 'runningfor')).toEqual(['bbb', 'ccc', 'aaa']);
    const ids = (await sb.runCli(0, 'ps', '-q', '--no-trunc', '--sort', 'id')).stdout.trim().split('\n');
    expect(ids).toEqual([...ids].sort());
    await sb.runCli(0, 'exec', 'ccc', 'sh', '-c', 'head -c 300000 /dev/zero > /big');
    expect((await names('--sort', 'size')).at(-1)).toBe('ccc');
    await sb.runCli(0, 'stop', '-t', '0', 'aaa');
    expect(await names('-a', '--sort', 'status')).toEqual(['aaa', 'bbb', 'ccc']);
    expect(await errorLine(['ps', '--sort', 'colour'])).toMatch(
      /invalid --sort "colour": use one of command, created, id, image, names, runningfor, size, status/,
    );
  });

  it('--ns shows the namespaces of running containers from /proc', async () => {
    await runDetached('spaced');
    await sb.runCli(0, 'create', '--name', 'idle', IMG, 'true');
    const pid = Number((await sb.runCli(0, 'inspect', '--format', '{{.State.Pid}}', 'spaced')).stdout);
    const inode = (ns: string) => /\[(\d+)\]/.exec(readlinkNs(pid, ns))![1];
    const out = (await sb.runCli(0, 'ps', '-a', '--ns')).stdout.trim().split('\n');
    expect(out[0].split(/\s{2,}/)).toEqual(['CONTAINER ID', 'NAMES', 'PID', 'CGROUPNS', 'IPC', 'MNT', 'NET', 'PIDNS', 'USERNS', 'UTS']);
    const row = out.find((l) => l.includes('spaced'))!.split(/\s+/);
    expect(row.slice(1)).toEqual(['spaced', String(pid), ...['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'].map(inode)]);
    expect(
      out
        .find((l) => l.includes('idle'))!
        .split(/\s+/)
        .slice(1),
    ).toEqual(['idle', '0']);
    const json = JSON.parse((await sb.runCli(0, 'ps', '--ns', '--format', 'json')).stdout);
    expect(json[0].Namespaces.NET).toBe(inode('net'));
    expect((await sb.runCli(0, 'ps', '--ns', '--format', '{{.Namespaces.PIDNS}}')).stdout.trim()).toBe(inode('pid'));
  });

  it('--sync, --external and --pod are accepted; --pod adds the two empty pod columns', async () => {
    await runDetached('plain');
    expect((await sb.runCli(0, 'ps', '--sync', '--external', '--format', '{{.Names}}')).stdout).toBe('plain\n');
    const table = (await sb.runCli(0, 'ps', '--pod')).stdout.split('\n');
    expect(table[0]).toMatch(/NAMES\s+POD ID\s+PODNAME$/);
    expect(table[1]).toMatch(/plain\s*$/);
    expect(JSON.parse((await sb.runCli(0, 'ps', '--pod', '--format', 'json')).stdout)[0]).toMatchObject({ Pod: '', PodName: '' });
  });

  it('--watch prints the list again every N seconds', async () => {
    await runDetached('watched');
    const child = sb.spawn(['ps', '--watch', '1', '--format', '{{.Names}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const check = () => (out.split('watched').length > 2 ? resolve() : setTimeout(check, 50));
      check();
    });
    child.kill('SIGTERM');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(out.startsWith('\x1b[2J\x1b[1;1Hwatched\n\x1b[2J\x1b[1;1Hwatched\n')).toBe(true);
    expect(await errorLine(['ps', '--watch', '0'])).toMatch(/invalid --watch "0"/);
    expect(await errorLine(['ps', '--watch', '1', '-l'])).toMatch(/--watch and --latest cannot be used together/);
  });
});

describe('logs with several containers', () => {
  it('prefixes lines with short ids, with --names the names; --color only on a terminal', async () => {
    const one = (await sb.runCli(0, 'run', '-d', '--name', 'one', IMG, 'sh', '-c', 'echo first; echo second')).stdout.trim();
    const two = (await sb.runCli(0, 'run', '-d', '--name', 'two', IMG, 'sh', '-c', 'echo third')).stdout.trim();
    await sb.runCli(0, 'wait', 'one', 'two');
    expect((await sb.runCli(0, 'logs', 'one', 'two')).stdout).toBe(`${one.slice(0, 12)} first\n${one.slice(0, 12)} second\n${two.slice(0, 12)} third\n`);
    expect((await sb.runCli(0, 'logs', '--names', 'two', 'one')).stdout).toBe('two third\none first\none second\n');
    expect((await sb.runCli(0, 'logs', '-n', 'one')).stdout).toBe('first\nsecond\n');
    // Not a terminal: no colour.
    expect((await sb.runCli(0, 'logs', '--color', '-n', 'one', 'two')).stdout).toBe('one first\none second\ntwo third\n');
    const tty = await sb.run(['logs', '--color', '-n', 'one', 'two'], { pty: true });
    expect(tty.stdout).toContain('\x1b[36mone first');
    expect(tty.stdout).toContain('\x1b[33mtwo third');
    expect(tty.stdout).not.toMatch(/\x1b\[3[36]m\x1b/);
    // One missing container fails the whole command before any output.
    const missing = await sb.run(['logs', 'one', 'nosuch']);
    expect([missing.code, missing.stdout]).toEqual([125, '']);
    expect(missing.stderr).toMatch(/nosuch/);
  });

  it('-f follows several until they all end', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'slow', IMG, 'sh', '-c', 'sleep 0.5; echo late');
    await sb.runCli(0, 'run', '-d', '--name', 'fast', IMG, 'sh', '-c', 'echo early');
    const out = (await sb.runCli(0, 'logs', '-f', '--names', 'slow', 'fast')).stdout.split('\n').sort();
    expect(out).toEqual(['', 'fast early', 'slow late']);
  });
});

describe('port --all', () => {
  it("lists every running container's ports after its short id; no name with it", async () => {
    const a = await runDetached('web-a', '-p', '18091:80');
    const b = await runDetached('web-b', '-p', '18092:8080/udp');
    await sb.runCli(0, 'create', '--name', 'web-idle', '-p', '18093:80', IMG, 'true');
    const lines = (await sb.runCli(0, 'port', '--all')).stdout.trim().split('\n').sort();
    expect(lines).toEqual([`${a.slice(0, 12)}\t80/tcp -> 0.0.0.0:18091`, `${b.slice(0, 12)}\t8080/udp -> 0.0.0.0:18092`].sort());
    expect(await errorLine(['port', '-a', 'web-a'])).toMatch(/--all takes no container name/);
  });
});

describe('exec', () => {
  it('--env-file sets variables, -e overrides them', async () => {
    await runDetached('envy');
    const file = join(sb.home, 'exec.env');
    writeFileSync(file, '# comment\nFOO=from-file\nBAR=bar\n');
    const r = await sb.runCli(0, 'exec', '--env-file', file, '-e', 'BAR=from-flag', 'envy', 'sh', '-c', 'echo $FOO $BAR');
    expect(r.stdout).toBe('from-file from-flag\n');
    const bad = join(sb.home, 'bad.env');
    writeFileSync(bad, '=bad\n');
    expect(await errorLine(['exec', '--env-file', bad, 'envy', 'true'])).toMatch(/invalid environment variable "=bad"/);
  });

  it('--preserve-fds passes fds 3.. on to the process', async () => {
    await runDetached('fds');
    const file = join(sb.home, 'fd3.txt');
    writeFileSync(file, 'through fd 3\n');
    const fd = openSync(file, 'r');
    try {
      const child = sb.spawn(['exec', '--preserve-fds', '1', 'fds', 'sh', '-c', 'cat <&3'], { stdio: ['ignore', 'pipe', 'pipe', fd] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect([code, out], err).toEqual([0, 'through fd 3\n']);
    } finally {
      closeSync(fd);
    }
    // Without it, fd 3 is not there; one that is not open here is refused.
    expect((await sb.run(['exec', 'fds', 'sh', '-c', 'cat <&3'])).code).not.toBe(0);
    expect(await errorLine(['exec', '--preserve-fds', '40', 'fds', 'true'])).toMatch(/--preserve-fds 40: file descriptor \d+ is not open/);
    expect(await errorLine(['exec', '--preserve-fds', 'x', 'fds', 'true'])).toMatch(/invalid --preserve-fds "x"/);
  });

  it('--detach-keys is checked as attach checks it', async () => {
    await runDetached('keys');
    expect((await sb.runCli(0, 'exec', '--detach-keys', 'ctrl-a,x', 'keys', 'sh', '-c', 'echo ok')).stdout).toBe('ok\n');
    expect((await sb.runCli(0, 'exec', '--detach-keys', '', 'keys', 'sh', '-c', 'echo ok')).stdout).toBe('ok\n');
    expect(await errorLine(['exec', '--detach-keys', 'ctrl-foo', 'keys', 'true'])).toMatch(/invalid detach key "ctrl-foo"/);
  });
});

describe('restart --running, rm --depend', () => {
  it('restart --running restarts only the running containers', async () => {
    await runDetached('up');
    await sb.runCli(0, 'create', '--name', 'down', IMG, 'true');
    const before = (await sb.runCli(0, 'inspect', '--format', '{{.State.StartedAt}}', 'up')).stdout;
    const r = await sb.runCli(0, 'restart', '--all', '--running');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.StartedAt}}', 'up')).stdout).not.toBe(before);
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'down')).stdout).toBe('created\n');
  });

  it('rm refuses a container others depend on, naming them; --depend removes them first', async () => {
    await runDetached('base');
    await sb.runCli(0, 'create', '--name', 'netdep', '--network', 'container:base', IMG, 'true');
    await sb.runCli(0, 'create', '--name', 'ipcdep', '--ipc', 'container:base', IMG, 'true');
    await sb.runCli(0, 'create', '--name', 'voldep', '--volumes-from', 'base', IMG, 'true');
    await sb.runCli(0, 'create', '--name', 'other', IMG, 'true');
    await sb.runCli(0, 'stop', '-t', '0', 'base');
    expect(await errorLine(['rm', 'base'])).toBe(
      'Error: container base has dependent containers which must be removed before it: netdep, ipcdep, voldep; remove them first, or use --depend',
    );
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout.split('\n')).toContain('base');
    const ids = Object.fromEntries(
      await Promise.all(['netdep', 'ipcdep', 'voldep'].map(async (n) => [n, (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', n)).stdout.trim()])),
    );
    const removed = (await sb.runCli(0, 'rm', '--depend', 'base')).stdout.trim().split('\n');
    expect(removed.at(-1)).toBe('base');
    expect(removed.slice(0, -1).sort()).toEqual(Object.values(ids).sort());
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).toBe('other\n');
  });
});

describe('inspect --size, container prune --filter', () => {
  it('inspect --size reports SizeRw and SizeRootFs', async () => {
    await runDetached('sized');
    await sb.runCli(0, 'exec', 'sized', 'sh', '-c', 'head -c 200000 /dev/zero > /blob');
    for (const cmd of [['inspect'], ['container', 'inspect']]) {
      const [j] = JSON.parse((await sb.runCli(0, ...cmd, '--size', 'sized')).stdout);
      expect(j.SizeRw).toBeGreaterThanOrEqual(200000);
      expect(j.SizeRootFs).toBeGreaterThan(j.SizeRw + 500000);
    }
    const [plainJson] = JSON.parse((await sb.runCli(0, 'inspect', 'sized')).stdout);
    expect(plainJson.SizeRw).toBeUndefined();
    expect((await sb.runCli(0, 'container', 'inspect', '-s', '--format', '{{.SizeRw}}', 'sized')).stdout.trim()).toMatch(/^\d{6,}$/);
  });

  it('container prune --filter until=, label=, label!=', async () => {
    const made = async (name: string, ...labels: string[]) =>
      (await sb.runCli(0, 'create', '--name', name, ...labels.flatMap((l) => ['--label', l]), IMG, 'true')).stdout.trim();
    const old = await made('old', 'keep=no');
    await new Promise((r) => setTimeout(r, 2100));
    const tagged = await made('tagged', 'team=a');
    const other = await made('other', 'team=b');
    const bare = await made('bare');
    expect((await sb.runCli(0, 'container', 'prune', '-f', '--filter', 'until=2s')).stdout).toBe(`${old}\n`);
    expect((await sb.runCli(0, 'container', 'prune', '-f', '--filter', 'label=team=a')).stdout).toBe(`${tagged}\n`);
    expect((await sb.runCli(0, 'container', 'prune', '-f', '--filter', 'label!=team')).stdout).toBe(`${bare}\n`);
    expect((await sb.runCli(0, 'ps', '-aq', '--no-trunc')).stdout).toBe(`${other}\n`);
    expect(await errorLine(['container', 'prune', '-f', '--filter', 'status=exited'])).toMatch(/container prune takes until=, label= and label!=/);
  });
});

describe('cp --overwrite', () => {
  it('lets a directory replace a file, both ways; without it the copy is refused', async () => {
    await runDetached('cpbox');
    await sb.runCli(0, 'exec', 'cpbox', 'sh', '-c', 'echo file > /target; mkdir -p /srcdir && echo inside > /srcdir/f');
    const dir = join(sb.home, 'cpdir');
    await sb.runCli(0, 'cp', 'cpbox:/srcdir', dir);
    expect(await errorLine(['cp', dir, 'cpbox:/target'])).toMatch(/cannot copy a directory onto \/target: it is not a directory; use --overwrite/);
    await sb.runCli(0, 'cp', '--overwrite', dir, 'cpbox:/target');
    expect((await sb.runCli(0, 'exec', 'cpbox', 'sh', '-c', 'cat /target/f')).stdout).toBe('inside\n');
    const hostFile = join(sb.home, 'hostfile');
    writeFileSync(hostFile, 'plain\n');
    expect(await errorLine(['cp', 'cpbox:/srcdir', hostFile])).toMatch(/use --overwrite/);
    await sb.runCli(0, 'cp', '--overwrite', 'cpbox:/srcdir', hostFile);
    expect(readFileSync(join(hostFile, 'f'), 'utf8')).toBe('inside\n');
  });
});

describe('commit', () => {
  it('--format oci|docker, --iidfile, --include-volumes', async () => {
    await runDetached('maker');
    await sb.runCli(0, 'exec', 'maker', 'sh', '-c', 'echo made > /made');
    const iid = join(sb.home, 'iid');
    const id = (await sb.runCli(0, 'commit', '--format', 'oci', '--iidfile', iid, '--include-volumes', 'maker', 'localhost/made:oci')).stdout.trim();
    expect(readFileSync(iid, 'utf8')).toBe(id);
    const media = async (ref: string) => (await sb.runCli(0, 'image', 'inspect', '--format', '{{.ManifestType}}', ref)).stdout.trim();
    expect(await media('localhost/made:oci')).toBe('application/vnd.oci.image.manifest.v1+json');
    await sb.runCli(0, 'commit', '-f', 'docker', 'maker', 'localhost/made:docker');
    expect(await media('localhost/made:docker')).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const bad = await sb.run(['commit', '--format', 'v1', 'maker', 'localhost/made:bad']);
    expect([bad.code, bad.stderr]).toEqual([125, expect.stringMatching(/v1/)]);
    expect((await sb.runCli(0, 'run', '--rm', 'localhost/made:oci', 'sh', '-c', 'cat /made')).stdout).toBe('made\n');
  });

  it('--squash makes the whole root one layer', async () => {
    await runDetached('squasher');
    await sb.runCli(0, 'exec', 'squasher', 'sh', '-c', 'echo squashed > /sq; rm /bin/su');
    const layers = async (ref: string) => JSON.parse((await sb.runCli(0, 'image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref)).stdout).length;
    await sb.runCli(0, 'commit', 'squasher', 'localhost/layered');
    await sb.runCli(0, 'commit', '--squash', 'squasher', 'localhost/squashed');
    expect(await layers('localhost/layered')).toBe((await layers(IMG)) + 1);
    expect(await layers('localhost/squashed')).toBe(1);
    expect((await sb.runCli(0, 'run', '--rm', 'localhost/squashed', 'sh', '-c', 'cat /sq; test -e /bin/su || echo no su')).stdout).toBe('squashed\nno su\n');
  });
});
