// --userns=keep-id: the first container of the pull bench's ~200 MB image (with busybox on top) in
// a store that has just pulled it, skiff against podman (podman 4.3 copies and chowns the image for
// a new map; skiff makes a shifted copy once per map, natively); a second keep-id container
// against a plain run; and a file-heavy command (every file under /usr read) in a keep-id container
// against a plain one. Each round uses fresh stores; rounds alternate which tool goes first.
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, pushImage, startRegistry } from '../test/helpers/registry.js';
import { alternate, busyboxLayer, journaledDir, median, podmanArgs, report, settle, timeAs, userDir, userEnv } from './lib.js';
import { hostLayer } from './pull.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const RUNS = Number(process.env.BENCH_USERNS_RUNS ?? 3);
const READ_ALL = ['sh', '-c', 'find /usr -type f | xargs cat > /dev/null'];

export const benchUserns = async (): Promise<void> => {
  const l1 = hostLayer('base', ['usr/lib/python3.11', 'usr/share/perl']);
  const l2 = hostLayer('packages', ['usr/lib/gcc']);
  const registry = await startRegistry();
  const fs = journaledDir();
  process.stdout.write(`\nuserns: stores in ${fs.note}\n`);
  const cleanups: (() => void)[] = [];
  try {
    await pushImage(registry.host, 'bench/keepid', 'latest', buildImage([await busyboxLayer(), l1, l2]));
    const image = `${registry.host}/bench/keepid:latest`;
    const first: Record<string, number[]> = { 'podman run --rm --userns=keep-id (first)': [], 'skiff run --rm --userns=keep-id (first)': [] };
    const again: Record<string, number[]> = { 'skiff run --rm': [], 'skiff run --rm --userns=keep-id (again)': [] };
    const reads: Record<string, number[]> = { 'skiff run --rm (read /usr)': [], 'skiff run --rm --userns=keep-id (read /usr)': [] };
    const keepId = ['run', '--rm', '--network', 'none', '--userns=keep-id'];
    const plain = ['run', '--rm', '--network', 'none'];
    for (let i = 0; i < RUNS; i++) {
      const runSkiff = () => {
        const home = userDir('ks', fs.dir);
        const env = userEnv(home, join(userDir('ksr', '/dev/shm'), 'run'));
        cleanups.push(() => rmSync(home, { recursive: true, force: true }));
        timeAs([SKIFF, 'pull', '-q', image], env);
        settle(3);
        first['skiff run --rm --userns=keep-id (first)'].push(timeAs([SKIFF, ...keepId, image, 'true'], env));
        // Warm both trees (the plain layers and their shifted copy) before reading them timed.
        for (const args of [plain, keepId]) timeAs([SKIFF, ...args, image, ...READ_ALL], env);
        for (let j = 0; j < 5; j++) {
          again['skiff run --rm'].push(timeAs([SKIFF, ...plain, image, 'true'], env));
          again['skiff run --rm --userns=keep-id (again)'].push(timeAs([SKIFF, ...keepId, image, 'true'], env));
        }
        for (let j = 0; j < 3; j++) {
          reads['skiff run --rm (read /usr)'].push(timeAs([SKIFF, ...plain, image, ...READ_ALL], env));
          reads['skiff run --rm --userns=keep-id (read /usr)'].push(timeAs([SKIFF, ...keepId, image, ...READ_ALL], env));
        }
      };
      const runPodman = () => {
        const home = userDir('kp', fs.dir);
        const run = userDir('kpr', '/dev/shm');
        const env = userEnv(home, run);
        const podman = podmanArgs(home, join(run, 'r'));
        cleanups.push(() => {
          timeAs([...podman, 'system', 'reset', '-f'], env);
          rmSync(home, { recursive: true, force: true });
        });
        timeAs([...podman, 'pull', '-q', '--tls-verify=false', image], env);
        settle(3);
        first['podman run --rm --userns=keep-id (first)'].push(timeAs([...podman, ...keepId, image, 'true'], env));
      };
      alternate(i, runSkiff, runPodman);
    }
    report('first run --rm --userns=keep-id of a fresh store (goal: skiff ≤ 0.2× podman)', Object.entries(first), 'podman run --rm --userns=keep-id (first)');
    report('a second keep-id container (goal: ≤ 1.1× a plain run)', Object.entries(again), 'skiff run --rm');
    report('every file under /usr read in the container (goal: keep-id ≤ 1.5× plain)', Object.entries(reads), 'skiff run --rm (read /usr)');
    const ratio = (rows: Record<string, number[]>, a: string, b: string) => (median(rows[a]!) / median(rows[b]!)).toFixed(2);
    process.stdout.write(
      `  ratios: first ${ratio(first, 'skiff run --rm --userns=keep-id (first)', 'podman run --rm --userns=keep-id (first)')}, again ${ratio(again, 'skiff run --rm --userns=keep-id (again)', 'skiff run --rm')}, read ${ratio(reads, 'skiff run --rm --userns=keep-id (read /usr)', 'skiff run --rm (read /usr)')}\n`,
    );
  } finally {
    for (const cleanup of cleanups) cleanup();
    fs.done();
    await registry.stop();
  }
};
