// Starting skiff-monitor (native/monitor) for a container and reading its one-line report from the
// sync pipe. The protocol is native/monitor/PROTOCOL.md.
import { closeSync, readFileSync, readSync, writeSync } from 'node:fs';
import { CliError, messageOf } from '../errors.js';
import { startHelper } from '../util/exec.js';
import { log } from '../util/log.js';
import { findNative, native } from '../util/native.js';
import { limitHint } from '../rootless/host-limits.js';

export interface MonitorOptions {
  id: string;
  /** --preserve-fds: this process's fds 3 .. 3+N-1, passed to the container's process. */
  preserveFds?: number;
  runtimePath: string;
  runtimeArgs: string[];
  bundle: string;
  pidFile: string;
  logPath: string;
  logSizeMax?: number;
  exitFile: string;
  socketPath: string;
  monitorPidFile: string;
  terminal: boolean;
  stdin: boolean;
  exitCommand: string[];
  /** The network helper and its arguments ("{pid}" becomes the container's pid). */
  netHelper?: string[];
  /** The monitor makes the container's network namespace here (the spec names it) and starts the helper on it ({netns}) before the runtime's create. */
  netNsPath?: string;
  /** The helper runs in the foreground and is ready once it has written its pid here (pasta). */
  netHelperPidFile?: string;
  /** The helper holds host ports: the monitor waits for it to end before reporting the exit. */
  netHelperPorts?: boolean;
  /** The pid of a helper (pasta) on the namespace at netNsPath already (the launcher's spare network): the monitor awaits its pid file. */
  netHelperAdopt?: number;
  /** The monitor starts the container itself (nothing to do between create and start; an attaching caller connects before proceed()). */
  start?: boolean;
  /** Ports the monitor forwards itself: "HOSTIP,HOSTPORT,CONTAINERPORT". */
  publish?: { protocol: 'tcp' | 'udp'; spec: string }[];
  /** A container on a named network: its ports are dialled from skiff's network namespace (NETNS,IP/PREFIX[,keep]). */
  publishVia?: string;
  /** The runtime makes the container a session keyring of its own (its seccomp lets it use keyctl). */
  ownKeyring?: boolean;
  /** A container on a named network: the monitor joins the namespace it makes (netNsPath) to the bridge (see native/monitor/bridge.h). */
  bridgeAttach?: string;
  /** systemd-run's path: the monitor starts in a transient scope of the user's manager (see container-launch.ts). */
  scope?: string;
  /** `healthcheck run` for the container, every healthIntervalMs once it runs. */
  healthCommand?: string[];
  healthIntervalMs?: number;
  /** A unit's NOTIFY_SOCKET; with `sdnotifyProxy` the container's own socket is passed on (container mode), else the monitor says READY=1 (conmon). */
  sdnotifySocket?: string;
  sdnotifyProxy?: string;
  /** --timeout: the container is killed once it has run this many seconds. */
  timeoutSeconds?: number;
}

export interface MonitorStarted {
  /** The container's process (waiting for `runtime start`). */
  pid: number;
  monitorPid: number;
}

export const findMonitor = (): string => {
  if (process.env.SKIFF_MONITOR) return process.env.SKIFF_MONITOR;
  const found = findNative('skiff-monitor');
  if (!found) throw new CliError('EINTERNAL', 'skiff-monitor not found: build it with `make -C native`');
  return found;
};

// A runtime's create error as skiff's exit code: 127 command not found, 126 cannot be invoked.
export const exitCodeForRuntimeError = (message: string): number => {
  if (!/exec|executable/i.test(message)) return 125;
  if (/not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied|operation not permitted|exec format error|is a directory|cannot execute/i.test(message)) return 126;
  return 125;
};

// Cuts a runtime's error output down to the line that says what went wrong.
const runtimeErrorLine = (message: string): string => {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines[lines.length - 1] ?? 'the OCI runtime failed';
  const json = /msg="([^"]*)"/.exec(last);
  const line = (json ? json[1].replace(/\\"/g, '"') : last).replace(/^(crun|runc): /, '');
  if (/keyring/i.test(line) && /quota/i.test(line)) return `${line}: ${keyQuotaHint()}`;
  const limit = limitHint(line);
  return limit ? `${line}: ${limit}` : line;
};

// The kernel's per-user key quota, spent: containers share one session keyring (skiff-monitor
// joins "_ses.skiff"), so what spent it is other keys of this user, or a monitor that could not join.
const keyQuotaHint = (): string => {
  const read = (name: string): string => {
    try {
      return readFileSync(`/proc/sys/kernel/keys/${name}`, 'utf8').trim();
    } catch {
      return '?';
    }
  };
  return `the kernel's per-user key quota is spent (kernel.keys.maxkeys=${read('maxkeys')}, kernel.keys.maxbytes=${read('maxbytes')}; see /proc/key-users): raise them with sysctl as root`;
};

export interface MonitorLaunch {
  /** The monitor's pid (it does not fork: the process started is the monitor). */
  pid: number;
  /** The bundle is written: create the container. */
  proceed(): void;
  /** Create nothing: the monitor undoes its set-up and `finish()` rejects. */
  abort(): void;
  /** True once the attach socket listens; false when the monitor ended first (`finish()` says why). */
  listening(): Promise<boolean>;
  /** The monitor's one report: the container's pid once created (and started with --start). */
  finish(): Promise<MonitorStarted>;
}

// Starts skiff-monitor before the bundle exists: its set-up (and pasta's start) overlaps the
// caller's mount and spec; it creates the container on proceed().
export const launchMonitor = async (options: MonitorOptions): Promise<MonitorLaunch> => {
  const argv = [
    '--cid',
    options.id,
    '--runtime',
    options.runtimePath,
    ...options.runtimeArgs.flatMap((a) => ['--runtime-arg', a]),
    '--bundle',
    options.bundle,
    '--pid-file',
    options.pidFile,
    '--log-path',
    options.logPath,
    '--exit-file',
    options.exitFile,
    '--socket-path',
    options.socketPath,
    '--monitor-pid-file',
    options.monitorPidFile,
    // (After the --preserve-fds descriptors, which keep their numbers.)
    '--sync-fd',
    String(3 + (options.preserveFds ?? 0)),
    '--go-fd',
    String(4 + (options.preserveFds ?? 0)),
    ...(options.preserveFds ? ['--preserve-fds', String(options.preserveFds)] : []),
    ...(options.logSizeMax && options.logSizeMax > 0 ? ['--log-size-max', String(options.logSizeMax)] : []),
    ...(options.terminal ? ['--terminal'] : []),
    ...(options.stdin ? ['--stdin'] : []),
    ...(options.start ? ['--start'] : []),
    ...(options.exitCommand.length
      ? ['--exit-command', options.exitCommand[0], ...options.exitCommand.slice(1).flatMap((a) => ['--exit-command-arg', a])]
      : []),
    ...(options.publish ?? []).flatMap((p) => [`--publish-${p.protocol}`, p.spec]),
    ...(options.publishVia ? ['--publish-via', options.publishVia] : []),
    ...(options.ownKeyring ? ['--own-keyring'] : []),
    ...(options.bridgeAttach ? ['--bridge-attach', options.bridgeAttach] : []),
    ...(options.netHelper ? ['--net-helper', options.netHelper[0], ...options.netHelper.slice(1).flatMap((a) => ['--net-helper-arg', a])] : []),
    ...(options.netNsPath ? ['--net-ns-path', options.netNsPath] : []),
    ...(options.netHelperPidFile ? ['--net-helper-pid-file', options.netHelperPidFile] : []),
    ...(options.netHelperPorts ? ['--net-helper-ports'] : []),
    ...(options.netHelperAdopt ? ['--net-helper-adopt', String(options.netHelperAdopt)] : []),
    ...(options.healthCommand?.length && options.healthIntervalMs
      ? [
          '--health-interval-ms',
          String(options.healthIntervalMs),
          '--health-command',
          options.healthCommand[0],
          ...options.healthCommand.slice(1).flatMap((a) => ['--health-command-arg', a]),
        ]
      : []),
    ...(options.sdnotifySocket ? ['--sdnotify-socket', options.sdnotifySocket] : []),
    ...(options.timeoutSeconds ? ['--timeout-s', String(options.timeoutSeconds)] : []),
    ...(options.sdnotifyProxy ? ['--sdnotify-proxy', options.sdnotifyProxy] : []),
  ];
  const monitor = findMonitor();
  // systemd-run --scope makes the scope with its own pid and then execs the monitor: the pid and
  // the inherited pipes stay the monitor's.
  const [bin, args] = options.scope ? [options.scope, ['--user', '--scope', '--quiet', '--collect', '--', monitor, ...argv]] : [monitor, argv];
  log.debug(`exec: ${bin} ${args.join(' ')}`);
  const n = native();
  // The stderr read end is non-blocking: the monitor keeps its stderr for its whole life, so what
  // it said there is taken once the sync pipe has closed, not read to an end.
  const [errRead, errWrite] = n.pipe(true);
  const [syncRead, syncWrite] = n.pipe();
  const [goRead, goWrite] = n.pipe();
  let first: number;
  try {
    // The monitor itself (it does not fork): reaped only when it reported a failure and so ends.
    const preserved = Array.from({ length: options.preserveFds ?? 0 }, (_, i) => 3 + i);
    first = startHelper(bin, args, [null, null, errWrite, ...preserved, syncWrite, goRead], { cwd: '/' });
  } catch (error) {
    for (const fd of [errRead, syncRead, goWrite]) closeSync(fd);
    throw new CliError('EINTERNAL', `cannot start skiff-monitor: ${messageOf(error)}`, { cause: error });
  } finally {
    for (const fd of [errWrite, syncWrite, goRead]) closeSync(fd);
  }
  let goOpen = true;
  const closeGo = (go: boolean): void => {
    if (!goOpen) return;
    goOpen = false;
    try {
      if (go) writeSync(goWrite, 'g');
    } catch {
      // the monitor has failed already: its report says why
    } finally {
      closeSync(goWrite);
    }
  };
  // The report line (or its absence) and what the monitor said on stderr, as the outcome.
  const settle = (sync: string, stderr: string): MonitorStarted => {
    const line = sync.split('\n').find((l) => l.startsWith('{"pid"'));
    const report = line ? (JSON.parse(line) as { pid: number; message?: string }) : undefined;
    if (report && report.pid > 0) return { pid: report.pid, monitorPid: Number(readFileSync(options.monitorPidFile, 'utf8')) };
    n.reap(first);
    if (!report) throw new CliError('EINTERNAL', `skiff-monitor reported nothing: ${stderr.trim() || 'it exited early'}`);
    const message = report.message ?? 'the OCI runtime failed';
    throw new CliError('EHELPER', runtimeErrorLine(message), { exitCode: exitCodeForRuntimeError(message) });
  };
  // Read as events when the caller waits for the attach socket in between (Node's net module);
  // otherwise, once the go is given, in one blocking read: the caller has nothing else to do, and
  // a `run -d` never loads Node's stream modules. (The monitor and its helpers say a line or two
  // on stderr, far below a pipe's 64 KiB, so it never blocks on a stderr no one reads yet.)
  let listening: Promise<boolean> | undefined;
  let report: Promise<MonitorStarted> | undefined;
  const readAsEvents = async (): Promise<void> => {
    const { Socket } = await import('node:net');
    let listened: (yes: boolean) => void = () => undefined;
    listening = new Promise<boolean>((resolve) => (listened = resolve));
    report = new Promise<MonitorStarted>((resolve, reject) => {
      let sync = '';
      let stderr = '';
      const errors = new Socket({ fd: errRead, readable: true, writable: false });
      errors.on('data', (d) => (stderr += d));
      errors.on('error', () => undefined);
      const pipe = new Socket({ fd: syncRead, readable: true, writable: false });
      pipe.on('data', (d) => {
        sync += d;
        if (sync.startsWith('{"listening"')) listened(true);
      });
      pipe.on('error', () => undefined);
      pipe.on('close', () => {
        errors.destroy();
        closeGo(false);
        listened(false);
        try {
          resolve(settle(sync, stderr));
        } catch (error) {
          reject(error);
        }
      });
    });
    // A monitor can fail before the caller awaits its report (a taken port): not an unhandled rejection.
    report.catch(() => undefined);
  };
  const readAtOnce = (): MonitorStarted => {
    // Never wait for a monitor that still waits for its go.
    closeGo(false);
    const drain = (fd: number): string => {
      const chunks: Buffer[] = [];
      const buffer = Buffer.allocUnsafe(65536);
      try {
        for (let got: number; (got = readSync(fd, buffer)) > 0; ) chunks.push(Buffer.from(buffer.subarray(0, got)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      } finally {
        closeSync(fd);
      }
      return Buffer.concat(chunks).toString();
    };
    const sync = drain(syncRead);
    return settle(sync, drain(errRead));
  };
  return {
    pid: first,
    proceed: () => closeGo(true),
    abort: () => closeGo(false),
    listening: async () => {
      if (!listening) await readAsEvents();
      return listening!;
    },
    finish: () => {
      if (!report) {
        try {
          report = Promise.resolve(readAtOnce());
        } catch (error) {
          report = Promise.reject(error);
        }
      }
      return report;
    },
  };
};
