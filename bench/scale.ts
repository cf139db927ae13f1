// Many containers per user (issue 26): the memory of the helpers each running container costs (10
// and 100 running, with the default network and a published port, and with --network none), the
// start time as containers add up to BENCH_SCALE_N, `ps` and `rm -af` with 100 running, and the
// store's size before and after — skiff against podman, as the same unprivileged user, alternating.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startRegistry } from '../test/helpers/registry.js';
import { ids, journaledDir, median, podmanArgs, pushBusybox, report, runAs, settle, timeAs, userDir, userEnv } from './lib.js';

const SKIFF = fileURLToPath(new URL('../bin/skiff', import.meta.url));
// Containers started one after another (start-time growth).
const STARTS = Number(process.env.BENCH_SCALE_N ?? 200);
// How many run at once for the memory figures; the last is the count `ps` and `rm -af` see (none: no such figures).
const COUNTS = (process.env.BENCH_SCALE_COUNTS ?? '10,100').split(',').filter(Boolean).map(Number);
// `ps` runs per tool at the largest count.
const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 10);

type Tool = 'skiff' | 'podman';

interface Side {
  argv: string[];
  env: Record<string, string>;
  /** The data and runtime dirs (the store). */
  dirs: string[];
  /** The pause process that holds the tool's user namespace. */
  pausePid: () => number;
  /** The tool's flags for the network case: [] (its default) with a published port, or none. */
  network: (withPort: boolean) => Promise<string[]>;
  rmAll: string[];
}

const inNs = (pid: string | number, ns: string): string => {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return '';
  }
};

// RSS (kB) of every process in the tool's user namespace but the containers' own (those are in
// a pid namespace of their own) and the CLI: the monitors and what they start, network helpers, the
// pause process and any shared holder, by command name.
// `skip`: processes not started for these containers (see networkHelpers).
const helperMemory = (pausePid: number, skip = new Set<number>()): Map<string, { count: number; kb: number }> => {
  const userns = inNs(pausePid, 'user');
  const pidns = inNs(pausePid, 'pid');
  const by = new Map<string, { count: number; kb: number }>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (skip.has(Number(pid)) || inNs(pid, 'user') !== userns || inNs(pid, 'pid') !== pidns) continue;
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (comm === 'node' || !rss) continue; // a CLI (or a zombie)
      const entry = by.get(comm) ?? { count: 0, kb: 0 };
      by.set(comm, { count: entry.count + 1, kb: entry.kb + Number(rss[1]) });
    } catch {
      // gone meanwhile
    }
  }
  return by;
};

// skiff's default network's shared helpers (the rootless network namespace's holder, its
// slirp4netns and skiff-dns), which an earlier default-network run left: not started for
// --network none containers, so left out of their figures (and said so).
const networkHelpers = (runDir: string): Set<number> => {
  try {
    const holder = JSON.parse(readFileSync(join(runDir, 'skiff', 'netns.pid'), 'utf8')) as { pid: number; egress?: { pid: number } };
    const netns = inNs(String(holder.pid), 'net');
    const dns = readdirSync('/proc').filter((p) => {
      try {
        return /^\d+$/.test(p) && inNs(p, 'net') === netns && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'skiff-dns';
      } catch {
        return false;
      }
    });
    return new Set([holder.pid, ...(holder.egress ? [holder.egress.pid] : []), ...dns.map(Number)]);
  } catch {
    return new Set();
  }
};

// Files (directories too) and bytes (of what is not a directory: ext4 keeps a directory's size
// after its entries go) under the dirs.
const storeSize = (dirs: string[]): { files: number; bytes: number } => {
  let files = 0;
  let bytes = 0;
  const walk = (path: string) => {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    files++;
    if (!st.isDirectory()) {
      bytes += st.size;
      return;
    }
    let names: string[] = [];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) walk(join(path, name));
  };
  for (const dir of dirs) walk(dir);
  return { files, bytes };
};

// Starts one container; its error's last line when it fails.
const start = (side: Side, net: string[], image: string): { ms: number; error?: string } => {
  const begin = process.hrtime.bigint();
  const r = runAs([...side.argv, 'run', '-d', ...net, image, 'sleep', '3600'], side.env);
  const ms = Number(process.hrtime.bigint() - begin) / 1e6;
  return r.status === 0 ? { ms } : { ms, error: (r.stderr || r.stdout).trim().split('\n').pop() };
};

const mb = (kb: number): string => (kb / 1024).toFixed(2);

export const benchScale = async (): Promise<void> => {
  const registry = await startRegistry();
  const fs = journaledDir();
  process.stdout.write(`\nscale: stores in ${fs.note}, runtime dirs on /dev/shm\n`);
  const skiffHome = userDir('ss', fs.dir);
  const podmanHome = userDir('sp', fs.dir);
  const skiffRun = userDir('ssr', '/dev/shm');
  const podmanRun = userDir('spr', '/dev/shm');
  const podmanRoot = join(podmanRun, 'r');
  const port = async (withPort: boolean) => (withPort ? ['-p', `${await freePort()}:80`] : ['--network', 'none']);
  const sides: Record<Tool, Side> = {
    skiff: {
      argv: [SKIFF],
      env: userEnv(skiffHome, skiffRun),
      dirs: [join(skiffHome, '.local/share/skiff'), join(skiffRun, 'skiff')],
      pausePid: () => (JSON.parse(readFileSync(join(skiffRun, 'skiff', 'pause.pid'), 'utf8')) as { pid: number }).pid,
      network: port,
      rmAll: ['rm', '--all', '--force', '--time', '0'],
    },
    podman: {
      argv: podmanArgs(podmanHome, podmanRoot),
      env: userEnv(podmanHome, podmanRun),
      dirs: [join(podmanHome, 'storage'), podmanRun],
      pausePid: () => Number(readFileSync(join(podmanRun, 'libpod', 'tmp', 'pause.pid'), 'utf8')),
      network: port,
      rmAll: ['rm', '--all', '--force', '--time', '0'],
    },
  };
  // A second skiff store, for a baseline beside the starts (see 2.).
  const controlHome = userDir('sc', fs.dir);
  const controlRun = userDir('scr', '/dev/shm');
  const control: Side = { ...sides.skiff, env: userEnv(controlHome, controlRun) };
  const order = (i: number): Tool[] => (i % 2 ? ['skiff', 'podman'] : ['podman', 'skiff']);
  const running = (tool: Tool): number =>
    runAs([...sides[tool].argv, 'ps', '-q'], sides[tool].env)
      .stdout.trim()
      .split('\n')
      .filter(Boolean).length;
  // Where podman stopped (the per-user key quota, near 100 or 200 containers): said once.
  const walls: Record<Tool, string | undefined> = { skiff: undefined, podman: undefined };
  const keyUsage = (): string =>
    readFileSync('/proc/key-users', 'utf8')
      .split('\n')
      .find((l) => l.trim().startsWith(`${ids.uid}:`))
      ?.trim() ?? '';
  try {
    const image = await pushBusybox(registry.host);
    timeAs([...sides.skiff.argv, 'pull', '-q', image], sides.skiff.env);
    timeAs([...sides.podman.argv, 'pull', '-q', '--tls-verify=false', image], sides.podman.env);
    for (const tool of ['skiff', 'podman'] as const) timeAs([...sides[tool].argv, 'run', '--rm', '--network', 'none', image, 'true'], sides[tool].env);
    const before = { skiff: storeSize(sides.skiff.dirs), podman: storeSize(sides.podman.dirs) };

    // 1. Helper memory per container, 10 and 100 running; with 100 (--network none): ps and rm -af.
    const psRows: Record<string, number[]> = {};
    const rmRows: { label: string; ms: Record<Tool, number>; count: Record<Tool, number> }[] = [];
    for (const count of COUNTS) {
      for (const withPort of [true, false]) {
        const label = withPort ? 'default network, -p PORT:80' : '--network none';
        const started: Record<Tool, number> = { skiff: 0, podman: 0 };
        for (let i = 0; i < count; i++)
          for (const tool of order(i)) {
            if (started[tool] < i) continue; // it stopped
            const r = start(sides[tool], await sides[tool].network(withPort), image);
            if (r.error) walls[tool] ??= `${tool} stopped at container ${i + 1} (${label}): ${r.error}; keys: ${keyUsage()}`;
            else started[tool]++;
          }
        settle(1);
        process.stdout.write(`\nhelper memory per container, ${count} running, ${label} (goal: skiff ≤ ${withPort ? '5' : '0.5'} MB)\n`);
        for (const tool of ['podman', 'skiff'] as const) {
          const skip = tool === 'skiff' && !withPort ? networkHelpers(skiffRun) : new Set<number>();
          const by = helperMemory(sides[tool].pausePid(), skip);
          const total = [...by.values()].reduce((sum, e) => sum + e.kb, 0);
          const parts = [...by].sort((a, b) => b[1].kb - a[1].kb).map(([comm, e]) => `${comm} ×${e.count} ${mb(e.kb)}`);
          process.stdout.write(
            `  ${tool.padEnd(7)} ${started[tool]} containers: ${mb(total / Math.max(1, started[tool]))} MB each (${mb(total)} MB in all: ${parts.join(', ')})${skip.size ? `; the default network's shared helpers (${skip.size} processes) left out` : ''}\n`,
          );
        }
        const last = count === COUNTS[COUNTS.length - 1] && !withPort;
        if (last)
          for (let i = 0; i < RUNS; i++)
            for (const tool of order(i)) (psRows[`${tool} ps (${started[tool]} running)`] ??= []).push(timeAs([...sides[tool].argv, 'ps'], sides[tool].env));
        const ms = { skiff: 0, podman: 0 };
        for (const tool of order(count)) {
          settle(1);
          ms[tool] = timeAs([...sides[tool].argv, ...sides[tool].rmAll], sides[tool].env);
        }
        rmRows.push({ label, ms, count: started });
      }
    }
    const podmanPs = Object.keys(psRows).find((k) => k.startsWith('podman'));
    if (podmanPs) report(`ps with ${COUNTS[COUNTS.length - 1]} running (goal: skiff ≤ 0.4× podman)`, Object.entries(psRows), podmanPs);
    if (rmRows.length) process.stdout.write(`\nrm -af (goal: skiff ≤ 0.5× podman with ${COUNTS[COUNTS.length - 1]} running, --network none)\n`);
    for (const { label, ms, count } of rmRows)
      process.stdout.write(
        `  ${label.padEnd(28)} podman ${ms.podman.toFixed(0).padStart(6)} ms (${count.podman}), skiff ${ms.skiff.toFixed(0).padStart(6)} ms (${count.skiff}): ${(ms.skiff / ms.podman).toFixed(2)}×\n`,
      );

    const middle = { skiff: storeSize(sides.skiff.dirs), podman: storeSize(sides.podman.dirs) };

    // 2. Containers started one after another: the last ten against the first ten. The machine's
    // load moves over the minutes that takes (other work on a shared host), so skiff's first and
    // last ten are each timed beside a start in a second store that stays near empty (23 at
    // most): the ratio of the two tells the cost of the containers from the load's.
    timeAs([...control.argv, 'pull', '-q', image], control.env);
    timeAs([...control.argv, 'run', '--rm', '--network', 'none', image, 'true'], control.env);
    for (let i = 0; i < 3; i++) start(control, ['--network', 'none'], image); // its first starts, untimed
    const starts: Record<Tool, number[]> = { skiff: [], podman: [] };
    const beside: number[] = [];
    for (let i = 0; i < STARTS; i++)
      for (const tool of order(i)) {
        if (starts[tool].length < i) continue;
        // (Which of the two goes first alternates: the second of two starts in a row pays for some of the first's work.)
        const paired = tool === 'skiff' && (i < 10 || i >= STARTS - 10);
        if (paired && i % 2) beside.push(start(control, ['--network', 'none'], image).ms);
        const r = start(sides[tool], ['--network', 'none'], image);
        if (r.error) walls[tool] ??= `${tool} stopped at container ${i + 1} (--network none): ${r.error}; keys: ${keyUsage()}`;
        else starts[tool].push(r.ms);
        if (paired && !(i % 2)) beside.push(start(control, ['--network', 'none'], image).ms);
      }
    process.stdout.write(`\n${STARTS} × run -d --network none one after another (goal: skiff's last ten ≤ 1.2× its first ten)\n`);
    for (const tool of ['podman', 'skiff'] as const) {
      const xs = starts[tool];
      const first = median(xs.slice(0, 10));
      const last = median(xs.slice(-10));
      process.stdout.write(
        `  ${tool.padEnd(7)} ${xs.length} started (${running(tool)} running): first ten median ${first.toFixed(1)} ms, last ten ${last.toFixed(1)} ms: ${(last / first).toFixed(2)}×\n`,
      );
    }
    // Each start against the one beside it, the first ten's and the last ten's medians.
    const paired = (xs: number[], ys: number[]) => median(xs.map((x, k) => x / ys[k]));
    const firstPairs = paired(starts.skiff.slice(0, 10), beside.slice(0, 10));
    const lastPairs = paired(starts.skiff.slice(-10), beside.slice(-10));
    process.stdout.write(
      `  skiff in a second, near-empty store, beside them: ${median(beside.slice(0, 10)).toFixed(1)} ms then ${median(beside.slice(-10)).toFixed(1)} ms; each start against the one beside it: ${firstPairs.toFixed(2)}× then ${lastPairs.toFixed(2)}×, the last ten against the first with the load taken out: ${(lastPairs / firstPairs).toFixed(2)}×\n`,
    );
    for (const wall of Object.values(walls)) if (wall) process.stdout.write(`  ${wall}\n`);
    for (const tool of order(1)) {
      const ms = timeAs([...sides[tool].argv, ...sides[tool].rmAll], sides[tool].env);
      process.stdout.write(`  ${tool} rm -af of ${starts[tool].length}: ${ms.toFixed(0)} ms\n`);
    }

    // 3. The store after all that, every container removed: nothing grows per command but the
    // events log (skiff's rotates at events_logfile_max_size, 1 MB).
    const after = { skiff: storeSize(sides.skiff.dirs), podman: storeSize(sides.podman.dirs) };
    const events = {
      skiff: join(sides.skiff.dirs[0], 'events.log'),
      podman: spawnSync('find', [podmanRun, '-name', 'events.log'], { encoding: 'utf8' }).stdout.trim().split('\n')[0],
    };
    const signed = (n: number) => `${n >= 0 ? '+' : ''}${n}`;
    const size = (s: { files: number; bytes: number }) => `${s.files} files, ${s.bytes} bytes`;
    process.stdout.write(
      `\nthe store (data and runtime dirs): before, after the memory runs and after the ${STARTS} starts, every container removed each time\n`,
    );
    for (const tool of ['podman', 'skiff'] as const) {
      let log = 0;
      try {
        log = lstatSync(events[tool]).size;
      } catch {
        // none
      }
      const [b, m, a] = [before[tool], middle[tool], after[tool]];
      process.stdout.write(
        `  ${tool.padEnd(7)} ${size(b)} → ${size(m)} → ${size(a)} (last step ${signed(a.files - m.files)} files, ${signed(a.bytes - m.bytes)} bytes; events log now ${log} bytes)\n`,
      );
    }
  } finally {
    for (const side of [sides.skiff, sides.podman, control]) {
      runAs([...side.argv, ...side.rmAll], side.env);
      runAs([...side.argv, 'system', 'reset', '--force'], side.env);
    }
    spawnSync('rm', ['-rf', skiffHome, podmanHome, skiffRun, podmanRun, controlHome, controlRun]);
    fs.done();
    await registry.stop();
  }
};
