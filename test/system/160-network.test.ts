// Networking, first slice: each container in its own network namespace connected by slirp4netns,
// ports published on the host's loopback (TCP, UDP, ranges, free ports), port conflicts found
// before anything is created, the generated /etc/hosts and resolv.conf, and helper teardown.
// Traffic goes only to 127.0.0.1 and inside the test's own namespaces.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSandbox, type Sandbox } from '../helpers/cli.js';
import { fetchTcp } from '../helpers/net.js';
import { freePort } from '../helpers/registry.js';

let sb: Sandbox;
const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SERVE = (text: string) => ['sh', '-c', `while true; do echo ${text} | nc -l -p 80; done`];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Processes in the sandbox's rootless namespace whose command is `name`.
const processesNamed = (name: string): number => sb.namespaceProcesses().filter((p) => p.comm === name).length;

beforeAll(async () => {
  sb = createSandbox('net');
  await sb.runCli(0, 'pull', '-q', IMG);
});
afterAll(async () => {
  await sb.cleanup();
});

describe('published ports', () => {
  it('-p HOST:CONTAINER serves TCP from the container on the host', async () => {
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, IMG, ...SERVE('hello-tcp'));
    expect(await fetchTcp(port)).toBe('hello-tcp\n');
    expect((await sb.runCli(0, 'port', 'web')).stdout).toBe(`80/tcp -> 127.0.0.1:${port}\n`);
    expect((await sb.runCli(0, 'ps', '--format', '{{.Ports}}')).stdout).toBe(`127.0.0.1:${port}->80/tcp\n`);
    const inspect = JSON.parse((await sb.runCli(0, 'inspect', 'web')).stdout)[0] as { NetworkSettings: { Ports: Record<string, { HostPort: string }[]>; IPAddress: string } };
    expect(inspect.NetworkSettings.Ports['80/tcp'][0].HostPort).toBe(String(port));
    expect(inspect.NetworkSettings.IPAddress).toBe('10.0.2.100');
    await sb.runCli(0, 'rm', '-f', 'web');
    // The port is free again once the container is gone.
    expect(await fetchTcp(port, 0)).toBe('');
  });

  it('forwards large transfers intact, and refuses connections nothing in the container accepts', async () => {
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'sink', '-p', `127.0.0.1:${port}:80`, IMG, 'sh', '-c', 'nc -l -p 80 | md5sum; sleep 30');
    const data = randomBytes(8 * 1024 * 1024);
    for (let sent = false; !sent; ) {
      sent = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let accepted = false;
        socket.on('connect', () => {
          socket.write(data, () => {
            accepted = true;
            socket.end();
          });
        });
        socket.on('error', () => resolve(false));
        socket.on('close', () => resolve(accepted));
      });
      if (!sent) await sleep(100);
    }
    let logs = '';
    const deadline = Date.now() + 10_000;
    while (!/[0-9a-f]{32}/.test(logs) && Date.now() < deadline) {
      await sleep(100);
      logs = (await sb.runCli(0, 'logs', 'sink')).stdout;
    }
    expect(logs.slice(0, 32)).toBe(createHash('md5').update(data).digest('hex'));
    // Nothing listens on port 80 any more: the connection is closed at once, not left hanging.
    expect(await fetchTcp(port, 0)).toBe('');
    await sb.runCli(0, 'rm', '-f', 'sink');
  });

  it('-p CONTAINER picks a free host port; ranges publish each port', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'anyport', '-p', '80', IMG, ...SERVE('hello-any'));
    const published = (await sb.runCli(0, 'port', 'anyport', '80')).stdout.trim();
    expect(published).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(await fetchTcp(Number(published.split(':')[1]))).toBe('hello-any\n');
    await sb.runCli(0, 'rm', '-f', 'anyport');

    // Three consecutive free ports: another test may hold a neighbour of a free one, so retry.
    let base = 0;
    for (let attempt = 0; attempt < 10 && !base; attempt++) {
      const candidate = await freePort();
      const r = await sb.run(['create', '--name', 'ranged', '-p', `127.0.0.1:${candidate}-${candidate + 2}:7000-7002`, IMG, 'sh']);
      if (r.code === 0) base = candidate;
      else expect(r.stderr).toMatch(/already in use/);
    }
    expect((await sb.runCli(0, 'port', 'ranged')).stdout.trim().split('\n')).toEqual([0, 1, 2].map((i) => `${7000 + i}/tcp -> 127.0.0.1:${base + i}`));
    await sb.runCli(0, 'rm', 'ranged');
  });

  it('publishes UDP', async () => {
    const port = await freePort();
    await sb.runCli(0, 'pull', '-q', `${plain}/skiff/udp`);
    await sb.runCli(0, 'run', '-d', '--name', 'udp', '-p', `127.0.0.1:${port}:5353/udp`, `${plain}/skiff/udp`, 'udp-echo', '5353');
    // Datagrams can be lost while the server starts: send until the echo comes back.
    const socket = createSocket('udp4');
    const echoed = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
    const timer = setInterval(() => socket.send('hello-udp\n', port, '127.0.0.1'), 200);
    try {
      expect(await Promise.race([echoed, sleep(10_000).then(() => 'timed out')])).toBe('hello-udp\n');
    } finally {
      clearInterval(timer);
      socket.close();
    }
    expect((await sb.runCli(0, 'logs', 'udp')).stdout).toMatch(/^hello-udp\n/);
    await sb.runCli(0, 'rm', '-f', 'udp');
  });

  it('a host port in use is a clear error before anything is created', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await sb.run(['run', '-d', '--name', 'clash', '-p', `127.0.0.1:${port}:80`, IMG, 'sh']);
      expect(r.code).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`port 127\\.0\\.0\\.1:${port}/tcp is already in use`));
      expect((await sb.runCli(0, 'ps', '-aq')).stdout).toBe('');
      expect((await sb.run(['run', '--network', 'none', '-p', '80', IMG, 'sh'])).stderr).toMatch(/cannot be published with --network none/);
      expect((await sb.run(['run', '-p', '80/sctp', IMG, 'sh'])).code).toBe(125);
    } finally {
      server.close();
    }
  });

  it('10 containers publish ports at once', async () => {
    const ports = await Promise.all(Array.from({ length: 10 }, () => freePort()));
    const runs = await Promise.all(ports.map((port, i) => sb.run(['run', '-d', '--name', `multi${i}`, '-p', `127.0.0.1:${port}:80`, IMG, ...SERVE(`hello-${i}`)])));
    expect(runs.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect(await Promise.all(ports.map((p) => fetchTcp(p)))).toEqual(ports.map((_, i) => `hello-${i}\n`));
    await sb.runCli(0, 'rm', '-f', ...ports.map((_, i) => `multi${i}`));
  });
});

describe('names, DNS and teardown', () => {
  it('writes /etc/hosts and /etc/resolv.conf for the network mode and flags', async () => {
    const r = await sb.runCli(0, 'run', '--rm', '--name', 'named', '--hostname', 'box', '--add-host', 'db.internal:10.1.2.3', '--dns', '9.9.9.9', '--dns-search', 'example.test', IMG, 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf');
    expect(r.stdout).toMatch(/^10\.0\.2\.100\tbox named$/m);
    expect(r.stdout).toMatch(/^10\.1\.2\.3\tdb\.internal$/m);
    expect(r.stdout).toMatch(/\thost\.containers\.internal host\.docker\.internal$/m);
    expect(r.stdout).toMatch(/^search example\.test\nnameserver 9\.9\.9\.9$/m);
    const slirp = await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'cat /etc/resolv.conf; ip route');
    expect(slirp.stdout).toMatch(/^nameserver 10\.0\.2\.3$/m);
    expect(slirp.stdout).toMatch(/^default via 10\.0\.2\.2 dev tap0/m);
    const none = await sb.runCli(0, 'run', '--rm', '--network', 'none', IMG, 'sh', '-c', 'ls /sys/class/net');
    expect(none.stdout).toBe('lo\n');
    expect((await sb.run(['run', '--add-host', 'bad', IMG, 'sh'])).code).toBe(125);
  });

  it('--network container:NAME shares that container\'s network namespace', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'netowner', IMG, ...SERVE('shared-ns'));
    const r = await sb.runCli(0, 'run', '--rm', '--network', 'container:netowner', IMG, 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 80 </dev/null && break; sleep 0.2; done; cat /etc/resolv.conf');
    expect(r.stdout).toMatch(/^shared-ns\nnameserver 10\.0\.2\.3$/m);
    await sb.runCli(0, 'stop', '-t', '0', 'netowner');
    const stopped = await sb.run(['run', '--rm', '--network', 'container:netowner', IMG, 'sh']);
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toMatch(/that container is not running/);
    await sb.runCli(0, 'rm', 'netowner');
  });

  it('the network helper ends with its container: stop, rm, and a killed monitor', async () => {
    expect(processesNamed('slirp4netns')).toBe(0);
    await sb.runCli(0, 'run', '-d', '--name', 'net1', IMG, 'sh', '-c', 'sleep 60');
    expect(processesNamed('slirp4netns')).toBe(1);
    await sb.runCli(0, 'stop', '-t', '0', 'net1');
    await sleep(200);
    expect(processesNamed('slirp4netns')).toBe(0);
    await sb.runCli(0, 'start', 'net1');
    expect(processesNamed('slirp4netns')).toBe(1);
    const monitor = Number((await sb.runCli(0, 'inspect', '--format', '{{.State.ConmonPid}}', 'net1')).stdout);
    process.kill(monitor, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while (processesNamed('slirp4netns') > 0 && Date.now() < deadline) await sleep(100);
    expect(processesNamed('slirp4netns')).toBe(0);
    await sb.runCli(0, 'rm', '-f', 'net1');
  });
});
