// skiff attach CONTAINER, and the attach session that `run` and `start -a` share: the terminal in
// raw mode with -t, stdin forwarded with -i, signals proxied to the container without -t, and the
// detach keys (Ctrl-P Ctrl-Q) that leave the container running.
import { Command } from 'commander';
import type { Socket } from 'node:net';
import type { Engine } from '../../../engine/index.js';
import type { ContainerRecord } from '../../../state/containers.js';
import { openEngineFor, parseBool } from '../../engine.js';

export interface SessionOptions {
  stdin: boolean;
  tty: boolean;
  detachKeys: string;
  sigProxy: boolean;
}

// Attaches to a container (starting it first when `start`), returns its exit code, or undefined
// when the user detached.
export const attachSession = async (engine: Engine, record: ContainerRecord, options: SessionOptions, start: boolean): Promise<number | undefined> => {
  const { parseDetachKeys, runAttach } = await import('../../../monitor/attach.js');
  const detachKeys = parseDetachKeys(options.detachKeys);
  let socket: Socket | undefined;
  if (start) {
    await engine.containers.start(record.id, { attach: (connected) => (socket = connected) });
  } else {
    socket = await engine.containers.connectAttach(record.id);
  }
  // process.stdin is made on first use (a stream, ~1 ms): only when it is read or is the terminal.
  const stdin = options.stdin || options.tty ? process.stdin : undefined;
  const rawTerminal = stdin?.isTTY === true && options.tty;
  if (rawTerminal) stdin.setRawMode(true);
  const proxies: [NodeJS.Signals, () => void][] = [];
  if (options.sigProxy && !options.tty) {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
      const handler = () => void engine.containers.kill(record.id, signal).catch(() => undefined);
      process.on(signal, handler);
      proxies.push([signal, handler]);
    }
  }
  // run -a/--attach (and start -a): only the output streams it named; the others' output is
  // dropped. (Standard input follows -i, as in Podman.)
  const only = start && record.config.attach ? new Set(record.config.attach) : undefined;
  const dropped = { write: () => true } as unknown as NodeJS.WritableStream;
  try {
    const result = await runAttach(socket!, {
      stdin: options.stdin ? stdin : undefined,
      stdout: only && !only.has('stdout') ? dropped : process.stdout,
      stderr: only && !only.has('stderr') ? dropped : process.stderr,
      detachKeys: options.stdin ? detachKeys : [],
      size: options.tty && process.stdout.isTTY ? () => ({ rows: process.stdout.rows, columns: process.stdout.columns }) : undefined,
      onResize:
        options.tty && process.stdout.isTTY
          ? (listener) => {
              process.stdout.on('resize', listener);
              return () => process.stdout.off('resize', listener);
            }
          : undefined,
    });
    if (result.detached) {
      result.hangUp(false);
      return undefined;
    }
    if (result.exitCode === undefined) {
      result.hangUp(false);
      return engine.containers.wait(record.id).catch(() => 125);
    }
    // Do the monitor's exit command here (unmount, --rm, restart policy) and tell it so: no
    // second skiff process starts, and `run --rm` returns with the container gone. The runtime's
    // delete of a --rm container, whose id nothing uses again, is the monitor's: told first, so
    // that it happens even if this process dies midway, and not waited for.
    const leaveDelete = record.config.autoRemove;
    if (leaveDelete) result.leaveDelete();
    let cleaned = false;
    try {
      await engine.containers.cleanup(record.id, leaveDelete);
      cleaned = true;
    } finally {
      result.hangUp(cleaned);
    }
    return result.exitCode;
  } finally {
    if (rawTerminal) stdin?.setRawMode(false);
    for (const [signal, handler] of proxies) process.off(signal, handler);
    if (options.stdin) stdin?.destroy();
  }
};

export const build = (name = 'attach'): Command =>
  new Command(name)
    .description("Attach to a running container's output (and input)")
    .argument('[container]')
    .option('-l, --latest', 'attach to the newest container')
    .option('--no-stdin', 'do not forward standard input')
    .option('--sig-proxy [bool]', 'forward signals to the container', parseBool, true)
    .option('--detach-keys <keys>', 'key sequence that detaches', 'ctrl-p,ctrl-q')
    .action(async (input: string | undefined, flags: { stdin: boolean; sigProxy: boolean; detachKeys: string; latest?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const record = engine.containers.find(engine.reports.one(input, flags.latest));
      const code = await attachSession(
        engine,
        record,
        { stdin: flags.stdin && record.config.interactive, tty: record.config.tty, detachKeys: flags.detachKeys, sigProxy: flags.sigProxy },
        false,
      );
      if (code !== undefined) process.exitCode = code;
    });
