// Shared pieces of the benchmarks: running a command as the unprivileged bench user, timing it,
// and printing medians with ratios. Numbers are printed, never asserted.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeLayer } from '../test/helpers/layers.js';
import { buildImage, pushImage } from '../test/helpers/registry.js';
import { ensureTestUsers, testIds } from '../test/helpers/user.js';

export const isRoot = process.getuid?.() === 0;
if (isRoot) ensureTestUsers();
export const ids = testIds();

// A fresh directory owned by the bench user, under `base`.
export const userDir = (prefix: string, base = benchDir()): string => {
  const dir = mkdtempSync(join(base, `skiff-bench-${prefix}-`));
  chownSync(dir, ids.uid, ids.gid);
  return dir;
};

// BENCH_DIR=/dev/shm measures without the disk (CPU and pipeline only).
const benchDir = (): string => process.env.BENCH_DIR ?? '/var/tmp';

// Where stores that create and delete many small files go: BENCH_DIR when set, or, when /var/tmp is an ext4
// without a journal (this CI VM's root file system) and we are root, a journaled ext4 (mkfs's
// default, what users' disks have) loop-mounted on an image file there. Without a journal, ext4
// gives out each new inode only after skipping, one by one, every inode freed in the last minute
// (`recently_deleted()`), so every file a command creates costs more the more files were deleted
// just before: removing the last batch's containers, or any rename over an older file. Measured
// here: 20 sequential `run -d` went from ~40 to ~60–85 ms each for skiff (85 to 125 for podman)
// within one batch, a cost of the VM's disk that both tools pay and that is no user's.
// `done` unmounts it and deletes the image.
export const journaledDir = (): { dir: string; note: string; done: () => void } => {
  const base = benchDir();
  const none = { dir: base, note: base, done: () => undefined };
  if (process.env.BENCH_DIR) return none;
  const [source, fstype] = spawnSync('findmnt', ['-no', 'SOURCE,FSTYPE', '-T', base], { encoding: 'utf8' }).stdout.trim().split(/\s+/);
  if (!isRoot || fstype !== 'ext4' || !source?.startsWith('/dev/')) return none;
  let journal = '';
  try {
    journal = readFileSync(`/sys/fs/ext4/${basename(source)}/journal_task`, 'utf8').trim();
  } catch {
    return none;
  }
  if (journal !== '<none>') return none;
  const image = join(base, 'skiff-bench-fs.img');
  const dir = join(base, 'skiff-bench-fs');
  const sh = (cmd: string) => {
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  };
  sh(
    `umount -l '${dir}' 2>/dev/null; rm -f '${image}'; truncate -s 8G '${image}' && mkfs.ext4 -q -F '${image}' && mkdir -p '${dir}' && mount -o loop '${image}' '${dir}'`,
  );
  return {
    dir,
    note: `${dir} (journaled ext4 on a loop device: ${base} is an ext4 without a journal)`,
    // Lazily: the tools' pause processes may keep the file system until they are gone.
    done: () => spawnSync('sh', ['-c', `umount -l '${dir}'; rm -f '${image}'; rmdir '${dir}'`]),
  };
};

// `run`: the user's runtime dir (XDG_RUNTIME_DIR), by default in the home.
export const userEnv = (home: string, run = join(home, 'run')): Record<string, string> => {
  mkdirSync(run, { recursive: true, mode: 0o700 });
  chownSync(run, ids.uid, ids.gid);
  return { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: home, XDG_RUNTIME_DIR: run, LANG: 'C.UTF-8' };
};

// Runs argv as the bench user, untimed; the result for the caller to read.
export const runAs = (argv: string[], env: Record<string, string>) =>
  spawnSync(argv[0], argv.slice(1), { env, cwd: env.HOME, uid: isRoot ? ids.uid : undefined, gid: isRoot ? ids.gid : undefined, encoding: 'utf8' });

// Podman as it runs rootless here: runc (Debian's crun refuses hybrid cgroup hosts; BENCH_PODMAN_RUNTIME
// changes it), cgroupfs (no systemd as PID 1), file events; its own store under the bench home.
export const podmanArgs = (home: string, runroot = join(home, 'r')): string[] => [
  'podman',
  ...['--root', join(home, 'storage'), '--runroot', runroot, '--storage-driver', 'overlay'],
  ...['--runtime', process.env.BENCH_PODMAN_RUNTIME ?? 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'],
];

// Lets the disk settle before a timed run: what earlier runs left to write back is written first.
export const settle = (seconds: number): void => {
  spawnSync('sh', ['-c', `sync; sleep ${seconds}`]);
};

// Runs argv as the bench user and returns wall-clock milliseconds; throws on failure.
export const timeAs = (argv: string[], env: Record<string, string>): number => {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    env,
    uid: isRoot ? ids.uid : undefined,
    gid: isRoot ? ids.gid : undefined,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: env.HOME,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-500)}`);
  return ms;
};

// Round i of a comparison: a then b on even rounds, b then a on odd ones (neither tool always first).
export const alternate = (i: number, a: () => void, b: () => void): void => {
  for (const run of i % 2 === 0 ? [a, b] : [b, a]) run();
};

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const report = (title: string, rows: [string, number[]][], baseline?: string): void => {
  process.stdout.write(`\n${title}\n`);
  const base = baseline ? median(rows.find(([n]) => n === baseline)![1]) : undefined;
  for (const [name, xs] of rows) {
    const m = median(xs);
    const ratio = base && name !== baseline ? `  ${(m / base).toFixed(2)}× ${baseline}` : '';
    process.stdout.write(
      `  ${name.padEnd(34)} median ${m.toFixed(1).padStart(8)} ms  (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})${ratio}\n`,
    );
  }
};

// A busybox image (this host's static busybox; sh, true, sleep, cat) pushed to the registry at
// `host`; returns its reference.
export const pushBusybox = async (host: string): Promise<string> => {
  await pushImage(host, 'bench/busybox', 'latest', buildImage([await busyboxLayer()]));
  return `${host}/bench/busybox:latest`;
};

// That image's one layer.
export const busyboxLayer = () =>
  makeLayer([
    { path: 'bin/', type: 'directory' },
    { path: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
    ...['sh', 'true', 'sleep', 'cat', 'find', 'xargs'].map((name) => ({ path: `bin/${name}`, type: 'symlink' as const, target: 'busybox' })),
    { path: 'etc/', type: 'directory' },
    { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { path: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
