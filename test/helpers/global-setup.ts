// Once per test run: the unprivileged test user (when running as root, as CI does), the shared
// loopback registries (plain, htpasswd basic auth, bearer tokens) and the fixture images in them.
import type { TestProject } from 'vitest/node';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFixtures } from '../fixtures/images.js';
import { makeLayer } from './layers.js';
import { buildImage, pushImage, pushIndex, startRegistry, type Registry } from './registry.js';
import { ensureTestUsers } from './user.js';

declare module 'vitest' {
  export interface ProvidedContext {
    plainRegistry: string;
    basicRegistry: string;
    tokenRegistry: string;
    multiIndexDigest: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.getuid?.() === 0) ensureTestUsers();
  const registries: Registry[] = [];
  const plain = await startRegistry();
  const basic = await startRegistry({ auth: 'basic' });
  const token = await startRegistry({ auth: 'token' });
  registries.push(plain, basic, token);

  const f = await buildFixtures();
  const busybox = buildImage([f.base, f.app]);
  await pushImage(plain.host, 'skiff/busybox', 'latest', busybox);
  await pushImage(plain.host, 'skiff/busybox-oci', '1.0', buildImage([f.base, f.app], { format: 'oci' }));
  await pushImage(plain.host, 'skiff/big', 'latest', buildImage([f.base, f.big]));
  await pushImage(plain.host, 'skiff/shared-a', 'latest', buildImage([f.base, f.sharedTopA]));
  await pushImage(plain.host, 'skiff/shared-b', 'latest', buildImage([f.base, f.sharedTopB]));
  const multiIndexDigest = await pushIndex(plain.host, 'skiff/multi', 'latest', [
    { image: buildImage([f.base, f.app], { format: 'oci', arch: 'amd64' }), arch: 'amd64' },
    { image: buildImage([f.base, f.armExtra], { format: 'oci', arch: 'arm64' }), arch: 'arm64' },
  ]);
  await pushImage(
    plain.host,
    'skiff/app',
    'latest',
    buildImage([f.base, f.app], {
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['echo default-cmd; id -u; pwd'],
        User: 'www-data',
        WorkingDir: '/home/www',
        Labels: { app: 'demo' },
        Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'FROM_IMAGE=yes'],
      },
    }),
  );
  // A UDP echo server for the networking tests, compiled statically (musl-gcc, else gcc).
  const udpEcho = join(tmpdir(), `skiff-udp-echo-${process.pid}`);
  const cc = spawnSync('sh', ['-c', 'command -v musl-gcc || command -v gcc'], { encoding: 'utf8' }).stdout.trim();
  execFileSync(cc, ['-O2', '-static', '-o', udpEcho, fileURLToPath(new URL('../fixtures/udp-echo.c', import.meta.url))]);
  const udpLayer = await makeLayer([
    { path: 'bin/', type: 'directory' },
    { path: 'bin/udp-echo', content: readFileSync(udpEcho), mode: 0o755 },
  ]);
  rmSync(udpEcho, { force: true });
  await pushImage(plain.host, 'skiff/udp', 'latest', buildImage([f.base, udpLayer]));
  const creds = { username: 'tester', password: 'secret' };
  await pushImage(basic.host, 'private/busybox', 'latest', busybox, creds);
  await pushImage(token.host, 'private/busybox', 'latest', busybox, creds);

  project.provide('plainRegistry', plain.host);
  project.provide('basicRegistry', basic.host);
  project.provide('tokenRegistry', token.host);
  project.provide('multiIndexDigest', multiIndexDigest);
  return async () => {
    await Promise.all(registries.map((r) => r.stop()));
  };
}
