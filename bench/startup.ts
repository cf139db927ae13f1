// Start-up cost: `--version` and `images` with 20 images, skiff against podman and against Node's
// own start (`node -e 0`), as the same unprivileged user.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeLayer } from '../test/helpers/layers.js';
import { buildImage, pushImage, startRegistry } from '../test/helpers/registry.js';
import { median, report, timeAs, userDir, userEnv } from './lib.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS_FAST ?? 30);

export const benchStartup = async (): Promise<void> => {
  const registry = await startRegistry();
  const home = userDir('startup');
  const env = userEnv(home);
  const store = ['--root', join(home, 'storage'), '--runroot', join(home, 'run', 'containers'), '--storage-driver', 'overlay'];
  try {
    const base = await makeLayer([
      { path: 'etc/', type: 'directory' },
      { path: 'etc/hostname', content: 'bench\n' },
    ]);
    for (let i = 0; i < 20; i++) {
      const ref = `${registry.host}/bench/img${i}:latest`;
      await pushImage(registry.host, `bench/img${i}`, 'latest', buildImage([base, await makeLayer([{ path: `n${i}`, content: `${i}\n` }])]));
      timeAs([SKIFF, 'pull', '-q', ref], env);
      timeAs(['podman', ...store, 'pull', '-q', '--tls-verify=false', ref], env);
    }
    const rows: Record<string, number[]> = {
      'node -e 0': [],
      'skiff --version': [],
      'podman --version': [],
      'skiff images (20)': [],
      'podman images (20)': [],
    };
    for (let i = 0; i < RUNS; i++) {
      rows['node -e 0'].push(timeAs([process.execPath, '-e', '0'], env));
      rows['skiff --version'].push(timeAs([SKIFF, '--version'], env));
      rows['podman --version'].push(timeAs(['podman', '--version'], env));
      rows['skiff images (20)'].push(timeAs([SKIFF, 'images'], env));
      rows['podman images (20)'].push(timeAs(['podman', ...store, 'images'], env));
    }
    report('start-up (goal: skiff within 15 ms of node -e 0)', Object.entries(rows), 'node -e 0');
    const node = median(rows['node -e 0']);
    process.stdout.write(
      `  skiff --version − node: ${(median(rows['skiff --version']) - node).toFixed(1)} ms; skiff images − node: ${(median(rows['skiff images (20)']) - node).toFixed(1)} ms\n`,
    );
  } finally {
    timeAs(['podman', ...store, 'system', 'reset', '-f'], env);
    timeAs([SKIFF, 'rmi', '-a'], env);
    spawnSync('sh', ['-c', `kill -9 $(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p' ${home}/run/skiff/pause.pid) 2>/dev/null`]);
    spawnSync('rm', ['-rf', home]);
    await registry.stop();
  }
};
