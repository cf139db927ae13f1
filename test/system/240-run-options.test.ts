// Podman's run/create flags that scripts use, each seen from inside a real container: --tz,
// --umask, --shm-size, --sysctl, --group-add, --no-hosts, --expose with -P, --annotation,
// --label-file, --pidfile/--conmon-pidfile, the environment flags (--env-host, --unsetenv,
// --unsetenv-all, --env-merge, --http-proxy), --personality, --ipc/--pid/--uts, and the flags that
// only check (--platform, --seccomp-policy, --init-path, --disable-content-trust).
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('run-options', { pull: [IMG] });

// A script's output in a new container with `flags`.
const out = async (flags: string[], script: string, env?: Record<string, string>): Promise<string> => {
  const r = await sb.run(['run', '--rm', ...flags, IMG, '/bin/sh', '-c', script], { env });
  expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim();
};
const refused = async (flags: string[], message: RegExp): Promise<void> => {
  const r = await sb.run(['run', '--rm', '--name', 'refused', ...flags, IMG, 'true']);
  expect(r.code, flags.join(' ')).toBe(125);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
};
const inspect = async (name: string) => JSON.parse((await sb.runCli(0, 'inspect', name)).stdout)[0];

describe('run flags, seen from inside', () => {
  it('--tz, --umask, --shm-size, --sysctl, --personality', async () => {
    expect(await out(['--tz', 'Europe/Paris'], 'date +%Z')).toMatch(/^CES?T$/);
    expect(await out(['--tz', 'Asia/Tokyo'], 'date +%Z')).toBe('JST');
    expect(await out([], 'date +%Z')).toBe('UTC');
    await refused(['--tz', 'Nowhere/Land'], /unknown time zone "Nowhere\/Land"/);
    await refused(['--tz', '../etc'], /invalid --tz "..\/etc"/);
    expect(await out(['--umask', '0077'], 'umask')).toBe('0077');
    await refused(['--umask', '999'], /invalid --umask "999"/);
    await refused(['--shm-size', 'big'], /invalid --shm-size "big"/);
    expect(await out(['--shm-size', '2m'], 'grep " /dev/shm " /proc/mounts')).toMatch(/size=2048k/);
    expect(
      await out(
        ['--sysctl', 'kernel.shmmax=123456', '--sysctl', 'net.ipv4.ip_forward=1', '--network', 'none'],
        'cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward',
      ),
    ).toBe('123456\n1');
    await refused(['--sysctl', 'vm.swappiness=1'], /--sysctl vm\.swappiness is not a namespaced kernel parameter/);
    await refused(['--sysctl', 'net.ipv4.ip_forward=1', '--network', 'host'], /which --network host shares with the host/);
    expect(await out(['--personality', 'LINUX32'], 'uname -m')).toMatch(/^i[36]86$/);
  });

  it('--group-add, --no-hosts, --annotation, --label-file, --expose with -P', async () => {
    expect((await out(['--group-add', '1234', '--group-add', '99'], 'id -G')).split(' ')).toEqual(expect.arrayContaining(['1234', '99']));
    const bad = await sb.run(['run', '--rm', '--group-add', 'nosuchgroup', IMG, 'true']);
    expect([bad.code, bad.stderr]).toEqual([126, expect.stringMatching(/unable to find group nosuchgroup \(--group-add\)/)]);
    expect(await out([], 'grep -c " /etc/hosts " /proc/mounts')).toBe('1');
    expect(await out(['--no-hosts'], 'grep -c " /etc/hosts " /proc/mounts || true')).toBe('0');
    const labels = join(sb.home, 'labels');
    writeFileSync(labels, '# team labels\nteam=infra\n\ntier=web\n');
    await sb.runCli(
      0,
      'create',
      '--name',
      'annotated',
      '--annotation',
      'org.example/note=hi',
      '--label-file',
      labels,
      '--label',
      'tier=db',
      IMG,
      'sh',
      '-c',
      'exit 0',
    );
    const a = await inspect('annotated');
    expect(a.Config.Annotations).toMatchObject({ 'org.example/note': 'hi' });
    expect(a.Config.Labels).toMatchObject({ team: 'infra', tier: 'db' });
    await sb.runCli(0, 'start', 'annotated');
    const spec = JSON.parse(readFileSync(join(sb.dataDir, 'containers', a.Id, 'bundle', 'config.json'), 'utf8'));
    expect(spec.annotations['org.example/note']).toBe('hi');
    await sb.runCli(0, 'run', '-d', '--name', 'exposed', '--expose', '7777', '-P', IMG, 'sh', '-c', 'sleep 60');
    expect((await sb.runCli(0, 'port', 'exposed')).stdout).toMatch(/^7777\/tcp -> 0\.0\.0\.0:\d+$/m);
    // Podman 4.3 has no Config.ExposedPorts: the port is in NetworkSettings.Ports (published by -P).
    const exposed = await inspect('exposed');
    expect(Object.keys(exposed.NetworkSettings.Ports)).toEqual(['7777/tcp']);
    expect(exposed.HostConfig.PublishAllPorts).toBe(true);
    await sb.runCli(0, 'create', '--name', 'exposed-only', '--expose', '7778', IMG, 'true');
    expect((await inspect('exposed-only')).NetworkSettings.Ports).toEqual({ '7778/tcp': null });
    await refused(['--expose', 'http'], /invalid --expose "http"/);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'annotated', 'exposed', 'exposed-only');
  });

  it('--pidfile and --conmon-pidfile get the pids of each start', async () => {
    const pidfile = join(sb.home, 'ctr.pid');
    const conmon = join(sb.home, 'monitor.pid');
    await sb.runCli(0, 'run', '-d', '--name', 'pids', '--pidfile', pidfile, '--conmon-pidfile', conmon, IMG, 'sh', '-c', 'sleep 60');
    const state = (await inspect('pids')).State;
    expect(readFileSync(pidfile, 'utf8')).toBe(`${state.Pid}\n`);
    expect(readFileSync(conmon, 'utf8')).toBe(`${state.ConmonPid}\n`);
    await sb.runCli(0, 'restart', '-t', '0', 'pids');
    expect(readFileSync(pidfile, 'utf8')).toBe(`${(await inspect('pids')).State.Pid}\n`);
    expect(readFileSync(pidfile, 'utf8')).not.toBe(`${state.Pid}\n`);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'pids');
  });

  it('the environment flags', async () => {
    const env = async (flags: string[], hostEnv?: Record<string, string>) => (await out(flags, 'env | sort', hostEnv)).split('\n');
    expect(await env(['--env-host'], { FROM_HOST: 'yes' })).toContain('FROM_HOST=yes');
    expect(await env([], { FROM_HOST: 'yes' })).not.toContain('FROM_HOST=yes');
    expect(await env(['--unsetenv', 'container'])).not.toContainEqual(expect.stringMatching(/^container=/));
    expect(await env(['--unsetenv-all', '-e', 'ONLY=me'])).toEqual(expect.arrayContaining(['ONLY=me']));
    // (The shell puts a PATH of its own when it finds none: not skiff's default.)
    const bare = await env(['--unsetenv-all', '-e', 'ONLY=me']);
    expect(bare.filter((e) => /^(container|HOSTNAME)=/.test(e) || e.startsWith('PATH=/usr/local/sbin'))).toEqual([]);
    expect(await env(['--env-merge', 'PATH=${PATH}:/opt/tools'])).toContainEqual(expect.stringMatching(/^PATH=\/usr\/local\/sbin:.*:\/opt\/tools$/));
    expect(await env([], { http_proxy: 'http://proxy.example:3128' })).toContain('http_proxy=http://proxy.example:3128');
    expect(await env(['--http-proxy=false'], { http_proxy: 'http://proxy.example:3128' })).not.toContain('http_proxy=http://proxy.example:3128');
  });

  it("--uts, --ipc and --pid: the host's, or another container's", async () => {
    // The container's hostname is the host's with --uts host; --hostname cannot go with it.
    expect(await out(['--uts', 'host'], 'hostname')).toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    await refused(['--uts', 'host', '--hostname', 'x'], /--hostname cannot be set with --uts host/);
    // --ipc host: the host's IPC namespace (the test runs as root and can read init's).
    expect(await out(['--ipc', 'host'], 'readlink /proc/self/ns/ipc')).toBe(readlinkSync('/proc/self/ns/ipc'));
    expect(await out([], 'readlink /proc/self/ns/ipc')).not.toBe(readlinkSync('/proc/self/ns/ipc'));
    // --pid container:NAME: that container's processes, its pid 1 among them.
    await sb.runCli(0, 'run', '-d', '--name', 'pidowner', IMG, 'sh', '-c', 'sleep 61');
    expect(await out(['--pid', 'container:pidowner'], 'cat /proc/1/cmdline | tr "\\0" " "')).toBe('sleep 61');
    expect(await out(['--pid', 'host'], 'test -d /proc/1 && cat /proc/sys/kernel/pid_max >/dev/null && echo ok')).toBe('ok');
    await sb.runCli(0, 'stop', '-t', '0', 'pidowner');
    const r = await sb.run(['run', '--rm', '--pid', 'container:pidowner', IMG, 'true']);
    expect([r.code, r.stderr]).toEqual([125, expect.stringMatching(/--pid container:pidowner: pidowner is exited/)]);
    await refused(['--ipc', 'shareable-ish'], /invalid --ipc "shareable-ish"/);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'pidowner');
  });

  it('--log-driver none keeps no log; --log-opt path= puts it elsewhere', async () => {
    await sb.runCli(0, 'run', '--name', 'nolog', '--log-driver', 'none', IMG, 'sh', '-c', 'echo hi');
    expect((await sb.run(['logs', 'nolog'])).stderr).toMatch(/nolog uses the none log driver: it keeps no logs to read/);
    const path = join(sb.home, 'elsewhere.log');
    await sb.runCli(0, 'run', '--name', 'pathlog', '--log-opt', `path=${path}`, IMG, 'sh', '-c', 'echo there');
    expect(readFileSync(path, 'utf8')).toMatch(/ stdout F there\n$/);
    expect((await sb.runCli(0, 'logs', 'pathlog')).stdout).toBe('there\n');
    await refused(['--log-driver', 'journald'], /--log-driver journald is not supported/);
    await refused(['--log-opt', 'path=relative'], /invalid --log-opt "path=relative"/);
    await sb.runCli(0, 'rm', 'nolog', 'pathlog');
  });

  it('flags that check only', async () => {
    await refused(['--platform', 'linux/arm64'], /cannot run linux\/arm64 containers on this amd64 host/);
    expect(await out(['--platform', 'linux/amd64', '--disable-content-trust', '--seccomp-policy', 'default'], 'echo ok')).toBe('ok');
    await refused(['--seccomp-policy', 'image'], /--seccomp-policy image is not supported/);
    await refused(['--init-path', '/bin/true'], /--init-path needs --init/);
    await refused(['--init', '--init-path', '/no/such/init'], /--init-path \/no\/such\/init: no such file/);
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
  });
});
