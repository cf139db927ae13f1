// Cold pull of a two-layer image from a loopback registry: skiff against podman, both rootless as
// the same unprivileged user, each run into an empty store, runs alternating.
// Layer 1: Python, Perl and package docs from this host (many small files); layer 2: GCC's
// libexec (fewer, larger binaries).
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sha256 } from '../test/helpers/layers.js';
import { buildImage, pushImage, startRegistry } from '../test/helpers/registry.js';
import { alternate, median, report, settle, timeAs, userDir, userEnv } from './lib.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const cache = '/var/tmp/skiff-bench-layers';

// A layer of this host's files (cached under /var/tmp): its tar, gzip, diff id and digest.
export const hostLayer = (name: string, paths: string[]) => {
  const gzPath = join(cache, `${name}.tar.gz`);
  const tarPath = join(cache, `${name}.tar`);
  if (!existsSync(gzPath)) {
    mkdirSync(cache, { recursive: true });
    const r = spawnSync('tar', ['-C', '/', '--numeric-owner', '-cf', tarPath, ...paths]);
    if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
    writeFileSync(gzPath, gzipSync(readFileSync(tarPath)));
  }
  const tar = readFileSync(tarPath);
  const gz = readFileSync(gzPath);
  return { tar, gz, diffId: sha256(tar), digest: sha256(gz) };
};

export const benchPull = async (): Promise<void> => {
  const l1 = hostLayer('base', ['usr/lib/python3.11', 'usr/share/perl']);
  const l2 = hostLayer('packages', ['usr/lib/gcc']);
  const mb = (n: number) => (n / 1e6).toFixed(1);
  process.stdout.write(`\nimage: 2 layers, ${mb(l1.gz.length + l2.gz.length)} MB compressed, ${mb(l1.tar.length + l2.tar.length)} MB of tar\n`);
  const registry = await startRegistry();
  const cleanups: (() => void)[] = [];
  try {
    await pushImage(registry.host, 'bench/image', 'latest', buildImage([l1, l2]));
    const ref = `${registry.host}/bench/image:latest`;
    const skiff: number[] = [];
    const podman: number[] = [];
    // Every run pulls into a store of its own, and the stores are deleted only at the end. A store
    // deleted just before a run would cost that run far more than its own work on an ext4 without
    // a journal (this CI VM's): allocating an inode there skips, one by one, the inodes freed in the
    // last 60 s (ext4's recently_deleted(); perf showed 40% of all time in it), so a pull after
    // another's clean-up took 2-3 s instead of 1. Users' ext4 has a journal, where it does not.
    for (let i = 0; i < RUNS; i++) {
      const runSkiff = () => {
        const home = userDir('skiff');
        const env = userEnv(home);
        settle(3);
        skiff.push(timeAs([SKIFF, 'pull', '-q', ref], env));
        spawnSync('sh', ['-c', `kill -9 $(sed -n 's/.*"pid": *\\([0-9]*\\).*/\\1/p' ${home}/run/skiff/pause.pid) 2>/dev/null`]);
        cleanups.push(() => rmSync(home, { recursive: true, force: true }));
      };
      const runPodman = () => {
        const home = userDir('podman');
        const env = userEnv(home);
        const store = ['--root', join(home, 'storage'), '--runroot', join(home, 'run', 'containers'), '--storage-driver', 'overlay'];
        settle(3);
        podman.push(timeAs(['podman', ...store, 'pull', '-q', '--tls-verify=false', ref], env));
        cleanups.push(() => {
          timeAs(['podman', ...store, 'system', 'reset', '-f'], env);
          rmSync(home, { recursive: true, force: true });
        });
      };
      alternate(i, runSkiff, runPodman);
    }
    report(
      `cold pull into ${process.env.BENCH_DIR ?? '/var/tmp'} (goal: skiff ≤ 0.6× podman)`,
      [
        ['podman pull', podman],
        ['skiff pull', skiff],
      ],
      'podman pull',
    );
    process.stdout.write(`  ratio skiff/podman: ${(median(skiff) / median(podman)).toFixed(2)}\n`);
  } finally {
    for (const cleanup of cleanups) cleanup();
    await registry.stop();
  }
};
