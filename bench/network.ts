// Published ports: throughput of 1 GiB host → container, time from `run -d -p` to the first
// answered connection, and the latency of 1,000 sequential small requests; and the way out:
// 1 GiB container → a server on the host (host.containers.internal) — skiff's default network
// (the podman bridge network: one slirp4netns for all containers, skiff-monitor forwards), pasta
// (pasta forwards TCP) and slirp4netns (skiff-monitor forwards) against podman's default rootless
// network (4.3: slirp4netns with rootlessport), same image, same user.
import { fileURLToPath } from 'node:url';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLayer } from '../test/helpers/layers.js';
import { buildImage, freePort, pushImage, startRegistry } from '../test/helpers/registry.js';
import { ids, isRoot, median, podmanArgs, runAs, timeAs, userDir, userEnv } from './lib.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const GIB = 1 << 30;

// One request: connect, send, read the whole answer. Resolves to the answer ('' if refused).
const request = (port: number, payload: Buffer | string): Promise<string> =>
  new Promise((resolve) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => socket.end(payload));
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(answer));
  });

// Streams `bytes` into a sink server; resolves to MB/s once the server has counted them all.
const throughput = (port: number, bytes: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(1 << 20, 0x61);
    const start = process.hrtime.bigint();
    const socket = connect(port, '127.0.0.1');
    let sent = 0;
    let answer = '';
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return socket.once('drain', pump);
      }
      socket.end();
    };
    socket.on('connect', pump);
    socket.on('data', (d) => (answer += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (Number(answer) !== bytes) reject(new Error(`the server counted ${answer.trim()} bytes, not ${bytes}`));
      else resolve(bytes / 1e6 / seconds);
    });
  });

const startToFirstAnswer = async (argv: string[], env: Record<string, string>, port: number): Promise<number> => {
  const start = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), { env, cwd: env.HOME, uid: isRoot ? ids.uid : undefined, gid: isRoot ? ids.gid : undefined, stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  for (;;) {
    if ((await request(port, 'ping\n')) === 'pong\n') break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await exited;
  return ms;
};

// A server on the host that counts what each connection sends: resolves to MB/s of the next one.
const outboundSink = async (): Promise<{ port: number; next: () => Promise<number>; close: () => void }> => {
  let waiting: ((rate: number) => void) | undefined;
  const server = createServer((socket) => {
    const start = process.hrtime.bigint();
    let bytes = 0;
    socket.on('data', (d) => (bytes += d.length));
    socket.on('end', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      socket.end();
      waiting?.(bytes / 1e6 / seconds);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    next: () => new Promise((resolve) => (waiting = resolve)),
    close: () => server.close(),
  };
};

const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export const benchNetwork = async (): Promise<void> => {
  const registry = await startRegistry();
  const skiffHome = userDir('ns');
  const podmanHome = userDir('np');
  const skiffEnv = userEnv(skiffHome);
  const podmanEnv = userEnv(podmanHome);
  const tools: Record<'podman' | 'skiff' | 'skiff pasta' | 'skiff slirp', { cli: string[]; env: Record<string, string>; net: string[] }> = {
    podman: { cli: podmanArgs(podmanHome), env: podmanEnv, net: [] },
    skiff: { cli: [SKIFF], env: skiffEnv, net: [] },
    'skiff pasta': { cli: [SKIFF], env: skiffEnv, net: ['--network', 'pasta'] },
    'skiff slirp': { cli: [SKIFF], env: skiffEnv, net: ['--network', 'slirp4netns'] },
  };
  const server = join(tmpdir(), `skiff-net-server-${process.pid}`);
  try {
    const cc = spawnSync('sh', ['-c', 'command -v musl-gcc || command -v gcc'], { encoding: 'utf8' }).stdout.trim();
    execFileSync(cc, ['-O2', '-static', '-o', server, fileURLToPath(new URL('./net-server.c', import.meta.url))]);
    const layer = await makeLayer([
      { path: 'bin/', type: 'directory' },
      { path: 'bin/net-server', content: readFileSync(server), mode: 0o755 },
    ]);
    await pushImage(registry.host, 'bench/net', 'latest', buildImage([layer]));
    const image = `${registry.host}/bench/net:latest`;
    timeAs([SKIFF, 'pull', '-q', image], skiffEnv);
    timeAs([...tools.podman.cli, 'pull', '-q', '--tls-verify=false', image], podmanEnv);

    const results: Record<string, Record<string, string>> = {};
    const sink = await outboundSink();
    for (const who of ['podman', 'skiff', 'skiff pasta', 'skiff slirp'] as const) {
      const { cli, env, net } = tools[who];
      results[who] = {};
      // 1. throughput
      const sinkPort = await freePort();
      timeAs([...cli, 'run', '-d', '--name', 'sink', ...net, '-p', `127.0.0.1:${sinkPort}:80`, image, 'net-server', 'sink', '80'], env);
      while ((await request(sinkPort, '')) === '') await new Promise((r) => setTimeout(r, 20));
      const rates: number[] = [];
      for (let i = 0; i < Number(process.env.BENCH_NET_RUNS ?? 3); i++) rates.push(await throughput(sinkPort, GIB));
      results[who].throughput = `${median(rates).toFixed(0)} MB/s`;
      // 2. run -d -p → first answer
      const starts: number[] = [];
      for (let i = 0; i < 5; i++) {
        const port = await freePort();
        starts.push(
          await startToFirstAnswer(
            [...cli, 'run', '-d', '--name', `first${i}`, ...net, '-p', `127.0.0.1:${port}:80`, image, 'net-server', 'echo', '80'],
            env,
            port,
          ),
        );
      }
      results[who].firstAnswer = `${median(starts).toFixed(0)} ms`;
      // 3. 1,000 sequential requests to the last of those
      const port = Number(
        runAs([...cli, 'port', 'first4', '80'], env)
          .stdout.trim()
          .split(':')
          .pop(),
      );
      const latencies: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const t = process.hrtime.bigint();
        if ((await request(port, 'ping\n')) !== 'pong\n') throw new Error(`${who}: request ${i} got no answer`);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      results[who].latency = `median ${median(latencies).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`;
      runAs([...cli, 'rm', '--all', '--force'], env);
      // 4. the way out: container → host
      const outRates: number[] = [];
      for (let i = 0; i < Number(process.env.BENCH_NET_RUNS ?? 3); i++) {
        const rate = sink.next();
        // (Not spawnSync: the sink in this process must read meanwhile.)
        const argv = [...cli, 'run', '--rm', ...net, image, 'net-server', 'send', 'host.containers.internal', String(sink.port), '1024'];
        const child = spawn(argv[0], argv.slice(1), {
          env,
          cwd: env.HOME,
          uid: isRoot ? ids.uid : undefined,
          gid: isRoot ? ids.gid : undefined,
          stdio: 'inherit',
        });
        const code = await new Promise((resolve) => child.on('exit', resolve));
        if (code !== 0) {
          process.stderr.write(`${who}: the container could not send to the host (exit ${code})\n`);
          break;
        }
        outRates.push(await rate);
      }
      results[who].outbound = outRates.length ? `${median(outRates).toFixed(0)} MB/s` : 'failed';
    }
    sink.close();
    process.stdout.write(
      '\npublished port, host → container (podman: slirp4netns + rootlessport; skiff: the default bridge network, skiff-monitor forwards; skiff pasta: pasta forwards; skiff slirp: skiff-monitor forwards)\n',
    );
    for (const [metric, goal] of [
      ['throughput', '1 GiB; goal: skiff ≥ podman'],
      ['firstAnswer', 'run -d -p to first answer, median of 5; goal: skiff ≤ podman'],
      ['latency', '1,000 sequential requests'],
      ['outbound', '1 GiB container → host.containers.internal; goal: skiff ≥ podman'],
    ] as const)
      process.stdout.write(
        `  ${metric.padEnd(12)} ${Object.entries(results)
          .map(([who, r]) => `${who} ${r[metric]}`)
          .join(' | ')} (${goal})\n`,
      );
  } finally {
    rmSync(server, { force: true });
    runAs([SKIFF, 'system', 'reset', '--force'], skiffEnv);
    runAs([...tools.podman.cli, 'system', 'reset', '--force'], podmanEnv);
    spawnSync('rm', ['-rf', skiffHome, podmanHome]);
    await registry.stop();
  }
};
