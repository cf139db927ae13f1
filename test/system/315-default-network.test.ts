// The default network: Podman's `podman` bridge network in skiff's rootless network namespace,
// made on first use, shared by every container that names no network (one slirp4netns for all of
// them instead of a pasta each). skiff-monitor joins each container to the bridge before it is
// created and dials its published ports from that namespace, from a remote client's own address.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { isRoot, until, useSandbox } from '../helpers/cli.js';
import { fetchTcp, remoteClient } from '../helpers/net.js';
import { freePort } from '../helpers/registry.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SERVE = (text: string) => ['sh', '-c', `while true; do echo ${text} | nc -l -p 80; done`];

const sb = useSandbox('default-net', { pull: [IMG] });

afterEach(async () => {
  await sb.run(['rm', '-a', '-f', '-t', '0']);
});

const inspect = async (name: string, template: string): Promise<string> => (await sb.runCli(0, 'inspect', '--format', template, name)).stdout.trim();

describe('the default network', () => {
  it('is the podman bridge network, made on first use, without names between its members', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'first', IMG, 'sh', '-c', 'sleep 60');
    await sb.runCli(0, 'run', '-d', '--name', 'second', '--network', 'bridge', IMG, 'sh', '-c', 'sleep 60');
    const [first, second] = [
      await inspect('first', '{{.NetworkSettings.Networks.podman.IPAddress}}'),
      await inspect('second', '{{.NetworkSettings.Networks.podman.IPAddress}}'),
    ];
    expect(first).toMatch(/^10\.88\.\d+\.\d+$/);
    expect(second).toMatch(/^10\.88\.\d+\.\d+$/);
    expect(first).not.toBe(second);
    const network = JSON.parse((await sb.runCli(0, 'network', 'inspect', 'podman')).stdout)[0];
    expect(network).toMatchObject({ name: 'podman', subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }], dns_enabled: false });
    // As Podman's: the default network stays (rm refuses it, prune passes it by).
    const rm = await sb.run(['network', 'rm', '-f', 'podman']);
    expect([rm.code, rm.stderr.trim()]).toEqual([125, 'Error: default network podman cannot be removed']);
    await sb.runCli(0, 'network', 'prune', '-f');
    expect((await sb.runCli(0, 'network', 'ls', '-q')).stdout).toMatch(/^podman$/m);
    // No names of other members in /etc/hosts (a start rewrites no one else's files).
    const hosts = (await sb.runCli(0, 'exec', 'second', 'sh', '-c', 'while read l; do echo "$l"; done < /etc/hosts')).stdout;
    expect(hosts).toContain(second);
    expect(hosts).not.toContain(first);
    // The members reach each other by address, and the way out is there (host.containers.internal).
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, IMG, ...SERVE('hello-bridge'));
    expect(await fetchTcp(port)).toBe('hello-bridge\n');
    const web = await inspect('web', '{{.NetworkSettings.Networks.podman.IPAddress}}');
    const r = await sb.runCli(0, 'exec', 'second', 'sh', '-c', `nc ${web} 80 </dev/null`);
    expect(r.stdout).toBe('hello-bridge\n');
    expect(hosts).toMatch(/^10\.0\.2\.2\thost\.containers\.internal/m);
  });

  it('keeps one slirp4netns for all its containers, and each container costs its monitor only', async () => {
    const ports = await Promise.all(Array.from({ length: 5 }, () => freePort()));
    for (const [i, port] of ports.entries()) await sb.runCli(0, 'run', '-d', '--name', `m${i}`, '-p', `${port}:80`, IMG, ...SERVE(`m${i}`));
    expect(await Promise.all(ports.map((p) => fetchTcp(p)))).toEqual(ports.map((_, i) => `m${i}\n`));
    const helpers = sb.namespaceProcesses(true).filter((p) => p.comm !== 'sh' && p.comm !== 'nc' && p.comm !== 'sleep' && p.comm !== 'skiff-monitor');
    expect(helpers.filter((p) => p.comm === 'slirp4netns')).toHaveLength(1);
    expect(helpers.filter((p) => /^pas(ta|st)/.test(p.comm))).toHaveLength(0);
  });

  it('serves a published port after 50 other containers came and went', async () => {
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'keeper', '-p', `${port}:80`, IMG, ...SERVE('still-here'));
    for (let i = 0; i < 50; i++) {
      const other = await freePort();
      await sb.runCli(0, 'run', '-d', '--name', `churn${i}`, '-p', `${other}:80`, IMG, 'sh', '-c', 'sleep 60');
      if (i % 10 === 9) await sb.runCli(0, 'rm', '-f', '-t', '0', ...Array.from({ length: 10 }, (_, j) => `churn${i - j}`));
    }
    expect(await fetchTcp(port)).toBe('still-here\n');
    // The addresses of the removed containers are free again: the next one gets a low one.
    await sb.runCli(0, 'run', '-d', '--name', 'after', IMG, 'sh', '-c', 'sleep 60');
    expect(Number((await inspect('after', '{{.NetworkSettings.Networks.podman.IPAddress}}')).split('.')[3])).toBeLessThan(10);
  });
});

describe('a published port on the default network', () => {
  // As in 160-network's pasta test: two namespaces of the test's own joined by a veth pair; skiff
  // runs in one (its container's port published on 10.231.8.1), the client connects from the other
  // (10.231.8.2), as a remote client would. The container sees that address; a loopback client is
  // dialled on the container's own loopback (127.0.0.1).
  it.runIf(isRoot)("keeps a remote client's source address", async () => {
    const net = remoteClient('b', 8);
    try {
      const port = await freePort();
      const r = await sb.run(['run', '-d', '--name', 'peer', '-p', `${port}:80`, IMG, 'sh', '-c', 'while true; do nc -l -p 80 -e netstat -tn; done'], {
        netns: net.host,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(net.ask(net.client, '10.231.8.1', port)).toMatch(/:80\s+(::ffff:)?10\.231\.8\.2:\d+\s+/);
      expect(net.ask(net.host, '127.0.0.1', port)).toMatch(/:80\s+(::ffff:)?127\.0\.0\.1:\d+\s+/);
    } finally {
      await sb.run(['rm', '-f', 'peer'], { netns: net.host });
      net.remove();
    }
  });
});

describe('a published port on an internal network', () => {
  // Its containers have no route but their subnet's: a remote client is dialled on the container's
  // loopback, at once (dialled from the client's own address, each connection waited for the
  // dialer's timeout; before that timeout, the monitor hung).
  it.runIf(isRoot)("answers a remote client at once, on the container's loopback", async () => {
    const net = remoteClient('i', 7);
    try {
      await sb.runCli(0, 'network', 'create', '--internal', 'inside');
      const port = await freePort();
      const r = await sb.run(
        ['run', '-d', '--name', 'shy', '--network', 'inside', '-p', `${port}:80`, IMG, 'sh', '-c', 'while true; do nc -l -p 80 -e netstat -tn; done'],
        { netns: net.host },
      );
      expect(r.code, r.stderr).toBe(0);
      const answers: { out: string; ms: number }[] = [];
      for (let i = 0; i < 100 && answers.length < 3; i++) {
        const started = Date.now();
        const out = net.ask(net.client, '10.231.7.1', port, /[\s\S]*/);
        if (/:80\s/.test(out)) answers.push({ out, ms: Date.now() - started });
        else execFileSync('sleep', ['0.1']);
      }
      expect(answers).toHaveLength(3);
      for (const { out } of answers) expect(out).toMatch(/:80\s+(::ffff:)?127\.0\.0\.1:\d+\s+/);
      expect(Math.min(...answers.map((a) => a.ms))).toBeLessThan(900);
    } finally {
      await sb.run(['rm', '-f', 'shy'], { netns: net.host });
      await sb.run(['network', 'rm', 'inside']);
      net.remove();
    }
  });
});

describe('the shared namespace', () => {
  it('is made again by the next command when its holder was killed', async () => {
    await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'exit 0');
    const holder = JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns.pid'), 'utf8')).pid as number;
    process.kill(holder, 'SIGKILL');
    const port = await freePort();
    await sb.runCli(0, 'run', '-d', '--name', 'again', '-p', `${port}:80`, IMG, ...SERVE('made-again'));
    expect(await fetchTcp(port)).toBe('made-again\n');
    expect(JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns.pid'), 'utf8')).pid).not.toBe(holder);
  });

  // A slirp4netns that never gets ready (it ends, as the real one, when the holder's exit pipe
  // does) keeps the command in the namespace's making; killed there, before the record was
  // written, it left the holder (and slirp4netns, and skiff-dns) running where nothing named them.
  it('leaves nothing running when the command that makes it is killed', async () => {
    await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'exit 0');
    const holder = JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns.pid'), 'utf8')).pid as number;
    process.kill(holder, 'SIGKILL');
    const fake = join(sb.dir, 'slow-slirp');
    mkdirSync(fake, { mode: 0o755 });
    writeFileSync(join(fake, 'slirp4netns'), '#!/bin/sh\ncat <&3 >/dev/null\n', { mode: 0o755 });
    const helpers = () => sb.namespaceProcesses(true).filter((p) => /sleep infinity|read -r|slow-slirp|skiff-dns|^cat /.test(p.cmdline));
    await until(() => !helpers().some((p) => p.pid === holder));
    const cli = sb.spawn(['run', '--rm', IMG, 'sh', '-c', 'exit 0'], { env: { SKIFF_HELPER_BINARY_DIR: fake } });
    await until(() => helpers().some((p) => p.cmdline.includes('slow-slirp')));
    cli.kill('SIGKILL');
    await until(() => helpers().length === 0, 5000);
    // The next command makes it again, with its way out.
    expect((await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'echo made')).stdout).toBe('made\n');
  });

  it('gets its way out back with the next command when slirp4netns was killed', async () => {
    const server = createServer((socket) => socket.end('hello-host\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    const reach = ['sh', '-c', `nc -w 5 host.containers.internal ${port} </dev/null`];
    try {
      expect((await sb.runCli(0, 'run', '--rm', IMG, ...reach)).stdout).toBe('hello-host\n');
      const record = JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns.pid'), 'utf8'));
      expect(record.egress?.pid).toBeGreaterThan(0);
      process.kill(record.egress.pid, 'SIGKILL');
      await until(() => !existsSync(`/proc/${record.egress.pid}/stat`) || readFileSync(`/proc/${record.egress.pid}/stat`, 'utf8').includes(') Z'));
      expect((await sb.runCli(0, 'run', '--rm', IMG, ...reach)).stdout).toBe('hello-host\n');
      const after = JSON.parse(readFileSync(join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'netns.pid'), 'utf8'));
      expect([after.pid, after.egress.pid !== record.egress.pid]).toEqual([record.pid, true]);
    } finally {
      server.close();
    }
  });
});
