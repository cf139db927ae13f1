// skiff-monitor driven directly, with test/fixtures/bin/fake-runtime standing in for crun/runc:
// the monitor's contract (native/monitor/PROTOCOL.md) without a real runtime, a namespace or the CLI.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isRoot, sleep, until } from '../helpers/cli.js';
import { freePort } from '../helpers/registry.js';
import { monitorArgs } from '../helpers/monitor-args.js';
import { scratchDir } from '../helpers/scratch.js';

const MONITOR = fileURLToPath(new URL('../../native/build/skiff-monitor', import.meta.url));
const FAKE_RUNTIME = fileURLToPath(new URL('../fixtures/bin/fake-runtime', import.meta.url));

interface Monitor {
  dir: string;
  child: ChildProcess;
  /** Everything the monitor wrote on the sync pipe, once it has closed it. */
  sync: Promise<string>;
  /** Resolves once the monitor says its attach socket listens (before it waits for the go). */
  listening(): Promise<void>;
  /** The monitor's exit code. */
  exited: Promise<number | null>;
  /** Sends the go (one byte), or end of file when `go` is false. */
  go(go?: boolean): void;
  /** The runtime calls the fake runtime saw, one per line. */
  calls(): string[];
  /** The exit command's runs (`cleanup ID` per line), '' when it never ran. */
  cleanups(): string;
}

const alive = (pid: number): boolean => {
  try {
    // A zombie is gone for our purposes: only its parent's wait is left.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

const kill = (pid: number): void => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
};

// Starts the monitor as the CLI does (sync pipe on fd 3, go pipe on fd 4) for a container whose
// process runs `cmd` (a shell script), with the exit command appending to DIR/cleanup.
// `extra` options may be made from the monitor's directory.
const startMonitor = (cmd: string, extra: string[] | ((dir: string) => string[]) = [], bundleFiles: Record<string, string> = {}): Monitor => {
  const dir = scratchDir('skiff-monitor-');
  mkdirSync(join(dir, 'bundle'));
  writeFileSync(join(dir, 'bundle', 'cmd'), cmd);
  for (const [name, text] of Object.entries(bundleFiles)) writeFileSync(join(dir, 'bundle', name), text);
  const child = spawn(
    MONITOR,
    [
      ...monitorArgs('c1', FAKE_RUNTIME, dir),
      '--exit-command',
      '/bin/sh',
      '--exit-command-arg',
      '-c',
      '--exit-command-arg',
      `echo "$@" >>${join(dir, 'cleanup')}`,
      '--exit-command-arg',
      'sh',
      '--exit-command-arg',
      'cleanup',
      '--exit-command-arg',
      'c1',
      ...(typeof extra === 'function' ? extra(dir) : extra),
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    // Whatever a failing case left: the monitor (our child) and the container's process.
    kill(child.pid!);
    for (const file of ['pid', 'helper.pid']) if (existsSync(join(dir, file))) kill(Number(readFileSync(join(dir, file), 'utf8')));
    await exited;
    expect(stderr).toBe('');
  });
  let sync = '';
  const pipe = child.stdio[3]!;
  pipe.on('data', (d) => (sync += d));
  const closed = new Promise<string>((resolve) => pipe.once('close', () => resolve(sync)));
  const goPipe = child.stdio[4]! as NodeJS.WritableStream & { destroy(): void };
  goPipe.on('error', () => undefined);
  const read = (file: string): string => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '');
  return {
    dir,
    child,
    sync: closed,
    listening: () => until(() => sync.startsWith('{"listening":true}\n'), 5000),
    exited,
    go: (go = true) => (go ? goPipe.end('g') : goPipe.destroy()),
    calls: () => read('state/calls').split('\n').filter(Boolean),
    cleanups: () => read('cleanup'),
  };
};

// The one report line ({"pid":...}) among the sync pipe's lines.
const report = (sync: string): { pid: number; message?: string } => {
  const lines = sync.split('\n').filter(Boolean);
  expect(lines[0]).toBe('{"listening":true}');
  expect(lines).toHaveLength(2);
  return JSON.parse(lines[1]);
};

// The log's entries: every line must be `<RFC3339Nano> <stream> <F|P> <text>`.
const logEntries = (file: string): { stream: string; partial: boolean; text: string }[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) ([FP]) (.*)$/s.exec(line);
      expect(m, `log line ${JSON.stringify(line)}`).not.toBeNull();
      return { stream: m![1], partial: m![2] === 'P', text: m![3] };
    });

const frame = (type: number, payload = ''): Buffer => {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
};

// An attach client that collects the frames it receives.
const attach = async (path: string): Promise<{ socket: Socket; frames: { type: number; text: string }[] }> => {
  const socket = connect(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames: { type: number; text: string }[] = [];
  let pending = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      frames.push({ type: pending[0], text: pending.subarray(5, 5 + length).toString() });
      pending = pending.subarray(5 + length);
    }
  });
  return { socket, frames };
};

describe('skiff-monitor with a fake runtime', () => {
  it.each([
    ['create', []],
    ['run --detach', ['--start']],
  ])('a failed %s is reported on the sync pipe, and the monitor exits 1 leaving nothing', async (verb, extra) => {
    const m = startMonitor('exit 0', extra, { 'create-fails': 'fake-runtime: the bundle is broken\n' });
    await m.listening();
    m.go();
    expect(report(await m.sync)).toEqual({ pid: -1, message: 'fake-runtime: the bundle is broken' });
    expect(await m.exited).toBe(1);
    // A failed `run` may have left something: the monitor deletes it.
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(verb === 'create' ? ['create'] : ['run', 'delete']);
    for (const file of ['attach', 'exit', 'pid', 'state/c1']) expect(existsSync(join(m.dir, file)), file).toBe(false);
    expect(m.cleanups()).toBe('');
  });

  it('a go that never comes creates nothing', async () => {
    const m = startMonitor('exit 0', ['--start']);
    await m.listening();
    m.go(false);
    expect(report(await m.sync)).toEqual({ pid: -1, message: 'cancelled before the container was created' });
    expect(await m.exited).toBe(1);
    expect(m.calls()).toEqual([]);
    expect(existsSync(join(m.dir, 'attach'))).toBe(false);
  });

  it.each([
    ['exits', 'echo hi; exit 3', { exitCode: 3, signal: 0 }],
    ['is killed', 'echo hi; kill -KILL $$', { exitCode: 137, signal: 9 }],
  ])('a container that %s at once: its code in the exit file, then the exit command', async (_, cmd, code) => {
    const m = startMonitor(cmd, ['--start']);
    await m.listening();
    m.go();
    const { pid } = report(await m.sync);
    expect(pid).toBeGreaterThan(0);
    expect(await m.exited).toBe(code.exitCode);
    const exit = JSON.parse(readFileSync(join(m.dir, 'exit'), 'utf8'));
    expect(exit).toMatchObject({ ...code, oomKilled: false });
    expect(Date.now() - Date.parse(exit.finishedAt)).toBeLessThan(60_000);
    expect(m.cleanups()).toBe('cleanup c1\n');
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(['run']);
    expect(logEntries(join(m.dir, 'ctr.log'))).toEqual([{ stream: 'stdout', partial: false, text: 'hi' }]);
    expect(existsSync(join(m.dir, 'attach'))).toBe(false);
  });

  it('a created container waits for start, and its pid is the one reported', async () => {
    const m = startMonitor('echo started; exit 0');
    await m.listening();
    m.go();
    const { pid } = report(await m.sync);
    expect(readFileSync(join(m.dir, 'pid'), 'utf8').trim()).toBe(String(pid));
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(['create']);
    await sleep(200);
    expect(alive(pid)).toBe(true);
    expect(existsSync(join(m.dir, 'exit'))).toBe(false);
    expect(readFileSync(join(m.dir, 'ctr.log'), 'utf8')).toBe('');
    const start = spawn(FAKE_RUNTIME, ['--root', join(m.dir, 'state'), 'start', 'c1']);
    await new Promise((r) => start.once('exit', r));
    expect(await m.exited).toBe(0);
    expect(JSON.parse(readFileSync(join(m.dir, 'exit'), 'utf8')).exitCode).toBe(0);
    expect(logEntries(join(m.dir, 'ctr.log')).map((e) => e.text)).toEqual(['started']);
  });

  it('rotates the log past --log-size-max and keeps every line intact', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(i % 70)}`);
    const m = startMonitor(`i=0; while [ $i -lt 400 ]; do printf 'line %04d %.*s\\n' $i $((i % 70)) "${'x'.repeat(70)}"; i=$((i+1)); done`, [
      '--start',
      '--log-size-max',
      '4096',
    ]);
    await m.listening();
    m.go();
    expect(report(await m.sync).pid).toBeGreaterThan(0);
    expect(await m.exited).toBe(0);
    const rotated = join(m.dir, 'ctr.log.1');
    expect(existsSync(rotated)).toBe(true);
    // Rotated once it reached the size, so the old file ends within one line past it.
    const size = readFileSync(rotated).length;
    expect(size).toBeGreaterThanOrEqual(4096);
    expect(size).toBeLessThan(4096 + 200);
    expect(readFileSync(join(m.dir, 'ctr.log')).length).toBeLessThan(4096);
    // The two files hold the output's last lines, whole (partial entries joined), in order.
    const entries = [...logEntries(rotated), ...logEntries(join(m.dir, 'ctr.log'))];
    expect(entries.every((e) => e.stream === 'stdout')).toBe(true);
    const text = entries.map((e) => e.text + (e.partial ? '' : '\n')).join('');
    const kept = text.split('\n').slice(0, -1);
    expect(kept.length).toBeGreaterThan(40);
    expect(kept).toEqual(lines.slice(-kept.length));
  });

  it('attach: stdin in, stdout and stderr out as frames, then the exit frame; a client that cleaned up is trusted', async () => {
    // early-*: what the container wrote while `run --detach` still ran (its stderr is the runtime's until then).
    const m = startMonitor('cat; echo bye >&2; exit 5', ['--start', '--stdin'], { 'early-stdout': 'early\n', 'early-stderr': 'warn\n' });
    await m.listening();
    // Connected before the go, as `run` in the foreground does: it gets the very first output.
    const client = await attach(join(m.dir, 'attach'));
    m.go();
    expect(report(await m.sync).pid).toBeGreaterThan(0);
    const text = (type: number): string =>
      client.frames
        .filter((f) => f.type === type)
        .map((f) => f.text)
        .join('');
    await until(() => text(1) === 'early\n' && text(2) === 'warn\n', 5000);
    client.socket.write(frame(0, 'hello\n'));
    await until(() => text(1) === 'early\nhello\n', 5000);
    client.socket.write(Buffer.concat([frame(0, 'world'), frame(4)]));
    await until(() => client.frames.some((f) => f.type === 3), 5000);
    expect(text(1)).toBe('early\nhello\nworld');
    expect(text(2)).toBe('warn\nbye\n');
    expect(client.frames.at(-1)).toEqual({ type: 3, text: '5' });
    expect(client.frames.filter((f) => f.type === 3)).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(m.dir, 'exit'), 'utf8')).exitCode).toBe(5);
    // Type 6: the client did the exit command's work; type 7: it leaves the runtime's delete to the monitor.
    client.socket.end(Buffer.concat([frame(6), frame(7)]));
    expect(await m.exited).toBe(5);
    expect(m.cleanups()).toBe('');
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(['run', 'delete']);
    const entries = logEntries(join(m.dir, 'ctr.log'));
    expect(entries.filter((e) => e.stream === 'stdout')).toEqual([
      { stream: 'stdout', partial: false, text: 'early' },
      { stream: 'stdout', partial: false, text: 'hello' },
      { stream: 'stdout', partial: true, text: 'world' },
    ]);
    expect(entries.filter((e) => e.stream === 'stderr').map((e) => e.text)).toEqual(['warn', 'bye']);
  });

  it('attach: a client that hangs up without cleaning up leaves the exit command to the monitor', async () => {
    const m = startMonitor('read -r line; echo "got $line"', ['--start', '--stdin']);
    await m.listening();
    const client = await attach(join(m.dir, 'attach'));
    m.go();
    expect(report(await m.sync).pid).toBeGreaterThan(0);
    client.socket.write(frame(0, 'x\n'));
    await until(() => client.frames.some((f) => f.type === 3), 5000);
    expect(client.frames).toEqual([
      { type: 1, text: 'got x\n' },
      { type: 3, text: '0' },
    ]);
    client.socket.end();
    expect(await m.exited).toBe(0);
    expect(m.cleanups()).toBe('cleanup c1\n');
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(['run']);
  });
});

describe('skiff-monitor and its network helper', () => {
  // A pasta-like helper: ready once its pid is in DIR/helper.pid; `{pid}` is the container's.
  const pidFileHelper =
    (script: (dir: string) => string) =>
    (dir: string): string[] => [
      '--start',
      '--net-helper',
      '/bin/sh',
      '--net-helper-arg',
      '-c',
      '--net-helper-arg',
      script(dir),
      '--net-helper-arg',
      'helper',
      '--net-helper-arg',
      '{pid}',
      '--net-helper-pid-file',
      join(dir, 'helper.pid'),
    ];
  // Ready at once; on SIGTERM it takes a while to end, as pasta does.
  const readyHelper = pidFileHelper(
    (dir) => `trap 'sleep 0.3; exit 0' TERM; echo "$1" >${join(dir, 'helper.arg')}; echo $$ >${join(dir, 'helper.pid')}; while :; do sleep 0.1; done`,
  );

  it('a pid-file helper killed before it is ready fails the create with its last line, and the container is deleted', async () => {
    const m = startMonitor(
      'sleep 60',
      pidFileHelper(() => 'echo "helper: no tap device" >&2; echo "Failed to send message to syslog" >&2; kill -KILL $$'),
    );
    await m.listening();
    m.go();
    expect(report(await m.sync)).toEqual({ pid: -1, message: 'network helper /bin/sh failed: helper: no tap device' });
    expect(await m.exited).toBe(1);
    // Created (not `run`: the helper needs the container's pid first), then deleted.
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(['create', 'delete']);
    const container = Number(readFileSync(join(m.dir, 'pid'), 'utf8'));
    await until(() => !alive(container), 5000);
    for (const file of ['attach', 'exit', 'state/c1']) expect(existsSync(join(m.dir, file)), file).toBe(false);
    expect(m.cleanups()).toBe('');
  });

  it('a helper with a ready fd killed before it is ready fails the create at once', async () => {
    const m = startMonitor('sleep 60', ['--start', '--net-helper', '/bin/sh', '--net-helper-arg', '-c', '--net-helper-arg', 'kill -KILL $$']);
    await m.listening();
    const started = Date.now();
    m.go();
    expect(report(await m.sync)).toEqual({ pid: -1, message: 'network helper /bin/sh did not get ready (see its arguments with --log-level debug)' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await m.exited).toBe(1);
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(['create', 'delete']);
  });

  it('a pid-file helper gets the container pid, and with --net-helper-ports is stopped and waited for before the exit is written', async () => {
    const m = startMonitor('read -r _; exit 7', (dir) => ['--stdin', '--net-helper-ports', ...readyHelper(dir)]);
    await m.listening();
    const client = await attach(join(m.dir, 'attach'));
    m.go();
    const { pid } = report(await m.sync);
    expect(readFileSync(join(m.dir, 'helper.arg'), 'utf8').trim()).toBe(String(pid));
    const helper = Number(readFileSync(join(m.dir, 'helper.pid'), 'utf8'));
    expect(alive(helper)).toBe(true);
    // Created, then started by the monitor once the helper was ready.
    expect(m.calls().map((c) => c.split(' ')[0])).toEqual(['create', 'start']);
    client.socket.write(frame(4));
    await until(() => client.frames.some((f) => f.type === 3), 5000);
    // The exit frame follows the exit file, which follows the helper's end: its ports are free.
    expect(alive(helper)).toBe(false);
    expect(JSON.parse(readFileSync(join(m.dir, 'exit'), 'utf8')).exitCode).toBe(7);
    client.socket.end();
    expect(await m.exited).toBe(7);
    expect(m.cleanups()).toBe('cleanup c1\n');
  });

  // --publish-via: the dialer dials from another namespace, where the SYN goes to a MAC no one
  // has (as to a container whose answer cannot come back): the monitor, which waits for the
  // dialer, must not stop for the minutes of TCP's retries (it did: no exit file, no kill, no logs).
  it.runIf(isRoot)('a published port whose dial gets no answer is refused within seconds, and the monitor goes on', async () => {
    const ns = `skiff-dial-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    onTestFinished(() => {
      execFileSync('ip', ['netns', 'del', ns]);
    });
    for (const args of [
      ['link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'],
      ['addr', 'add', '10.231.9.1/24', 'dev', 'd0'],
      ['link', 'set', 'd0', 'up'],
      ['link', 'set', 'd1', 'up'],
      ['neigh', 'add', '10.231.9.2', 'lladdr', '02:00:00:00:00:01', 'dev', 'd0', 'nud', 'permanent'],
    ])
      execFileSync('ip', ['-n', ns, ...args]);
    const port = await freePort();
    const m = startMonitor('sleep 60', ['--start', '--publish-tcp', `127.0.0.1,${port},80`, '--publish-via', `/run/netns/${ns},10.231.9.2/24`]);
    await m.listening();
    m.go();
    const { pid } = report(await m.sync);
    const started = Date.now();
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    await new Promise((resolve) => client.once('close', resolve));
    expect(Date.now() - started).toBeLessThan(6000);
    process.kill(pid, 'SIGKILL');
    expect(await m.exited).toBe(137);
    expect(JSON.parse(readFileSync(join(m.dir, 'exit'), 'utf8')).signal).toBe(9);
  });

  it('a killed monitor takes its pid-file helper with it (parent-death signal)', async () => {
    const m = startMonitor('sleep 60', readyHelper);
    await m.listening();
    m.go();
    expect(report(await m.sync).pid).toBeGreaterThan(0);
    const helper = Number(readFileSync(join(m.dir, 'helper.pid'), 'utf8'));
    expect(alive(helper)).toBe(true);
    m.child.kill('SIGKILL');
    await m.exited;
    await until(() => !alive(helper), 5000);
  });
});
