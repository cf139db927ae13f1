// Networking, first slice: each container in its own network namespace connected by pasta (the
// default) or slirp4netns, ports published on the host's loopback (TCP, UDP, ranges, free ports)
// through both, port conflicts found before anything is created, a remote client's address kept by
// pasta, the generated /etc/hosts and resolv.conf, and helper teardown. Traffic goes only to
// 127.0.0.1 and inside the test's own namespaces.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRoot, sleep, until, useSandbox } from '../helpers/cli.js';
import { fetchTcp, remoteClient } from '../helpers/net.js';
import { freePort } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SERVE = (text: string) => ['sh', '-c', `while true; do echo ${text} | nc -l -p 80; done`];

// Processes in the sandbox's rootless namespace whose command is `name` (pasta runs as passt.avx2
// where the CPU has AVX2).
const processesNamed = (name: string): number =>
  sb.namespaceProcesses().filter((p) => (name === 'pasta' ? /^pas(ta|st)/.test(p.comm) : p.comm === name)).length;
const hostAddresses = (): string[] =>
  Object.values(networkInterfaces())
    .flat()
    .filter((a) => a?.family === 'IPv4')
    .map((a) => a!.address);

// pasta as the default network (skiff.conf): the launcher's spare and the default-network tests here
// are pasta's; the default bridge network is tested in 315-default-network.
const sb = useSandbox('net', { pull: [IMG], config: '[network]\nbackend = "pasta"\n' });

describe.each(['pasta', 'slirp4netns'])('published ports through %s', (backend) => {
  const NET = ['--network', backend];
  it('-p HOST:CONTAINER serves TCP from the container on the host', async () => {
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'web', ...NET, '-p', `127.0.0.1:${port}:80`, IMG, ...SERVE('hello-tcp'));
    expect(await fetchTcp(port)).toBe('hello-tcp\n');
    expect((await sb.runCli(0, 'port', 'web')).stdout).toBe(`80/tcp -> 127.0.0.1:${port}\n`);
    expect((await sb.runCli(0, 'ps', '--format', '{{.Ports}}')).stdout).toBe(`127.0.0.1:${port}->80/tcp\n`);
    const inspect = JSON.parse((await sb.runCli(0, 'inspect', 'web')).stdout)[0] as {
      NetworkSettings: { Ports: Record<string, { HostPort: string }[]>; IPAddress: string };
    };
    expect(inspect.NetworkSettings.Ports['80/tcp'][0].HostPort).toBe(String(port));
    // slirp4netns's fixed address; pasta gives the container the host's own.
    if (backend === 'slirp4netns') expect(inspect.NetworkSettings.IPAddress).toBe('10.0.2.100');
    else expect(hostAddresses()).toContain(inspect.NetworkSettings.IPAddress);
    await sb.runCli(0, 'rm', '-f', 'web');
    // The port is free again once the container is gone.
    expect(await fetchTcp(port, 0)).toBe('');
  });

  it('forwards large transfers intact, and refuses connections nothing in the container accepts', async () => {
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'sink', ...NET, '-p', `127.0.0.1:${port}:80`, IMG, 'sh', '-c', 'nc -l -p 80 | md5sum; sleep 30');
    const data = randomBytes(8 * 1024 * 1024);
    // Sends it all in one connection (again while the container does not listen yet).
    const send = () =>
      new Promise<boolean>((resolve) => {
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
    await until(send, 30_000);
    let logs = '';
    await until(async () => /[0-9a-f]{32}/.test((logs = (await sb.runCli(0, 'logs', 'sink')).stdout)));
    expect(logs.slice(0, 32)).toBe(createHash('md5').update(data).digest('hex'));
    // Nothing listens on port 80 any more: the connection is closed at once, not left hanging.
    expect(await fetchTcp(port, 0)).toBe('');
    await sb.runCli(0, 'rm', '-f', 'sink');
  });

  it('-p CONTAINER picks a free host port; ranges publish each port', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'anyport', ...NET, '-p', '80', IMG, ...SERVE('hello-any'));
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
    await sb.runCli(0, 'run', '-d', '--name', 'udp', ...NET, '-p', `127.0.0.1:${port}:5353/udp`, `${plain}/skiff/udp`, 'udp-echo', '5353');
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
      const r = await sb.run(['run', '-d', '--name', 'clash', ...NET, '-p', `127.0.0.1:${port}:80`, IMG, 'sh']);
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
    const runs = await Promise.all(
      ports.map((port, i) => sb.run(['run', '-d', '--name', `multi${i}`, ...NET, '-p', `127.0.0.1:${port}:80`, IMG, ...SERVE(`hello-${i}`)])),
    );
    expect(runs.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect(await Promise.all(ports.map((p) => fetchTcp(p)))).toEqual(ports.map((_, i) => `hello-${i}\n`));
    await sb.runCli(0, 'rm', '-f', ...ports.map((_, i) => `multi${i}`));
  });
});

describe('pasta', () => {
  // Two namespaces of the test's own joined by a veth pair: skiff runs in one (its container's port
  // published on 10.231.7.1), the client connects from the other (10.231.7.2), as a remote client
  // would. pasta hands the connection in with the client's address; over loopback it is 127.0.0.1.
  // The host's name server is played, inside the first namespace, by a fixture that answers
  // 10.1.2.3 to everything: the container asks pasta's forwarder, which asks it.
  it.runIf(isRoot)("keeps a remote client's source address on a published TCP port; forwards DNS to the host's name server", async () => {
    const net = remoteClient('p', 7);
    const { host, client, ip } = net;
    let dns: ChildProcess | undefined;
    try {
      ip('-n', host, 'route', 'add', 'default', 'via', '10.231.7.2');
      const nameserver = /^nameserver\s+(\d+\.\d+\.\d+\.\d+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1] ?? '127.0.0.53';
      if (!nameserver.startsWith('127.')) ip('-n', host, 'addr', 'add', `${nameserver}/32`, 'dev', 'lo');
      dns = spawn('ip', ['netns', 'exec', host, process.execPath, fileURLToPath(new URL('../fixtures/dns-answer.mjs', import.meta.url)), nameserver], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise((resolve) => dns!.stdout!.once('data', resolve));
      const port = await freePort();
      const r = await sb.run(['run', '-d', '--name', 'peer', '-p', `${port}:80`, IMG, 'sh', '-c', 'while true; do nc -l -p 80 -e netstat -tn; done'], {
        netns: host,
      });
      expect(r.code, r.stderr).toBe(0);
      const ask = (ns: string, address: string): string => net.ask(ns, address, port);
      expect(ask(client, '10.231.7.1')).toMatch(/:80\s+(::ffff:)?10\.231\.7\.2:\d+\s+/);
      expect(ask(host, '127.0.0.1')).toMatch(/:80\s+(::ffff:)?127\.0\.0\.1:\d+\s+/);
      const lookup = await sb.run(['run', '--rm', IMG, 'sh', '-c', 'nslookup db.example.test'], { netns: host });
      expect(lookup.stdout, lookup.stderr).toMatch(/Name:\s+db\.example\.test\nAddress: 10\.1\.2\.3/);
    } finally {
      dns?.kill();
      await sb.run(['rm', '-f', 'peer']);
      net.remove();
    }
  });
});

describe('names, DNS and teardown', () => {
  it('writes /etc/hosts and /etc/resolv.conf for the network mode and flags', async () => {
    const r = await sb.runCli(
      0,
      'run',
      '--rm',
      '--name',
      'named',
      '--hostname',
      'box',
      '--add-host',
      'db.internal:10.1.2.3',
      '--dns',
      '9.9.9.9',
      '--dns-search',
      'example.test',
      IMG,
      'sh',
      '-c',
      'cat /etc/hosts /etc/resolv.conf',
    );
    const own = /^(\S+)\tbox named$/m.exec(r.stdout)?.[1];
    expect(hostAddresses()).toContain(own); // pasta, the default: the host's own address
    expect(r.stdout).toMatch(/^10\.1\.2\.3\tdb\.internal$/m);
    expect(r.stdout).toMatch(/\thost\.containers\.internal host\.docker\.internal$/m);
    expect(r.stdout).toMatch(/^search example\.test\nnameserver 9\.9\.9\.9$/m);
    // pasta: DNS through its forwarder, the host's routes; host.containers.internal is the gateway.
    const pasta = await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'cat /etc/resolv.conf /etc/hosts; ip route');
    expect(pasta.stdout).toMatch(/^nameserver 169\.254\.1\.1$/m);
    const gateway = /^default via (\S+) dev /m.exec(pasta.stdout)?.[1];
    expect(gateway).toBeDefined();
    expect(pasta.stdout).toMatch(new RegExp(`^${gateway!.replace(/\./g, '\\.')}\thost\.containers\.internal`, 'm'));
    const slirp = await sb.runCli(
      0,
      'run',
      '--rm',
      '--network',
      'slirp4netns',
      '--name',
      'slirpy',
      IMG,
      'sh',
      '-c',
      'cat /etc/resolv.conf /etc/hosts; ip route',
    );
    expect(slirp.stdout).toMatch(/^nameserver 10\.0\.2\.3$/m);
    expect(slirp.stdout).toMatch(/^10\.0\.2\.100\t\w+ slirpy$/m);
    expect(slirp.stdout).toMatch(/^default via 10\.0\.2\.2 dev tap0/m);
    const none = await sb.runCli(0, 'run', '--rm', '--network', 'none', IMG, 'sh', '-c', 'ls /sys/class/net');
    expect(none.stdout).toBe('lo\n');
    expect((await sb.run(['run', '--add-host', 'bad', IMG, 'sh'])).code).toBe(125);
  });

  it('starts the container only once pasta has set its network up (a slow pasta is waited for)', async () => {
    const slow = join(sb.dir, 'slow-pasta');
    mkdirSync(slow, { recursive: true });
    const real = execFileSync('sh', ['-c', 'command -v pasta']).toString().trim();
    writeFileSync(join(slow, 'pasta'), `#!/bin/sh\nsleep 0.5\nexec ${real} "$@"\n`, { mode: 0o755 });
    const r = await sb.run(['run', '--rm', IMG, 'sh', '-c', 'ip route; ls /sys/class/net'], { env: { SKIFF_HELPER_BINARY_DIR: slow } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^default via \S+ dev /m);
  });

  it("--network container:NAME shares that container's network namespace", async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'netowner', '--network', 'slirp4netns', IMG, ...SERVE('shared-ns'));
    const r = await sb.runCli(
      0,
      'run',
      '--rm',
      '--network',
      'container:netowner',
      IMG,
      'sh',
      '-c',
      'for i in 1 2 3 4 5 6 7 8 9 10; do nc 127.0.0.1 80 </dev/null && break; sleep 0.2; done; cat /etc/resolv.conf',
    );
    expect(r.stdout).toMatch(/^shared-ns\nnameserver 10\.0\.2\.3$/m);
    await sb.runCli(0, 'stop', '-t', '0', 'netowner');
    const stopped = await sb.run(['run', '--rm', '--network', 'container:netowner', IMG, 'sh']);
    expect(stopped.code).toBe(125);
    expect(stopped.stderr).toMatch(/that container is not running/);
    await sb.runCli(0, 'rm', 'netowner');
  });

  it.each(['start', 'run'])('a %s that fails after the monitor has begun (pasta and all) leaves nothing behind', async (verb) => {
    // The monitor starts before the spec is written (with `run`, before the container's files
    // are), so pasta is already up when an unknown user fails the spec: the monitor must undo its
    // namespace, pasta, socket, and create nothing.
    const r =
      verb === 'start'
        ? await sb.runCli(0, 'create', '--name', 'baduser', '-u', 'nosuchuser', IMG, 'true').then(() => sb.run(['start', 'baduser']))
        : await sb.run(['run', '-d', '--name', 'baduser', '-u', 'nosuchuser', IMG, 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unable to find user nosuchuser/);
    const id = (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', 'baduser')).stdout.trim();
    const leftovers = () => sb.namespaceProcesses().filter((p) => /^(skiff-monitor|pas(ta|st))/.test(p.comm));
    await expect.poll(leftovers, { timeout: 5000 }).toEqual([]);
    const netns = join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns');
    expect(existsSync(netns) ? readdirSync(netns) : []).toEqual([]);
    expect(existsSync(join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'sock', `${id.slice(0, 12)}.attach`))).toBe(false);
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}} {{.Status}}', '--filter', 'name=baduser')).stdout).toMatch(/^baduser Created/);
    await sb.runCli(0, 'rm', 'baduser');
  });

  it.each(['pasta', 'slirp4netns'])('the network helper (%s) ends with its container: stop, rm, and a killed monitor', async (backend) => {
    const waitFor = (count: number) => expect.poll(() => processesNamed(backend), { timeout: 5000 }).toBe(count);
    expect(processesNamed(backend)).toBe(0);
    await sb.runCli(0, 'run', '-d', '--name', 'net1', '--network', backend, IMG, 'sh', '-c', 'sleep 60');
    expect(processesNamed(backend)).toBe(1);
    await sb.runCli(0, 'stop', '-t', '0', 'net1');
    await waitFor(0);
    await sb.runCli(0, 'start', 'net1');
    expect(processesNamed(backend)).toBe(1);
    const monitor = Number((await sb.runCli(0, 'inspect', '--format', '{{.State.ConmonPid}}', 'net1')).stdout);
    process.kill(monitor, 'SIGKILL');
    await waitFor(0);
    await sb.runCli(0, 'rm', '-f', 'net1');
    // The namespace file pasta was given is gone with the container.
    const files = join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns');
    expect(existsSync(files) ? readdirSync(files) : []).toEqual([]);
  });
});

describe("the launcher's spare pasta", () => {
  // For a `run` with no network or port flags, the launcher starts pasta while Node boots; the run
  // takes it up, or it is removed with everything it had when the run does not (or dies first).
  const netnsFiles = (): string[] => {
    const dir = join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns');
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  // What a spare leaves when it is not removed: its namespace file and pasta.
  const spareLeftovers = () => ({ netns: netnsFiles(), pasta: processesNamed('pasta') });

  it('a run on the default network takes up the pasta the launcher started, and waits until it is ready', async () => {
    const slow = join(sb.dir, 'slow-spare');
    mkdirSync(slow, { recursive: true });
    const real = execFileSync('sh', ['-c', 'command -v pasta']).toString().trim();
    writeFileSync(join(slow, 'pasta'), `#!/bin/sh\nsleep 0.5\nexec ${real} "$@"\n`, { mode: 0o755 });
    const env = { SKIFF_HELPER_BINARY_DIR: slow };
    // The first run tells the launcher which pasta the default network runs (this slow one).
    await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', ':');
    const first = await sb.run(['--log-level', 'debug', 'run', '--rm', IMG, 'sh', '-c', ':'], { env });
    expect(first.stderr).not.toMatch(/with the launcher's pasta/);
    const r = await sb.run(['--log-level', 'debug', 'run', '--rm', IMG, 'sh', '-c', 'ip route'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/monitor launched, with the launcher's pasta/);
    expect(r.stdout).toMatch(/^default via \S+ dev /m);
    // A run that names its network (or publishes a port) gets no spare: the launcher cannot tell.
    for (const flags of [['--network', 'pasta'], ['--network=pasta'], ['-p', '8080']]) {
      const named = await sb.run(['--log-level', 'debug', 'run', '--rm', ...flags, IMG, 'sh', '-c', ':'], { env });
      expect(named.code, named.stderr).toBe(0);
      expect(named.stderr).toMatch(/start: monitor launched\n/);
    }
    await expect.poll(spareLeftovers, { timeout: 5000 }).toEqual({ netns: [], pasta: 0 });
    await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', ':');
  });

  it('stops an adopted pasta whose monitor died: with rm, or with the CLI when the monitor never started', async () => {
    await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', ':');
    await until(() => processesNamed('pasta') === 0, 5000);
    const silent = await sb.run(['run', '--name', 'nomonitor', IMG, 'sh', '-c', ':'], { env: { SKIFF_MONITOR: '/bin/false' } });
    expect(silent.code).toBe(125);
    await expect.poll(spareLeftovers, { timeout: 5000 }).toEqual({ netns: [], pasta: 0 });
    await sb.runCli(0, 'rm', 'nomonitor');

    const r = await sb.run(['--log-level', 'debug', 'run', '-d', '--name', 'orphaned', IMG, 'sh', '-c', 'sleep 60']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/with the launcher's pasta/);
    expect(processesNamed('pasta')).toBe(1);
    process.kill(Number((await sb.runCli(0, 'inspect', '--format', '{{.State.ConmonPid}}', 'orphaned')).stdout), 'SIGKILL');
    await sb.runCli(0, 'rm', '-f', 'orphaned');
    await expect.poll(spareLeftovers, { timeout: 5000 }).toEqual({ netns: [], pasta: 0 });
  });

  it('removes a spare its run does not take up: a failed run, and a CLI killed while it pulls', async () => {
    await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', ':');
    await until(() => processesNamed('pasta') === 0, 5000);
    const failed = await sb.run(['run', '--rm', '--pull', 'never', 'localhost/no/such:1', 'true']);
    expect(failed.code).toBe(125);
    await expect.poll(spareLeftovers, { timeout: 5000 }).toEqual({ netns: [], pasta: 0 });

    // A registry that accepts connections and never answers: the pull hangs.
    const held: import('node:net').Socket[] = [];
    const server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const child = sb.spawn(['run', '--rm', `127.0.0.1:${port}/hangs:1`, 'true'], { stdio: 'ignore' });
      const closed = new Promise((resolve) => child.on('close', resolve));
      await until(() => netnsFiles().some((f) => f.endsWith('.spare')) && held.length > 0, 5000);
      expect(netnsFiles().filter((f) => f.endsWith('.spare'))).toHaveLength(1);
      child.kill('SIGKILL');
      await closed;
      await expect.poll(spareLeftovers, { timeout: 5000 }).toEqual({ netns: [], pasta: 0 });
    } finally {
      for (const socket of held) socket.destroy();
      server.close();
    }
  });
});
