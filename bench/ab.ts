// A/B of two skiff builds: this tree's against another's (BENCH_AB_OTHER: that build's bin/skiff),
// interleaved run by run, so that both meet the same moment of the host. `--version`, `images`, `run --rm` on
// three networks, `ps -a` with 50 containers and 20 sequential `run -d`. Each build keeps its own store
// and runtime dir. Its answer is the ratio this/other; only a ratio of one run means anything.
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/helpers/registry.js';
import { journaledDir, median, runAs, settle, timeAs, userDir, userEnv, pushBusybox } from './lib.js';

const N = Number(process.env.BENCH_RUNS ?? 15);
type K = 'old' | 'new';

export const benchAb = async (): Promise<void> => {
  const other = process.env.BENCH_AB_OTHER;
  if (!other) {
    process.stdout.write('\nab: set BENCH_AB_OTHER to the bin/skiff of the build to compare with (e.g. a worktree of main, built)\n');
    return;
  }
  const trees: Record<K, string> = { old: other, new: fileURLToPath(new URL('../bin/skiff', import.meta.url)) };
  process.stdout.write(`\nA/B: new = this tree, old = ${other}\n`);
  const registry = await startRegistry();
  const fs = journaledDir();
  const env = {} as Record<K, Record<string, string>>;
  for (const k of ['old', 'new'] as K[]) env[k] = userEnv(userDir(`ab${k}`, fs.dir), userDir(`ab${k}r`, '/dev/shm'));
  try {
    const image = await pushBusybox(registry.host);
    for (const k of ['old', 'new'] as K[]) timeAs([trees[k], 'pull', '-q', image], env[k]);
    const ab = (label: string, argv: string[], n = N) => {
      const t: Record<K, number[]> = { old: [], new: [] };
      for (const k of ['old', 'new'] as K[]) timeAs([trees[k], ...argv], env[k]);
      for (let i = 0; i < n; i++) for (const k of (i % 2 ? ['old', 'new'] : ['new', 'old']) as K[]) t[k].push(timeAs([trees[k], ...argv], env[k]));
      const [o, w] = [median(t.old), median(t.new)];
      process.stdout.write(
        `  ${label.padEnd(32)} old ${o.toFixed(1).padStart(7)} ms  new ${w.toFixed(1).padStart(7)} ms  new/old ${(w / o).toFixed(3)}  (n=${n} each, alternating)\n`,
      );
    };
    ab('--version', ['--version'], 2 * N);
    ab('images (1)', ['images'], 2 * N);
    ab('run --rm --network none', ['run', '--rm', '--network', 'none', image, 'true']);
    ab('run --rm (pasta)', ['run', '--rm', image, 'true']);
    ab('run --rm --network slirp4netns', ['run', '--rm', '--network', 'slirp4netns', image, 'true']);
    for (const k of ['old', 'new'] as K[]) for (let i = 0; i < 50; i++) runAs([trees[k], 'create', '--network', 'none', image, 'true'], env[k]);
    ab('ps -a (50)', ['ps', '-a'], 2 * N);
    for (const k of ['old', 'new'] as K[]) runAs([trees[k], 'rm', '--all', '--force'], env[k]);
    // 20 × run -d, rounds alternating which build goes first.
    const t: Record<K, number[]> = { old: [], new: [] };
    for (let round = 0; round < 5; round++) {
      for (const k of (round % 2 ? ['old', 'new'] : ['new', 'old']) as K[]) {
        settle(1);
        const start = process.hrtime.bigint();
        for (let i = 0; i < 20; i++) timeAs([trees[k], 'run', '-d', '--network', 'none', image, 'sleep', '1000'], env[k]);
        t[k].push(Number(process.hrtime.bigint() - start) / 1e6);
        process.stdout.write(`  (round ${round + 1}: ${k} ${t[k].at(-1)!.toFixed(0)} ms)\n`);
        runAs([trees[k], 'rm', '--all', '--force', '--time', '0'], env[k]);
      }
    }
    process.stdout.write(
      `  20× run -d sequential (5 rounds)  old ${median(t.old).toFixed(0)} ms  new ${median(t.new).toFixed(0)} ms  new/old ${(median(t.new) / median(t.old)).toFixed(3)}\n`,
    );
  } finally {
    for (const k of ['old', 'new'] as K[]) runAs([trees[k], 'system', 'reset', '--force'], env[k]);
    await registry.stop();
    fs.done();
  }
};
