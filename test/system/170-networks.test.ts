// Named networks: a bridge each in the rootless network namespace; containers on one reach each
// other by name and alias, containers on different ones cannot; published ports work for them;
// veths go with their containers and the bridge with its network.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';
import { fetchTcp } from '../helpers/net.js';
import { freePort } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SERVE = (text: string, port = 5432) => ['sh', '-c', `while true; do echo ${text} | nc -l -p ${port}; done`];
// A client that retries while the server starts; prints what it got (or nothing).
const CLIENT = (target: string, port = 5432) => [
  'sh',
  '-c',
  `for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 ${target} ${port} </dev/null && exit 0; sleep 0.2; done; exit 1`,
];

// The links in the rootless network namespace (bridges and the host ends of veths).
const holderLinks = async (): Promise<string[]> => {
  const holder = (JSON.parse(readFileSync(join(sb.dir, 'run', 'skiff', 'netns.pid'), 'utf8')) as { pid: number }).pid;
  const out = (await sb.runCli(0, 'unshare', 'nsenter', `--net=/proc/${holder}/ns/net`, 'ip', '-o', 'link')).stdout;
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1].trim().split('@')[0]);
};

const sb = useSandbox('nets', { pull: [IMG] });

describe('network commands', () => {
  it('create, ls, inspect, exists, rm — and their errors', async () => {
    expect((await sb.runCli(0, 'network', 'create', '--subnet', '10.89.77.0/24', '--label', 'team=a', 'front')).stdout).toBe('front\n');
    expect((await sb.runCli(0, 'network', 'ls', '--format', '{{.Name}} {{.Subnet}} {{.Driver}}')).stdout).toBe('front 10.89.77.0/24 bridge\n');
    const inspect = JSON.parse((await sb.runCli(0, 'network', 'inspect', 'front')).stdout)[0] as {
      subnets: { gateway: string }[];
      labels: Record<string, string>;
    };
    expect(inspect.subnets[0].gateway).toBe('10.89.77.1');
    expect(inspect.labels).toEqual({ team: 'a' });
    expect((await sb.run(['network', 'exists', 'front'])).code).toBe(0);
    expect((await sb.run(['network', 'exists', 'back'])).code).toBe(1);
    expect((await sb.run(['network', 'create', 'front'])).stderr).toMatch(/already exists/);
    expect((await sb.run(['network', 'create', '--subnet', '10.89.77.128/25', 'other'])).stderr).toMatch(/overlaps network front/);
    expect((await sb.run(['network', 'create', '--subnet', 'nonsense', 'other'])).code).toBe(125);
    expect((await sb.run(['run', '--network', 'nowhere', IMG, 'sh'])).stderr).toMatch(/unknown network "nowhere".*network create nowhere/);
    expect((await sb.runCli(0, 'network', 'rm', 'front')).stdout).toBe('front\n');
    expect((await sb.run(['network', 'rm', 'front'])).stderr).toMatch(/no such network: front/);
  });
});

describe('containers on named networks', () => {
  it('reach each other by name and alias, and see newcomers in /etc/hosts', async () => {
    await sb.runCli(0, 'network', 'create', 'app-net');
    await sb.runCli(0, 'run', '-d', '--name', 'early', '--network', 'app-net', IMG, 'sh', '-c', 'sleep 60');
    await sb.runCli(0, 'run', '-d', '--name', 'db', '--network', 'app-net', '--network-alias', 'database', IMG, ...SERVE('hello-db'));
    expect((await sb.runCli(0, 'run', '--rm', '--network', 'app-net', IMG, ...CLIENT('db'))).stdout).toBe('hello-db\n');
    expect((await sb.runCli(0, 'run', '--rm', '--network', 'app-net', IMG, ...CLIENT('database'))).stdout).toBe('hello-db\n');
    // `early` started before `db` existed: its /etc/hosts was brought up to date in place.
    expect((await sb.runCli(0, 'exec', 'early', 'sh', '-c', 'cat /etc/hosts')).stdout).toMatch(/^10\.89\.\d+\.\d+\tdb database [a-f0-9]{12}$/m);
    const ips = JSON.parse((await sb.runCli(0, 'network', 'inspect', 'app-net')).stdout)[0].containers as Record<string, { name: string }>;
    expect(
      Object.values(ips)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['db', 'early']);
  });

  it('cannot reach containers on another network', async () => {
    await sb.runCli(0, 'network', 'create', 'other-net');
    const dbIp = (await sb.runCli(0, 'exec', 'db', 'sh', '-c', 'ip -o -4 addr show eth0')).stdout.split(/\s+/)[3].split('/')[0];
    expect(dbIp).toMatch(/^10\.89\./);
    const r = await sb.run(['run', '--rm', '--network', 'other-net', IMG, ...CLIENT(dbIp)]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect((await sb.run(['run', '--rm', '--network', 'other-net', IMG, ...CLIENT('db')])).stdout).toBe('');
  });

  it('publishes ports of a container on a named network', async () => {
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'web', '--network', 'app-net', '-p', `127.0.0.1:${port}:80`, IMG, ...SERVE('hello-web', 80));
    expect(await fetchTcp(port)).toBe('hello-web\n');
    // UDP too (the monitor forwards it; replies come back).
    await sb.runCli(0, 'pull', '-q', `${plain}/skiff/udp`);
    const udpPort = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'udp', '--network', 'app-net', '-p', `127.0.0.1:${udpPort}:5353/udp`, `${plain}/skiff/udp`, 'udp-echo', '5353');
    const socket = createSocket('udp4');
    const echoed = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
    const timer = setInterval(() => socket.send('over-udp\n', udpPort, '127.0.0.1'), 200);
    try {
      expect(await Promise.race([echoed, new Promise((r) => setTimeout(() => r('timed out'), 10_000))])).toBe('over-udp\n');
    } finally {
      clearInterval(timer);
      socket.close();
    }
    await sb.runCli(0, 'rm', '-f', 'udp');
  });

  it("goes out through slirp4netns (host.containers.internal is the host's loopback); an internal network has no way out", async () => {
    const server = createServer((socket) => socket.end('hello-host\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      const out = await sb.runCli(
        0,
        'run',
        '--rm',
        '--network',
        'app-net',
        IMG,
        'sh',
        '-c',
        `cat /etc/resolv.conf; nc -w 5 host.containers.internal ${port} </dev/null`,
      );
      // skiff-dns at the network's gateway answers (container names, then upstream through slirp4netns).
      expect(out.stdout).toMatch(/^nameserver 10\.89\.\d+\.1\n/m);
      expect((await sb.runCli(0, 'run', '--rm', '--network', 'app-net', IMG, 'sh', '-c', 'nslookup db')).stdout).toMatch(/Name:\s+db\nAddress: 10\.89\./);
      expect(out.stdout).toMatch(/hello-host\n$/);
      await sb.runCli(0, 'network', 'create', '--internal', 'sealed');
      const sealed = await sb.run([
        'run',
        '--rm',
        '--network',
        'sealed',
        IMG,
        'sh',
        '-c',
        `nc -w 3 10.0.2.2 ${port} </dev/null; ip route add default via 10.89.0.1 2>/dev/null; nc -w 3 10.0.2.2 ${port} </dev/null`,
      ]);
      expect(sealed.stdout).toBe('');
      await sb.runCli(0, 'network', 'rm', 'sealed');
    } finally {
      server.close();
    }
  });

  it('network connect joins a running container to another network; disconnect takes it off', async () => {
    await sb.runCli(0, 'network', 'create', 'side-net');
    await sb.runCli(0, 'run', '-d', '--name', 'side', '--network', 'side-net', IMG, ...SERVE('hello-side'));
    // `early` (on app-net) cannot reach `side` until it joins side-net as well.
    expect((await sb.run(['exec', 'early', ...CLIENT('side')])).stdout).toBe('');
    await sb.runCli(0, 'network', 'connect', '--alias', 'early-alias', 'side-net', 'early');
    expect((await sb.runCli(0, 'exec', 'early', ...CLIENT('side'))).stdout).toBe('hello-side\n');
    expect((await sb.runCli(0, 'exec', 'side', 'sh', '-c', 'nslookup early-alias')).stdout).toMatch(/Address: 10\.89\./);
    expect((await sb.run(['network', 'connect', 'side-net', 'early'])).stderr).toMatch(/already on network side-net/);
    await sb.runCli(0, 'network', 'disconnect', 'side-net', 'early');
    expect((await sb.run(['exec', 'early', ...CLIENT('side')])).stdout).toBe('');
    expect((await sb.run(['network', 'disconnect', 'app-net', 'early'])).stderr).toMatch(/own network/);
    await sb.runCli(0, 'rm', '-f', 'side');
    await sb.runCli(0, 'network', 'rm', 'side-net');
  });

  it('run --network a --network b joins both at start', async () => {
    await sb.runCli(0, 'network', 'create', 'second-net');
    await sb.runCli(0, 'run', '-d', '--name', 'other', '--network', 'second-net', IMG, ...SERVE('hello-second'));
    const both = await sb.runCli(
      0,
      'run',
      '--rm',
      '--network',
      'app-net',
      '--network',
      'second-net',
      IMG,
      'sh',
      '-c',
      'ip -o -4 addr | grep -c eth; for t in db other; do for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 $t 5432 </dev/null && break; sleep 0.2; done; done',
    );
    expect(both.stdout).toBe('2\nhello-db\nhello-second\n');
    expect((await sb.run(['run', '--rm', '--network', 'app-net', '--network', 'slirp4netns', IMG, 'sh'])).stderr).toMatch(/"slirp4netns" is not one/);
    await sb.runCli(0, 'rm', '-f', 'other');
    await sb.runCli(0, 'network', 'rm', 'second-net');
  });

  it('veths go with their containers and the bridge with its network', async () => {
    const before = await holderLinks();
    expect(before.filter((l) => l.startsWith('vs')).length).toBe(3);
    expect((await sb.run(['network', 'rm', 'app-net'])).stderr).toMatch(/used by container/);
    await sb.runCli(0, 'rm', '-f', 'early', 'db', 'web');
    expect((await holderLinks()).filter((l) => l.startsWith('vs'))).toEqual([]);
    await sb.runCli(0, 'network', 'rm', 'app-net', 'other-net');
    expect((await holderLinks()).filter((l) => l.startsWith('skiff'))).toEqual([]);
    expect((await sb.runCli(0, 'network', 'ls', '-q')).stdout).toBe('');
  });
});

describe('a network create killed before its firewall', () => {
  // An `nft` that kills the command running it (as kill -9 would, at that moment) and applies
  // nothing: the new network's bridge is made, the rules that keep it apart are not. The next
  // command that uses the network sets them first; until this was so, its containers reached the
  // other networks' (and `network create` itself first set rules for the new network alone).
  it("leaves nothing that reaches the other networks' containers", async () => {
    await sb.runCli(0, 'network', 'create', 'kept');
    await sb.runCli(0, 'run', '-d', '--name', 'guarded', '--network', 'kept', IMG, ...SERVE('guarded'));
    const guardedIp = (await sb.runCli(0, 'inspect', '--format', '{{.NetworkSettings.Networks.kept.IPAddress}}', 'guarded')).stdout.trim();
    expect((await sb.runCli(0, 'run', '--rm', '--network', 'kept', IMG, ...CLIENT(guardedIp))).stdout).toBe('guarded\n');
    const fake = join(sb.dir, 'killing-nft');
    mkdirSync(fake, { mode: 0o755 });
    writeFileSync(
      join(fake, 'nft'),
      '#!/bin/sh\np=$PPID\nwhile [ "$p" -gt 1 ] && ! grep -q main.js /proc/$p/cmdline; do p=$(cut -d" " -f4 /proc/$p/stat); done\nkill -9 "$p"\nexit 1\n',
      { mode: 0o755 },
    );
    expect((await sb.run(['network', 'create', 'late'], { env: { SKIFF_HELPER_BINARY_DIR: fake } })).code).toBe(137);
    const r = await sb.run(['run', '--rm', '--network', 'late', IMG, ...CLIENT(guardedIp)]);
    expect(r.stdout).toBe('');
    expect(r.code).not.toBe(0);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'guarded');
    await sb.runCli(0, 'network', 'rm', 'kept', 'late');
  });
});
