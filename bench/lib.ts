// Shared pieces of the benchmarks: running a command as the unprivileged bench user, timing it,
// and printing medians with ratios. Numbers are printed, never asserted.
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTestUsers, testIds } from '../test/helpers/user.js';

export const isRoot = process.getuid?.() === 0;
if (isRoot) ensureTestUsers();
export const ids = testIds();

// A fresh directory owned by the bench user.
export const userDir = (prefix: string): string => {
  // BENCH_DIR=/dev/shm measures without the disk (CPU and pipeline only).
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? '/var/tmp', `skiff-bench-${prefix}-`));
  chownSync(dir, ids.uid, ids.gid);
  return dir;
};

export const userEnv = (home: string): Record<string, string> => {
  const run = join(home, 'run');
  mkdirSync(run, { recursive: true, mode: 0o700 });
  chownSync(run, ids.uid, ids.gid);
  return { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: home, XDG_RUNTIME_DIR: run, LANG: 'C.UTF-8' };
};

// Runs argv as the bench user and returns wall-clock milliseconds; throws on failure.
export const timeAs = (argv: string[], env: Record<string, string>): number => {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, uid: isRoot ? ids.uid : undefined, gid: isRoot ? ids.gid : undefined, stdio: ['ignore', 'pipe', 'pipe'], cwd: env.HOME });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-500)}`);
  return ms;
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
    process.stdout.write(`  ${name.padEnd(34)} median ${m.toFixed(1).padStart(8)} ms  (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, n=${xs.length})${ratio}\n`);
  }
};
