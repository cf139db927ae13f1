// Starting skiff-monitor (native/monitor) for a container and reading its one-line report from the
// sync pipe. The protocol is native/monitor/PROTOCOL.md.
import { closeSync, readFileSync, writeSync } from 'node:fs';
import { CliError, messageOf } from '../errors.js';
import { spawnHelper } from '../util/exec.js';
import { log } from '../util/log.js';
import { findNative, native } from '../util/native.js';

export interface MonitorOptions {
  id: string;
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
  /** The monitor starts the container itself (nothing to do between create and start; an attaching caller connects before proceed()). */
  start?: boolean;
  /** Ports the monitor forwards itself: "HOSTIP,HOSTPORT,CONTAINERPORT". */
  publish?: { protocol: 'tcp' | 'udp'; spec: string }[];
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
  if (/permission denied|exec format error|is a directory|cannot execute/i.test(message)) return 126;
  return 125;
};

// Cuts a runtime's error output down to the line that says what went wrong.
const runtimeErrorLine = (message: string): string => {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1] ?? 'the OCI runtime failed';
  const json = /msg="([^"]*)"/.exec(last);
  return (json ? json[1].replace(/\\"/g, '"') : last).replace(/^(crun|runc): /, '');
};

export interface MonitorLaunch {
  /** The bundle is written: create the container. */
  proceed(): void;
  /** Create nothing: the monitor undoes its set-up and `report` rejects. */
  abort(): void;
  /** True once the attach socket listens; false when the monitor ended first (`report` says why). */
  listening: Promise<boolean>;
  /** The monitor's one report: the container's pid once created (and started with --start). */
  report: Promise<MonitorStarted>;
}

// Starts skiff-monitor before the bundle exists: its set-up (and pasta's start) overlaps the
// caller's mount and spec; it creates the container on proceed().
export const launchMonitor = async (options: MonitorOptions): Promise<MonitorLaunch> => {
  const argv = [
    '--cid', options.id,
    '--runtime', options.runtimePath,
    ...options.runtimeArgs.flatMap((a) => ['--runtime-arg', a]),
    '--bundle', options.bundle,
    '--pid-file', options.pidFile,
    '--log-path', options.logPath,
    '--exit-file', options.exitFile,
    '--socket-path', options.socketPath,
    '--monitor-pid-file', options.monitorPidFile,
    '--sync-fd', '3',
    '--go-fd', '4',
    ...(options.logSizeMax && options.logSizeMax > 0 ? ['--log-size-max', String(options.logSizeMax)] : []),
    ...(options.terminal ? ['--terminal'] : []),
    ...(options.stdin ? ['--stdin'] : []),
    ...(options.start ? ['--start'] : []),
    ...(options.exitCommand.length ? ['--exit-command', options.exitCommand[0], ...options.exitCommand.slice(1).flatMap((a) => ['--exit-command-arg', a])] : []),
    ...(options.publish ?? []).flatMap((p) => [`--publish-${p.protocol}`, p.spec]),
    ...(options.netHelper ? ['--net-helper', options.netHelper[0], ...options.netHelper.slice(1).flatMap((a) => ['--net-helper-arg', a])] : []),
    ...(options.netNsPath ? ['--net-ns-path', options.netNsPath] : []),
    ...(options.netHelperPidFile ? ['--net-helper-pid-file', options.netHelperPidFile] : []),
    ...(options.netHelperPorts ? ['--net-helper-ports'] : []),
  ];
  const bin = findMonitor();
  log.debug(`exec: ${bin} ${argv.join(' ')}`);
  const { Socket } = await import('node:net');
  const n = native();
  const [errRead, errWrite] = n.pipe();
  const [syncRead, syncWrite] = n.pipe();
  const [goRead, goWrite] = n.pipe();
  try {
    // Its first process exits at once (the monitor double-forks): reaped in the background.
    void spawnHelper(bin, argv, [null, null, errWrite, syncWrite, goRead], '/').exited;
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
  let listened: (yes: boolean) => void = () => undefined;
  const listening = new Promise<boolean>((resolve) => (listened = resolve));
  const report = new Promise<MonitorStarted>((resolve, reject) => {
    let sync = '';
    let stderr = '';
    // The monitor keeps its stderr: what it says there is read until the sync pipe closes.
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
      const line = sync.split('\n').find((l) => l.startsWith('{"pid"'));
      if (!line) {
        reject(new CliError('EINTERNAL', `skiff-monitor reported nothing: ${stderr.trim() || 'it exited early'}`));
        return;
      }
      const report = JSON.parse(line) as { pid: number; message?: string };
      if (report.pid > 0) {
        const monitorPid = Number(readFileSync(options.monitorPidFile, 'utf8'));
        resolve({ pid: report.pid, monitorPid });
        return;
      }
      const message = report.message ?? 'the OCI runtime failed';
      reject(new CliError('EHELPER', runtimeErrorLine(message), { exitCode: exitCodeForRuntimeError(message) }));
    });
  });
  // A monitor can fail before the caller awaits its report (a taken port): not an unhandled rejection.
  report.catch(() => undefined);
  return { proceed: () => closeGo(true), abort: () => closeGo(false), listening, report };
};
