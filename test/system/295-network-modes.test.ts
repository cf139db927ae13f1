// Network modes with options, as Podman writes them: slirp4netns:cidr=,mtu=,allow_host_loopback=,
// outbound_addr=,enable_ipv6=,port_handler=; pasta:OPTIONS (skiff's own refused); ns:PATH (another
// container's namespace); private (the default network); bridge (Podman's `podman` network, made on
// first use). Traffic goes only to this host's loopback and addresses, and inside the test's own
// namespaces.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';
import { fetchTcp } from '../helpers/net.js';
import { freePort } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('netmodes', { pull: [IMG] });

afterEach(async () => {
  await sb.run(['rm', '-a', '-f', '-t', '0']);
});

// What the container prints (exit 0 asserted).
const inside = async (network: string, script: string, ...flags: string[]): Promise<string> =>
  (await sb.runCli(0, 'run', '--rm', '--network', network, ...flags, IMG, 'sh', '-c', script)).stdout;

const errorLine = async (args: string[]): Promise<string> => {
  const r = await sb.run(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(125);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
};

// A TCP server on `host` that records each client's address and what it sent.
const recorder = async (host: string): Promise<{ port: number; seen: string[]; server: Server }> => {
  const seen: string[] = [];
  const server = createServer((s) => {
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('end', () => {
      seen.push(`${s.remoteAddress?.replace(/^::ffff:/, '')} ${data.trim()}`);
      s.end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { port, seen, server };
};

const hostAddress = (): string =>
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal)!.address;

describe('slirp4netns:OPTIONS', () => {
  it('cidr= gives the container the 100th address of that network, its gateway and name server', async () => {
    const out = await inside('slirp4netns:cidr=10.0.5.0/24', 'ip -4 addr show tap0; ip route; cat /etc/resolv.conf');
    expect(out).toMatch(/inet 10\.0\.5\.100\/24/);
    expect(out).toMatch(/default via 10\.0\.5\.2 dev tap0/);
    expect(out).toMatch(/nameserver 10\.0\.5\.3/);
    await sb.runCli(0, 'run', '-d', '--name', 'c5', '--network', 'slirp4netns:cidr=10.0.5.0/24', IMG, 'sh', '-c', 'sleep 30');
    expect((await sb.runCli(0, 'inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'c5')).stdout).toBe('10.0.5.100\n');
    // The default stays 10.0.2.0/24.
    expect(await inside('slirp4netns', 'ip -4 addr show tap0')).toMatch(/inet 10\.0\.2\.100\/24/);
  });

  it('mtu= sets the interface MTU', async () => {
    expect(await inside('slirp4netns:mtu=1400', 'read m < /sys/class/net/tap0/mtu; echo $m')).toBe('1400\n');
    expect(await inside('slirp4netns', 'read m < /sys/class/net/tap0/mtu; echo $m')).toBe('65520\n');
  });

  it('allow_host_loopback=true reaches a server on the host loopback at 10.0.2.2; the default does not', async () => {
    const { port, seen, server } = await recorder('127.0.0.1');
    try {
      await inside('slirp4netns:allow_host_loopback=true', `echo via-gateway | nc -w 3 10.0.2.2 ${port}; grep host.containers.internal /etc/hosts`);
      expect(seen).toEqual(['127.0.0.1 via-gateway']);
      const refused = await sb.run(['run', '--rm', '--network', 'slirp4netns', IMG, 'sh', '-c', `echo nope | nc -w 3 10.0.2.2 ${port}`]);
      expect(refused.code).not.toBe(0);
      expect(seen).toHaveLength(1);
      // host.containers.internal names the gateway when it is the host's loopback.
      expect(await inside('slirp4netns:allow_host_loopback=true', 'grep host.containers.internal /etc/hosts')).toMatch(/^10\.0\.2\.2\s/);
    } finally {
      server.close();
    }
  });

  it("outbound_addr= is the source of the container's connections (an address or an interface)", async () => {
    const address = hostAddress();
    const iface = Object.entries(networkInterfaces()).find(([, list]) => list?.some((a) => a.address === address))![0];
    const { port, seen, server } = await recorder('0.0.0.0');
    try {
      for (const net of [`slirp4netns:allow_host_loopback=true,outbound_addr=${address}`, `slirp4netns:allow_host_loopback=true,outbound_addr=${iface}`])
        await inside(net, `echo bound | nc -w 3 10.0.2.2 ${port}`);
      await inside('slirp4netns:allow_host_loopback=true', `echo plain | nc -w 3 10.0.2.2 ${port}`);
      expect(seen).toEqual([`${address} bound`, `${address} bound`, '127.0.0.1 plain']);
    } finally {
      server.close();
    }
  });

  it('enable_ipv6=true gives the interface an fd00::/64 address', async () => {
    const wait = 'for i in 1 2 3 4 5 6 7 8 9 10; do ip -6 addr show tap0 | grep -q "inet6 fd00::" && break; sleep 1; done; ip -6 addr show tap0';
    expect(await inside('slirp4netns:enable_ipv6=true', wait)).toMatch(/inet6 fd00::/);
    expect(await inside('slirp4netns:enable_ipv6=false', 'sleep 2; ip -6 addr show tap0')).not.toMatch(/inet6 fd00::/);
  });

  it('port_handler=slirp4netns publishes ports through slirp4netns itself (rootlesskit, the default: skiff-monitor)', async () => {
    const listener = (port: number) => execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
    for (const [handler, owner] of [
      ['slirp4netns', 'slirp4netns'],
      ['rootlesskit', 'skiff-monitor'],
    ]) {
      const port = await freePort();
      const net = `slirp4netns:port_handler=${handler}`;
      await sb.runCli(
        0,
        'run',
        '-d',
        '--network',
        net,
        '-p',
        `127.0.0.1:${port}:80`,
        IMG,
        'sh',
        '-c',
        `while true; do echo via-${handler} | nc -l -p 80; done`,
      );
      expect(await fetchTcp(port)).toBe(`via-${handler}\n`);
      expect(listener(port)).toContain(`(("${owner}"`);
    }
  });

  it('refuses unknown options and bad values in one line, before anything is made', async () => {
    expect(await errorLine(['run', '--network', 'slirp4netns:color=blue', IMG, 'true'])).toMatch(/invalid slirp4netns option "color=blue": unknown option/);
    expect(await errorLine(['run', '--network', 'slirp4netns:cidr=10.0.5.0', IMG, 'true'])).toMatch(/invalid slirp4netns option "cidr=10.0.5.0"/);
    expect(await errorLine(['run', '--network', 'slirp4netns:mtu=20', IMG, 'true'])).toMatch(/"mtu=20": use a number from 68 to 65521/);
    expect(await errorLine(['run', '--network', 'slirp4netns:allow_host_loopback=yes', IMG, 'true'])).toMatch(/use true or false/);
    expect(await errorLine(['run', '--network', 'slirp4netns:port_handler=other', IMG, 'true'])).toMatch(/use rootlesskit or slirp4netns/);
    expect(await errorLine(['run', '--network', 'slirp4netns:outbound_addr=nowhere0', IMG, 'true'])).toMatch(/an IPv4 address or an interface/);
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
  });
});

describe('pasta:OPTIONS', () => {
  it("passes pasta's own options on: -a/-n/-g set the container's address, route and host.containers.internal", async () => {
    const out = await inside('pasta:-a,10.0.6.50,-n,24,-g,10.0.6.1', 'ip -4 addr show; ip route; grep host.containers.internal /etc/hosts');
    expect(out).toMatch(/inet 10\.0\.6\.50\/24/);
    expect(out).toMatch(/default via 10\.0\.6\.1/);
    expect(out).toMatch(/^10\.0\.6\.1\s+host\.containers\.internal/m);
    await sb.runCli(0, 'run', '-d', '--name', 'p6', '--network', 'pasta:-a,10.0.6.50,-n,24,-g,10.0.6.1', IMG, 'sh', '-c', 'sleep 30');
    expect((await sb.runCli(0, 'inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'p6')).stdout).toBe('10.0.6.50\n');
  });

  it("refuses the options that are skiff's to set, naming what to do instead", async () => {
    expect(await errorLine(['run', '--network', 'pasta:-t,8080', IMG, 'true'])).toMatch(/pasta's -t is skiff's to set: publish ports with -p/);
    expect(await errorLine(['run', '--network', 'pasta:--netns=/tmp/x', IMG, 'true'])).toMatch(/pasta's --netns is skiff's to set/);
    expect(await errorLine(['run', '--network', 'pasta:-qf', IMG, 'true'])).toMatch(/pasta's -f is skiff's to set/);
    expect(await errorLine(['run', '--network', 'pasta:--dns-forward,10.0.0.1', IMG, 'true'])).toMatch(/--dns-forward is skiff's to set/);
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
  });
});

describe('ns:PATH, private, bridge', () => {
  it("ns:PATH joins another container's network namespace (/proc/PID/ns/net)", async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'owner', '--network', 'slirp4netns:cidr=10.0.8.0/24', IMG, 'sh', '-c', 'sleep 60');
    const pid = (await sb.runCli(0, 'inspect', '--format', '{{.State.Pid}}', 'owner')).stdout.trim();
    expect(await inside(`ns:/proc/${pid}/ns/net`, 'ip -4 addr show tap0')).toMatch(/inet 10\.0\.8\.100\/24/);
    expect(await errorLine(['run', '--network', 'ns:/nonexistent/net', IMG, 'true'])).toMatch(
      /--network ns:\/nonexistent\/net: no such network namespace file/,
    );
    expect(await errorLine(['run', '--network', `ns:/proc/${pid}/ns/net`, '-p', '8080:80', IMG, 'true'])).toMatch(
      /ports cannot be published with --network ns:/,
    );
    expect(await errorLine(['run', '--network', 'ns:relative', IMG, 'true'])).toMatch(/use ns:PATH, the absolute path/);
  });

  it('private is the default network (not none)', async () => {
    const own = await inside('private', 'ip -4 addr show | grep -c inet');
    const byDefault = (await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'ip -4 addr show | grep -c inet')).stdout;
    expect(own).toBe(byDefault);
    expect(own).toBe('2\n'); // loopback and the way out
  });

  it("bridge is Podman's default network `podman`, made on first use", async () => {
    // (Made on first use: see 315-default-network; other containers of this file made it already, as the default network.)
    expect(await inside('bridge', 'ip -4 addr show eth0')).toMatch(/inet 10\.88\.\d+\.\d+\/16/);
    expect((await sb.runCli(0, 'network', 'ls', '--format', '{{.Name}}')).stdout).toMatch(/^podman$/m);
    // A second container on it reaches the first.
    await sb.runCli(0, 'run', '-d', '--name', 'peer', '--network', 'bridge', IMG, 'sh', '-c', 'while true; do echo from-peer | nc -l -p 80; done');
    const ip = /inet (10\.88\.\d+\.\d+)\//.exec((await sb.runCli(0, 'exec', 'peer', 'sh', '-c', 'ip -4 addr show eth0')).stdout)?.[1];
    expect(ip).toBeDefined();
    let got = '';
    for (let i = 0; i < 30 && !got.includes('from-peer'); i++) got = await inside('bridge', `nc -w 2 ${ip} 80 </dev/null || sleep 0.3`);
    expect(got).toContain('from-peer');
  });
});
