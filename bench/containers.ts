// Containers: `run --rm … true` (network none and default), `ps -a` with 50 containers, monitor
// memory per running container, and 20 `run -d` sequentially and 4 at a time — skiff against
// podman on the same machine, as the same unprivileged user, alternating runs.
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import { ids, isRoot, journaledDir, median, podmanArgs, report, runAs, settle, timeAs, userDir, userEnv, pushBusybox } from './lib.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

// Wall-clock ms for `parallel` workers running `count` commands in all.
const timeMany = async (make: (i: number) => string[], env: Record<string, string>, count: number, parallel: number): Promise<number> => {
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const argv = make(next++);
        await new Promise<void>((resolve, reject) => {
          const child = spawn(argv[0], argv.slice(1), {
            env,
            cwd: env.HOME,
            uid: isRoot ? ids.uid : undefined,
            gid: isRoot ? ids.gid : undefined,
            stdio: 'ignore',
          });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}`))));
        });
      }
    }),
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
};

// Resident memory (and proportional share) of each process whose command name is `comm`.
const memoryOf = (comm: string): { rss: number[]; pss: number[] } => {
  const rss: number[] = [];
  const pss: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== comm) continue;
      rss.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]));
      pss.push(Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))![1]));
    } catch {
      // gone
    }
  }
  return { rss, pss };
};

export const benchContainers = async (): Promise<void> => {
  const registry = await startRegistry();
  const fs = journaledDir();
  process.stdout.write(`\ncontainers: stores in ${fs.note}\n`);
  const skiffHome = userDir('cs', fs.dir);
  // Podman wants its runroot path under 50 characters.
  const podmanHome = userDir('cp', fs.dir);
  // Runtime dirs on tmpfs, as /run/user/UID is where users have them (both tools keep their
  // runtime's state, pid files and sockets there).
  const skiffRun = userDir('csr', '/dev/shm');
  const podmanRun = userDir('cpr', '/dev/shm');
  const skiffEnv = userEnv(skiffHome, skiffRun);
  const podmanEnv = userEnv(podmanHome, podmanRun);
  const skiff = [SKIFF];
  const podman = podmanArgs(podmanHome, join(podmanRun, 'r'));
  try {
    const image = await pushBusybox(registry.host);
    timeAs([...skiff, 'pull', '-q', image], skiffEnv);
    timeAs([...podman, 'pull', '-q', '--tls-verify=false', image], podmanEnv);

    // 1. run --rm true
    // Networks: none for both; each tool's default (podman 4.3: slirp4netns; skiff: pasta where
    // installed); and skiff with slirp4netns against podman's default.
    const networks: [string, string[], string[]][] = [
      ['--network none', ['--network', 'none'], ['--network', 'none']],
      ['default network (podman: slirp4netns, skiff: pasta)', [], []],
      ['podman default (slirp4netns), skiff --network slirp4netns', [], ['--network', 'slirp4netns']],
    ];
    for (const [label, podmanNet, skiffNet] of networks) {
      const rows: Record<string, number[]> = { 'podman run --rm': [], 'skiff run --rm': [] };
      // One warm-up each: the first run creates the rootless namespace and probes the host.
      timeAs([...podman, 'run', '--rm', ...podmanNet, image, 'true'], podmanEnv);
      timeAs([...skiff, 'run', '--rm', ...skiffNet, image, 'true'], skiffEnv);
      for (let i = 0; i < RUNS; i++) {
        const order = i % 2 ? ['skiff', 'podman'] : ['podman', 'skiff'];
        for (const who of order) {
          if (who === 'skiff') rows['skiff run --rm'].push(timeAs([...skiff, 'run', '--rm', ...skiffNet, image, 'true'], skiffEnv));
          else rows['podman run --rm'].push(timeAs([...podman, 'run', '--rm', ...podmanNet, image, 'true'], podmanEnv));
        }
      }
      report(`run --rm busybox true, ${label} (goal: skiff ≤ 0.5× podman)`, Object.entries(rows), 'podman run --rm');
    }

    // 2. ps -a with 50 containers
    for (let i = 0; i < 50; i++) {
      timeAs([...skiff, 'create', image, 'true'], skiffEnv);
      timeAs([...podman, 'create', image, 'true'], podmanEnv);
    }
    const ps: Record<string, number[]> = { 'podman ps -a (50)': [], 'skiff ps -a (50)': [] };
    for (let i = 0; i < RUNS; i++) {
      ps['podman ps -a (50)'].push(timeAs([...podman, 'ps', '-a'], podmanEnv));
      ps['skiff ps -a (50)'].push(timeAs([...skiff, 'ps', '-a'], skiffEnv));
    }
    report('ps -a with 50 containers (goal: skiff ≤ podman)', Object.entries(ps), 'podman ps -a (50)');
    runAs([...skiff, 'rm', '--all', '--force'], skiffEnv);
    runAs([...podman, 'rm', '--all', '--force'], podmanEnv);

    // 3. 20 run -d, sequentially and 4 at a time, in up to 5 rounds (which tool goes first
    // alternates; each batch starts with no container of either); then the monitors' memory
    const batches: Record<string, number[]> = {
      'podman 20× run -d, sequential': [],
      'skiff 20× run -d, sequential': [],
      'podman 20× run -d, 4 parallel': [],
      'skiff 20× run -d, 4 parallel': [],
    };
    const rounds = Math.max(1, Math.min(RUNS, 5));
    const removeAll = (tool: 'podman' | 'skiff') =>
      runAs(
        tool === 'podman' ? [...podman, 'rm', '--all', '--force', '--time', '0'] : [...skiff, 'rm', '--all', '--force'],
        tool === 'podman' ? podmanEnv : skiffEnv,
      );
    for (let round = 0; round < rounds; round++) {
      for (const parallel of [1, 4]) {
        const kind = parallel === 1 ? 'sequential' : '4 parallel';
        // The last batches keep their containers until the monitors' memory is measured.
        const keep = parallel === 4 && round === rounds - 1;
        const line: string[] = [];
        for (const tool of round % 2 ? (['skiff', 'podman'] as const) : (['podman', 'skiff'] as const)) {
          const argv = tool === 'podman' ? podman : skiff;
          // What the other tool's batch and its removal left to write back is written first: a
          // batch right after ~20 removed containers otherwise pays for their writeback in its
          // own syncs (skiff's per-run fsync waited up to 10 ms then, ~0.6 ms on a quiet disk).
          settle(1);
          const ms = await timeMany(
            () => [...argv, 'run', '-d', '--network', 'none', image, 'sleep', '600'],
            tool === 'podman' ? podmanEnv : skiffEnv,
            20,
            parallel,
          );
          batches[`${tool} 20× run -d, ${kind}`].push(ms);
          line.push(`${tool} ${ms.toFixed(0)} ms`);
          if (!keep) removeAll(tool);
        }
        process.stdout.write(`  (round ${round + 1}, ${kind}: ${line.join(', ')})\n`);
        if (keep) {
          const mon = memoryOf('skiff-monitor');
          const conmon = memoryOf('conmon');
          process.stdout.write(
            `\nmonitor memory per running container (goal: skiff-monitor RSS ≤ 0.5 MB; ${mon.rss.length} skiff, ${conmon.rss.length} podman containers)\n`,
          );
          process.stdout.write(
            `  conmon         RSS median ${(median(conmon.rss) / 1024).toFixed(2)} MB, PSS median ${(median(conmon.pss) / 1024).toFixed(2)} MB\n`,
          );
          process.stdout.write(`  skiff-monitor  RSS median ${(median(mon.rss) / 1024).toFixed(2)} MB, PSS median ${(median(mon.pss) / 1024).toFixed(2)} MB\n`);
          removeAll('skiff');
          removeAll('podman');
        }
      }
    }
    report('20 × run -d (goal: skiff ≤ 0.5× podman)', Object.entries(batches));
    for (const kind of ['sequential', '4 parallel'])
      process.stdout.write(
        `  ratio skiff/podman, ${kind}: ${(median(batches[`skiff 20× run -d, ${kind}`]) / median(batches[`podman 20× run -d, ${kind}`])).toFixed(2)}\n`,
      );
  } finally {
    runAs([...skiff, 'system', 'reset', '--force'], skiffEnv);
    runAs([...podman, 'system', 'reset', '--force'], podmanEnv);
    spawnSync('rm', ['-rf', skiffHome, podmanHome, skiffRun, podmanRun]);
    fs.done();
    await registry.stop();
  }
};
