// What Podman's scripts rely on, beyond flags: /run/.containerenv in every container (with what
// runs it under --privileged), TERM=xterm in the default environment, exit codes (126 for a working
// directory that cannot be entered or a command that cannot be executed), and --force letting
// a missing image or network pass.
import { describe, expect, inject, it } from 'vitest';
import { buildHelpers } from '../helpers/build.js';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('podman-behaviour', { pull: [IMG] });
const { context } = buildHelpers(sb);

describe('as Podman does it', () => {
  it('/run/.containerenv and TERM', async () => {
    expect((await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'test -f /run/.containerenv && wc -c < /run/.containerenv; echo $TERM')).stdout).toBe(
      '0\nxterm\n',
    );
    const env = (await sb.runCli(0, 'run', '--rm', '--privileged', '--name', 'priv', IMG, 'sh', '-c', 'cat /run/.containerenv')).stdout;
    expect(env).toMatch(/^engine="skiff-[\d.]+"\nname="priv"\nid="[a-f0-9]{64}"\nimage="[^"]+"\nimageid="[a-f0-9]{64}"\nrootless=1\n$/);
    expect((await sb.runCli(0, 'run', '--rm', '--read-only', IMG, 'sh', '-c', 'test -f /run/.containerenv && echo there')).stdout).toBe('there\n');
  });

  it('exit codes: a working directory that is a file, a command that is a directory', async () => {
    const wd = await sb.run(['run', '--rm', '-w', '/bin/sh', IMG, 'sh', '-c', 'pwd']);
    expect([wd.code, wd.stderr]).toEqual([126, expect.stringMatching(/cannot enter the working directory \/bin\/sh: it is not a directory/)]);
    expect((await sb.runCli(0, 'run', '--rm', '-w', '/made/for/me', IMG, 'sh', '-c', 'pwd')).stdout).toBe('/made/for/me\n');
    await sb.runCli(0, 'run', '-d', '--name', 'target', IMG, 'sh', '-c', 'sleep 60');
    expect((await sb.run(['exec', 'target', 'nosuchcommand'])).code).toBe(127);
    expect((await sb.run(['exec', 'target', '/etc'])).code).toBe(126);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'target');
  });

  it('--force lets a missing container, image or network pass', async () => {
    expect((await sb.run(['rm', '-f', 'nosuchcontainer'])).code).toBe(0);
    expect((await sb.run(['rm', 'nosuchcontainer'])).code).toBe(1);
    expect((await sb.run(['rmi', '-f', 'nosuchimage'])).code).toBe(0);
    expect((await sb.run(['rmi', 'nosuchimage'])).code).not.toBe(0);
    expect((await sb.run(['network', 'rm', '-f', 'nosuchnet'])).code).toBe(0);
    expect((await sb.run(['network', 'rm', 'nosuchnet'])).code).toBe(125);
  });

  it("build gives RUN steps run's flags: --shm-size, --no-hosts, --unsetenv, limits (refused here without a cgroup)", async () => {
    const dir = context('runflags', {
      Dockerfile: `FROM ${IMG}\nRUN grep " /dev/shm " /proc/mounts > /shm; grep -c " /etc/hosts " /proc/mounts > /hosts || true; env > /env\n`,
    });
    await sb.runCli(0, 'build', '-q', '-t', 'runflags', '--shm-size', '2m', '--no-hosts', '--unsetenv', 'container', '--isolation', 'oci', dir);
    const out = (await sb.runCli(0, 'run', '--rm', 'runflags', 'sh', '-c', 'cat /shm /hosts /env')).stdout;
    expect(out).toMatch(/size=2048k/);
    expect(out.split('\n')[1]).toBe('0');
    expect(out).not.toMatch(/^container=/m);
    const limited = await sb.run(['build', '-q', '--memory', '64m', '--no-cache', dir]);
    expect([limited.code, limited.stderr]).toEqual([125, expect.stringMatching(/--memory .*cannot be enforced/)]);
    expect((await sb.run(['build', '--isolation', 'chroot', dir])).stderr).toMatch(/--isolation chroot is not supported/);
  });

  it('listing flags: network ls --filter/--noheading, images --sort, history --human, logout --all', async () => {
    await sb.runCli(0, 'network', 'create', 'nf-one');
    await sb.runCli(0, 'network', 'create', '--label', 'team=a', 'nf-two');
    expect((await sb.runCli(0, 'network', 'ls', '--filter', 'label=team=a', '--format', '{{.Name}}')).stdout).toBe('nf-two\n');
    expect((await sb.runCli(0, 'network', 'ls', '--filter', 'name=^nf-', '--filter', 'label!=team', '--noheading')).stdout).toMatch(
      // Podman's (tabwriter) columns, at least 10 wide, with or without the header.
      /^\w{12} {2}nf-one {6}bridge\n$/,
    );
    expect((await sb.run(['network', 'ls', '--filter', 'colour=red'])).stderr).toMatch(/invalid network filter "colour=red"/);
    await sb.runCli(0, 'network', 'rm', '-t', '5', 'nf-one', 'nf-two');
    await sb.runCli(0, 'tag', IMG, 'localhost/aaa:1');
    const repos = (await sb.runCli(0, 'images', '--sort', 'repository', '--format', '{{.Repository}}')).stdout.trim().split('\n');
    expect(repos).toEqual([...repos].sort());
    expect(repos).toContain('localhost/aaa');
    expect((await sb.run(['images', '--sort', 'colour'])).code).toBe(125);
    const raw = (await sb.runCli(0, 'history', '--human=false', IMG)).stdout.split('\n')[1];
    expect(raw).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect((await sb.runCli(0, 'logout', '--all')).stdout).toBe('Removed login credentials for all registries\n');
    expect((await sb.run(['logout'])).stderr).toMatch(/logout needs a registry, or --all/);
  });

  it('network create --gateway, --ip-range, -o mtu=, --disable-dns; --ipv6 and other drivers refused', async () => {
    await sb.runCli(0, 'network', 'create', '--subnet', '10.77.0.0/24', '--gateway', '10.77.0.254', '--ip-range', '10.77.0.128/25', '-o', 'mtu=1400', 'ng');
    const inside = (await sb.runCli(0, 'run', '--rm', '--network', 'ng', IMG, 'sh', '-c', 'ip -o -4 addr show eth0; ip link show eth0; ip route')).stdout;
    expect(inside).toMatch(/inet 10\.77\.0\.128\/24/);
    expect(inside).toMatch(/mtu 1400/);
    expect(inside).toMatch(/default via 10\.77\.0\.254/);
    await sb.runCli(0, 'network', 'rm', 'ng');
    // --disable-dns: its members know no names (skiff-dns and /etc/hosts leave them out).
    await sb.runCli(0, 'network', 'create', '--disable-dns', 'nodns');
    expect(JSON.parse((await sb.runCli(0, 'network', 'inspect', 'nodns')).stdout)[0].dns_enabled).toBe(false);
    await sb.runCli(0, 'run', '-d', '--name', 'quiet1', '--network', 'nodns', IMG, 'sh', '-c', 'sleep 30');
    const hosts = (await sb.runCli(0, 'run', '--rm', '--network', 'nodns', IMG, 'sh', '-c', 'while read l; do echo "$l"; done < /etc/hosts')).stdout;
    expect(hosts).toMatch(/localhost/);
    expect(hosts).not.toMatch(/quiet1/);
    expect((await sb.run(['run', '--rm', '--network', 'nodns', IMG, 'sh', '-c', 'nslookup quiet1'])).code).not.toBe(0);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'quiet1');
    await sb.runCli(0, 'network', 'rm', 'nodns');
    for (const [flags, message] of [
      [['--gateway', '10.99.0.1', '--subnet', '10.78.0.0/24'], /invalid --gateway 10\.99\.0\.1: use a host address inside 10\.78\.0\.0\/24/],
      [['--ip-range', '10.5.0.0/25', '--subnet', '10.78.0.0/24'], /invalid --ip-range 10\.5\.0\.0\/25: it must lie inside/],
      [['-o', 'vlan=5'], /invalid --opt "vlan=5"/],
      [['--ipv6'], /--ipv6 is not supported/],
      [['--ipam-driver', 'dhcp'], /--ipam-driver dhcp is not supported/],
    ] as const) {
      const r = await sb.run(['network', 'create', ...flags, 'bad']);
      expect([r.code, r.stderr], flags.join(' ')).toEqual([125, expect.stringMatching(message)]);
    }
    expect((await sb.run(['network', 'exists', 'bad'])).code).toBe(1);
  });

  it('run --ip/--mac-address and network connect --ip on a named network', async () => {
    await sb.runCli(0, 'network', 'create', '--subnet', '10.79.0.0/24', 'nip');
    await sb.runCli(0, 'network', 'create', '--subnet', '10.80.0.0/24', 'nip2');
    await sb.runCli(
      0,
      'run',
      '-d',
      '--name',
      'fixed',
      '--network',
      'nip',
      '--ip',
      '10.79.0.50',
      '--mac-address',
      '92:D0:C6:0A:29:33',
      IMG,
      'sh',
      '-c',
      'sleep 60',
    );
    const eth0 = (await sb.runCli(0, 'exec', 'fixed', 'sh', '-c', 'ip -o -4 addr show eth0; ip link show eth0')).stdout;
    expect(eth0).toMatch(/inet 10\.79\.0\.50\/24/);
    expect(eth0).toMatch(/link\/ether 92:d0:c6:0a:29:33/);
    const taken = await sb.run(['run', '--rm', '--network', 'nip', '--ip', '10.79.0.50', IMG, 'true']);
    expect([taken.code, taken.stderr]).toEqual([125, expect.stringMatching(/address 10\.79\.0\.50 is in use on network nip/)]);
    for (const [flags, message] of [
      [['--network', 'nip', '--ip', '10.80.0.9'], /invalid --ip 10\.80\.0\.9: use a free host address of network nip/],
      [['--network', 'none', '--ip', '10.79.0.9'], /--ip needs a named network/],
      [['--network', 'nip', '--mac-address', '01:00:5e:00:00:01'], /invalid --mac-address 01:00:5e:00:00:01/],
      [['--network', 'nip', '--ip6', 'fd00::5'], /--ip6 is not supported/],
    ] as const) {
      const r = await sb.run(['run', '--rm', ...flags, IMG, 'true']);
      expect([r.code, r.stderr], flags.join(' ')).toEqual([125, expect.stringMatching(message)]);
    }
    await sb.runCli(0, 'network', 'connect', '--ip', '10.80.0.77', 'nip2', 'fixed');
    expect((await sb.runCli(0, 'exec', 'fixed', 'sh', '-c', 'ip -o -4 addr show eth1')).stdout).toMatch(/inet 10\.80\.0\.77\/24/);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'fixed');
    await sb.runCli(0, 'network', 'rm', 'nip', 'nip2');
  });

  it("--env-file is skiff's, never Node's own (Node 20 took one anywhere on its command line)", async () => {
    const r = await sb.run(['run', '--rm', '--env-file', '/no/such/env', IMG, 'sh', '-c', 'exit 0']);
    expect([r.code, r.stderr]).toEqual([125, expect.stringMatching(/cannot read env file \/no\/such\/env/)]);
  });

  it('--timeout kills a container that runs too long, --requires starts what it needs first, --rmi takes the image with it', async () => {
    const t0 = Date.now();
    const timed = await sb.run(['run', '--rm', '--timeout', '2', IMG, 'sh', '-c', 'sleep 30']);
    expect(timed.code).toBe(137);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect((await sb.run(['run', '--rm', '--timeout', 'soon', IMG, 'sh', '-c', 'exit 0'])).stderr).toMatch(/invalid --timeout "soon"/);
    await sb.runCli(0, 'create', '--name', 'needed', IMG, 'sh', '-c', 'sleep 60');
    await sb.runCli(0, 'create', '--name', 'needer', '--requires', 'needed', IMG, 'sh', '-c', 'sleep 60');
    await sb.runCli(0, 'start', 'needer');
    const status = async (name: string) => JSON.parse((await sb.runCli(0, 'inspect', name)).stdout)[0].State.Status;
    expect([await status('needed'), await status('needer')]).toEqual(['running', 'running']);
    expect((await sb.run(['create', '--requires', 'nosuch', IMG, 'true'])).stderr).toMatch(/no such container: nosuch/);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'needer', 'needed');
    await sb.runCli(0, 'tag', IMG, 'localhost/throwaway:1');
    await sb.runCli(0, 'run', '--rmi', 'localhost/throwaway:1', 'sh', '-c', 'exit 0');
    expect((await sb.run(['image', 'exists', 'localhost/throwaway:1'])).code).toBe(1);
    expect((await sb.run(['image', 'exists', IMG])).code).toBe(0); // another name of the same image: kept
  });
});
