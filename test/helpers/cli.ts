// Runs the built CLI as an unprivileged user, the way skiff is meant to run. As root (CI) that is
// the harness's test user; as anyone else, the developer's own account. Each sandbox has its own
// HOME, XDG dirs and so its own store and rootless namespace.
import { fileURLToPath } from 'node:url';
import { spawn, execFileSync, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const SKIFF = join(REPO, 'bin/skiff');
import { TEST_USER, testIds } from './user.js';

export { TEST_USER, testIds };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const isRoot = process.getuid?.() === 0;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Waits until `done` holds, looking every 50 ms; throws after `ms`.
export const until = async (done: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms`);
    await sleep(50);
  }
};

// Spawn options that run a child as `user`: its uid and gid when the tests run as root, nothing
// when they run as a developer, whose own account is then the user.
export const asTestUser = (user = TEST_USER): { uid?: number; gid?: number } => (isRoot ? testIds(user) : {});

// Starts `command` as the test user (see asTestUser); the options are spawn's.
export const spawnAsTestUser = (command: string, args: string[], options: SpawnOptions = {}, user = TEST_USER): ChildProcess =>
  spawn(command, args, { ...options, ...asTestUser(user) });

// script(1) running `argv` on a terminal of its own: its stdout is what the terminal shows (the
// command's stdout and stderr, \r\n line ends, echoed input) and it exits with the command's code.
export const ptyCommand = (argv: string[]): [string, string[]] => ['script', ['-qec', argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), '/dev/null']];

// The test user's first subordinate uid (what image uid 1 maps to on disk).
export const subuidStart = (): number => {
  const name = isRoot ? TEST_USER : execFileSync('id', ['-un']).toString().trim();
  const line = readFileSync('/etc/subuid', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no /etc/subuid range for ${name}`);
  return Number(line.split(':')[1]);
};

export interface RunOptions {
  input?: string;
  /** A file to connect to standard input (binary archives). */
  stdinFile?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run in this network namespace (`ip netns` name; the tests must run as root). */
  netns?: string;
  /** A command that runs skiff, as the user: e.g. ['/usr/bin/time', '-f', '%M', '-o', FILE]. */
  wrapper?: string[];
  /** Run on a terminal of its own (ptyCommand): stdout is what the terminal shows, stderr included. */
  pty?: boolean;
}

export interface SpawnCliOptions extends RunOptions {
  /** Instead of three pipes (stdin from stdinFile when given). */
  stdio?: StdioOptions;
}

export interface Sandbox {
  dir: string;
  home: string;
  env: Record<string, string>;
  /** Runs skiff; never throws on a non-zero exit. */
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Starts skiff and hands back the child, for tests that signal it or read its output as it comes. */
  spawn(args: string[], options?: SpawnCliOptions): ChildProcess;
  /** Runs skiff and asserts its exit code, like Podman's run_podman. */
  runCli(expected: number, ...args: string[]): Promise<CliResult>;
  /** The store's data dir. */
  dataDir: string;
  /** The pid of the sandbox's pause process (the rootless namespace). */
  pausePid(): number;
  /**
   * Live processes in the sandbox's user namespace, the pause process aside, and the rootless
   * network namespace's own (kept for the user like the pause process: its holder, slirp4netns and
   * skiff-dns). `withNetworkHelpers` counts those too.
   */
  namespaceProcesses(withNetworkHelpers?: boolean): { pid: number; comm: string; cmdline: string }[];
  /** The rootless network namespace's holder, slirp4netns and skiff-dns, where they run. */
  networkHelpers(): number[];
  cleanup(): Promise<void>;
}

export const createSandbox = (name: string, user = TEST_USER): Sandbox => {
  const { uid, gid } = testIds(user);
  const dir = mkdtempSync(join('/tmp', `skiff-t-${name}-`));
  const home = join(dir, 'home');
  const run = join(dir, 'run');
  mkdirSync(home, { recursive: true });
  mkdirSync(run, { recursive: true, mode: 0o700 });
  for (const p of [dir, home, run]) chownSync(p, uid, gid);
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    HOME: home,
    XDG_RUNTIME_DIR: run,
    USER: isRoot ? user : (process.env.USER ?? ''),
    LANG: 'C.UTF-8',
    SKIFF_RETRY_BASE_MS: '50',
    // The Node that runs the tests runs skiff too (bin/skiff and the launcher would take PATH's).
    SKIFF_NODE: process.execPath,
  };
  const start = (args: string[], options: SpawnCliOptions = {}): ChildProcess => {
    const spawnOptions: SpawnOptions = {
      cwd: home,
      env: { ...env, ...options.env },
      stdio: options.stdio ?? [options.stdinFile ? openSync(options.stdinFile, 'r') : 'pipe', 'pipe', 'pipe'],
    };
    // Entering a network namespace takes root: nsenter, then setpriv drops to the user.
    if (options.netns)
      return spawn(
        'nsenter',
        [`--net=/run/netns/${options.netns}`, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', SKIFF, ...args],
        spawnOptions,
      );
    const [command, argv] = options.pty
      ? ptyCommand([SKIFF, ...args])
      : options.wrapper
        ? [options.wrapper[0], [...options.wrapper.slice(1), SKIFF, ...args]]
        : [SKIFF, args];
    return spawnAsTestUser(command, argv, spawnOptions, user);
  };
  const exec = (args: string[], options: RunOptions = {}): Promise<CliResult> =>
    new Promise((resolvePromise, reject) => {
      const child = start(args, options);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolvePromise({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
      });
      // (A child that ends at once, such as SKIFF_NODE=/bin/false, closes its stdin first.)
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input ?? '');
    });
  const sandbox: Sandbox = {
    dir,
    home,
    env,
    dataDir: join(home, '.local/share/skiff'),
    run: exec,
    spawn: start,
    pausePid: () => (JSON.parse(readFileSync(join(run, 'skiff', 'pause.pid'), 'utf8')) as { pid: number }).pid,
    networkHelpers() {
      let holder: { pid: number; egress?: { pid: number } };
      try {
        holder = JSON.parse(readFileSync(join(run, 'skiff', 'netns.pid'), 'utf8'));
        const netns = readlinkSync(`/proc/${holder.pid}/ns/net`);
        const dns = readdirSync('/proc').filter((p) => {
          try {
            return /^\d+$/.test(p) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'skiff-dns' && readlinkSync(`/proc/${p}/ns/net`) === netns;
          } catch {
            return false;
          }
        });
        return [holder.pid, ...(holder.egress ? [holder.egress.pid] : []), ...dns.map(Number)];
      } catch {
        return [];
      }
    },
    namespaceProcesses(withNetworkHelpers = false) {
      const pause = sandbox.pausePid();
      const ns = readlinkSync(`/proc/${pause}/ns/user`);
      const out: { pid: number; comm: string; cmdline: string }[] = [];
      const skip = new Set([pause, ...(withNetworkHelpers ? [] : sandbox.networkHelpers())]);
      for (const entry of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && !skip.has(Number(p)))) {
        try {
          if (readlinkSync(`/proc/${entry}/ns/user`) !== ns) continue;
          const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
          if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
          out.push({
            pid: Number(entry),
            comm: readFileSync(`/proc/${entry}/comm`, 'utf8').trim(),
            cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '),
          });
        } catch {
          // gone meanwhile
        }
      }
      return out;
    },
    async runCli(expected, ...args) {
      const result = await exec(args);
      expect(result.code, `skiff ${args.join(' ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(expected);
      return result;
    },
    async cleanup() {
      // Containers first: their monitors keep the namespaces (and mounts) alive.
      if (existsSync(join(home, '.local/share/skiff/containers'))) await exec(['rm', '--all', '--force'], { timeoutMs: 60_000 });
      // The rootless network namespace's holder (named networks) takes its helpers with it.
      const holderFile = join(run, 'skiff', 'netns.pid');
      if (existsSync(holderFile)) {
        try {
          process.kill((JSON.parse(readFileSync(holderFile, 'utf8')) as { pid: number }).pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const pidFile = join(run, 'skiff', 'pause.pid');
      // Nothing of skiff's outlives its containers (a helper that did would run on, unseen, after
      // the pause process is gone): what is left after a few seconds fails the test file.
      let leftover: string[] = [];
      if (existsSync(pidFile)) {
        for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
          leftover = sandbox.namespaceProcesses().map((p) => `${p.pid} ${p.cmdline}`);
          if (!leftover.length) break;
        }
        for (const line of leftover) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      }
      if (existsSync(pidFile)) {
        const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
        if (!isRoot) {
          try {
            execFileSync('nsenter', ['--target', String(pid), '--user', '--mount', 'rm', '-rf', dir], { stdio: 'ignore' });
          } catch {
            /* fall through to a plain rm */
          }
        }
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      rmSync(dir, { recursive: true, force: true });
      expect(leftover, 'processes left in the rootless namespace after every container was removed').toEqual([]);
    },
  };
  return sandbox;
};

export interface UseSandboxOptions {
  /** Images the file's tests share, pulled (quietly, exit 0 asserted) once before them. */
  pull?: string[];
  user?: string;
  /** The user's skiff.conf (TOML), written before anything runs. */
  config?: string;
}

// Writes a sandbox user's ~/.config/skiff/skiff.conf.
export const writeSandboxConfig = (sb: Sandbox, toml: string, user = TEST_USER): void => {
  const { uid, gid } = testIds(user);
  const dir = join(sb.home, '.config', 'skiff');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'skiff.conf'), toml);
  for (const p of [join(sb.home, '.config'), dir, join(dir, 'skiff.conf')]) chownSync(p, uid, gid);
};

// The directories between the sandbox's dir and `path`, made and owned by the user (for a file or a
// link the CLI, running as that user, reads or writes there).
export const userParents = (sb: Sandbox, path: string, user = TEST_USER): string => {
  const { uid, gid } = testIds(user);
  for (let d = dirname(path); d.length > sb.dir.length; d = dirname(d)) {
    mkdirSync(d, { recursive: true });
    chownSync(d, uid, gid);
  }
  return path;
};

// A file at `name` under the sandbox's dir, written and owned by the user, its directories too.
export const writeUserFile = (sb: Sandbox, name: string, text: string, user = TEST_USER): string => {
  const path = userParents(sb, join(sb.dir, name), user);
  writeFileSync(path, text);
  const { uid, gid } = testIds(user);
  chownSync(path, uid, gid);
  return path;
};

// One sandbox for a whole test file: made (and its images pulled) before the file's tests, cleaned
// up after them. The object returned is filled in by a beforeAll, so use it only in hooks and
// tests, and call this before the file's own hooks (theirs then run after it is made and, as after
// hooks run in reverse, before it is cleaned up). A sandbox's methods close over the sandbox, not
// `this`, so the copy works as the original.
export const useSandbox = (name: string, options: UseSandboxOptions = {}): Sandbox => {
  const sb = {} as Partial<Sandbox>;
  beforeAll(async () => {
    Object.assign(sb, createSandbox(name, options.user));
    if (options.config !== undefined) writeSandboxConfig(sb as Sandbox, options.config, options.user);
    for (const image of options.pull ?? []) await sb.runCli!(0, 'pull', '-q', image);
  });
  // (No cleanup when createSandbox itself failed.)
  afterAll(() => sb.cleanup?.());
  return sb as Sandbox;
};
