// Entering the rootless namespaces: the pause process's record, and re-running this very command
// inside its user and mount namespaces through nsenter (so no thread of Node ever calls setns).
// Small on purpose: main.ts uses it before loading the CLI, for commands that always need it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Spawned } from '../util/exec.js';
import { liveRecord, type ProcessRecord, userNsOf } from '../util/proc.js';
import { JOINED_ENV } from './rootful.js';

// Set by reexecInside to the relaying (outer) process's pid.
const FOLLOW_ENV = 'SKIFF_FOLLOW_PARENT';

export interface PauseRecord extends ProcessRecord {
  /** 'single' when only the user's own uid is mapped (then setgroups is denied). */
  mode?: 'auto' | 'single';
}

// The live pause process's record, or undefined (none, dead, reused pid, or we are inside it).
export const livePause = (runDir: string): PauseRecord | undefined => {
  const record = liveRecord<PauseRecord>(join(runDir, 'pause.pid'));
  if (!record || userNsOf(record.pid) === userNsOf('self')) return undefined;
  return record;
};

const NSENTER_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'];

// In the re-executed command: die with the CLI process that started it, so SIGKILL of the visible
// skiff process stops the work too (Node cannot set PR_SET_PDEATHSIG; a reparent shows as a new ppid).
export const followParent = (): void => {
  // Only the process that reexecInside started has a relaying parent to follow; its children
  // (monitors, their clean-up commands, an unshare shell) must not inherit the duty.
  const relay = Number(process.env[FOLLOW_ENV]);
  delete process.env[FOLLOW_ENV];
  if (!relay || process.ppid !== relay) return;
  setInterval(() => {
    if (process.ppid !== relay) process.kill(process.pid, 'SIGKILL');
  }, 100).unref();
};

// Re-runs this command inside the pause process's namespaces and exits with its exit code.
export const reexecInside = async (nsenter: string, pause: PauseRecord): Promise<never> => {
  // Single-uid mode denies setgroups, so nsenter keeps our ids (which the namespace maps to 0 anyway).
  const keepIds = pause.mode === 'single' ? ['--preserve-credentials'] : [];
  // --wd: nsenter would otherwise start in the pause process's directory (/), and relative paths
  // given to the command (`import ./x.tar`, `cp ./f ctr:/`) would miss.
  const { signalQuietly, spawnHelper } = await import('../util/exec.js');
  let child: Spawned;
  try {
    child = spawnHelper(
      nsenter,
      [
        '--target',
        String(pause.pid),
        '--user',
        '--mount',
        ...keepIds,
        `--wd=${process.cwd()}`,
        '--',
        process.execPath,
        ...process.execArgv,
        ...process.argv.slice(1),
      ],
      [0, 1, 2],
      {
        // Layer writes run on libuv's thread pool: more threads than its default 4 keep more file
        // creations in flight (they mostly wait on the filesystem, not the CPU).
        env: { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '8', [JOINED_ENV]: String(pause.pid), [FOLLOW_ENV]: String(process.pid) },
      },
    );
  } catch {
    process.exit(125);
  }
  const forward = (signal: NodeJS.Signals) => () => signalQuietly(child.pid, signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) process.on(signal, forward(signal));
  return child.exited.then((code: number) => process.exit(code));
};

// Commands that always work inside the namespace (container lifecycle, files, store writes). The
// launcher (native/launcher/skiff.c) has the same list; test/unit/rootless/enter.test.ts compares them.
export const NEEDS_NAMESPACE = new Set([
  'auto-update',
  'healthcheck',
  'run',
  'create',
  'start',
  'stop',
  'kill',
  'restart',
  'rm',
  'exec',
  'attach',
  'cp',
  'diff',
  'export',
  'commit',
  'top',
  'import',
  'unshare',
  'pull',
  'rmi',
  'load',
  'rename',
  'network',
  'pause',
  'unpause',
  'update',
  'volume',
]);

// skiff's global options that take a value (`--root DIR`), before the command: the launcher
// (native/launcher/skiff.c) has the same list; test/unit/rootless/enter.test.ts compares them.
export const GLOBAL_VALUE_OPTIONS = [
  '--root',
  '--runroot',
  '--log-level',
  '--cgroup-manager',
  '--storage-driver',
  '--storage-opt',
  '--runtime',
  '--tmpdir',
  '--runtime-flag',
  '--events-backend',
  '--conmon',
  '--network-config-dir',
  '--network-cmd-path',
  '--volumepath',
  '--url',
  '--connection',
  '--identity',
  '--hooks-dir',
  '--namespace',
];

// The fast path of main.ts: when the command needs the namespace and its pause process is alive,
// re-run inside it at once, without loading the CLI here first. False when it does not apply
// (then the full CLI decides, and creates the namespace if needed).
export const joinEarly = (argv: string[]): boolean => {
  if (process.env[JOINED_ENV] || process.getuid?.() === 0) return false;
  const args = argv.slice(2);
  let runroot: string | undefined;
  let i = 0;
  for (; i < args.length && args[i].startsWith('-'); i++) {
    const a = args[i];
    if (a === '--runroot') runroot = args[++i];
    else if (a.startsWith('--runroot=')) runroot = a.slice('--runroot='.length);
    else if (GLOBAL_VALUE_OPTIONS.includes(a)) i++;
    else if (!a.includes('=') || !GLOBAL_VALUE_OPTIONS.includes(a.slice(0, a.indexOf('=')))) return false;
  }
  const command = args[i] === 'container' ? args[i + 1] : args[i];
  if (!command || !NEEDS_NAMESPACE.has(command) || args.includes('--help')) return false;
  const runDir = runroot ?? process.env.SKIFF_RUNROOT ?? join(process.env.XDG_RUNTIME_DIR || `/tmp/skiff-run-${process.getuid?.()}`, 'skiff');
  const pause = livePause(runDir);
  if (!pause?.mode) return false;
  const nsenter = NSENTER_DIRS.map((d) => join(d, 'nsenter')).find((p) => existsSync(p));
  if (!nsenter) return false;
  void reexecInside(nsenter, pause);
  return true;
};
