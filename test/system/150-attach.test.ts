// The monitor's attach protocol spoken directly (resize, stdin), detach keys (default and --detach-keys) on a real terminal,
// signal proxying, log rotation, and the smaller flags of exec, wait, restart and ps.
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { sleep, until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const frame = (type: number, payload: string) => {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
};

const sb = useSandbox('attach', { pull: [IMG] });

describe('attach protocol', () => {
  it('feeds stdin and resizes the pty of a -t container through the socket', async () => {
    const id = (await sb.runCli(0, 'run', '-d', '-t', '-i', '--name', 'term', IMG, 'sh')).stdout.trim();
    const socket = connect(join(sb.dir, 'run', 'skiff', 'sock', `${id.slice(0, 12)}.attach`));
    let output = '';
    socket.on('data', (d: Buffer) => (output += d.toString('latin1')));
    await new Promise((r) => socket.once('connect', r));
    socket.write(frame(5, '33 101'));
    socket.write(frame(0, 'stty size\n'));
    await expect.poll(() => output, { timeout: 10_000 }).toContain('33 101');
    socket.write(frame(0, 'exit 4\n'));
    await expect.poll(() => output, { timeout: 10_000 }).toContain('\x03\x00\x00\x00\x014');
    socket.end();
    expect((await sb.runCli(0, 'wait', 'term')).stdout).toBe('4\n');
    await sb.runCli(0, 'rm', 'term');
  });
});

describe('terminal sessions', () => {
  // Runs `skiff ARGS` on a terminal, types a line, then the given keys once the shell has run that
  // line; resolves its exit code and what the terminal showed. An attach shows nothing before its
  // first input, so the line is typed again each second until the shell's answer shows (a line typed
  // before skiff reads the terminal waits in it). Input stays open until skiff detaches.
  const onTerminal = async (args: string[], keys: string) => {
    const child = sb.spawn(args, { pty: true });
    let out = '';
    let code: number | null | undefined;
    child.stdout!.on('data', (d) => (out += d));
    child.on('exit', (c) => (code = c));
    // (A line typed after skiff ended is lost; the test then fails on what the terminal showed.)
    child.stdin!.on('error', () => {});
    const type = () => child.stdin!.write('echo in-shell\n');
    type();
    const typing = setInterval(type, 1000);
    try {
      await until(() => /\nin-shell\r*\n/.test(out), 30_000);
      clearInterval(typing);
      child.stdin!.write(keys);
      await until(() => code !== undefined, 20_000);
    } finally {
      clearInterval(typing);
      child.kill('SIGKILL');
    }
    return { code, out };
  };

  it('Ctrl-P Ctrl-Q detaches from run -it and leaves the container running', async () => {
    const { code, out } = await onTerminal(['run', '-it', '--name', 'detached', IMG, 'sh'], '\x10\x11');
    expect(out).toContain('in-shell');
    expect(code).toBe(0);
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'detached')).stdout).toBe('running\n');
    await sb.runCli(0, 'rm', '-f', 'detached');
  });

  it('--detach-keys replaces the sequence, for run -it and for attach', async () => {
    // Ctrl-P Ctrl-Q are then plain input, and Ctrl-A d detaches; the line typed between them, in the
    // same write as the keys, still reaches the shell, which runs it (only the shell prints 42).
    const run = await onTerminal(['run', '-it', '--detach-keys', 'ctrl-a,d', '--name', 'custom', IMG, 'sh'], '\x10\x11echo $((6*7))\n\x01d');
    expect(run.out).toContain('in-shell');
    expect(run.code).toBe(0);
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'custom')).stdout).toBe('running\n');
    expect((await sb.runCli(0, 'logs', 'custom')).stdout).toMatch(/\b42\b/);
    const attach = await onTerminal(['attach', '--detach-keys', 'ctrl-x', 'custom'], '\x18');
    expect(attach.out).toContain('in-shell');
    expect(attach.code).toBe(0);
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'custom')).stdout).toBe('running\n');
    await sb.runCli(0, 'rm', '-f', 'custom');
  });

  it('forwards SIGTERM to the container when running in the foreground (--sig-proxy)', async () => {
    const child = sb.spawn(['run', '--name', 'proxied', IMG, 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done']);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await until(() => out.includes('ready'));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(out).toContain('got-term');
    expect(code).toBe(3);
    await sb.runCli(0, 'rm', 'proxied');
  });

  it('exec -t gets a terminal; exec -d runs in the background', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'host', IMG, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done');
    const tty = await sb.run(['exec', '-t', 'host', 'sh', '-c', 'tty'], { pty: true });
    expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect((await sb.runCli(0, 'exec', '-d', 'host', 'sh', '-c', 'sleep 0.2; echo bg > /tmp/bg')).stdout).toBe('');
    await expect.poll(async () => (await sb.run(['exec', 'host', 'sh', '-c', 'cat /tmp/bg'])).stdout, { timeout: 10_000 }).toBe('bg\n');
  });

  it('restart starts the container again; wait --condition running waits for that', async () => {
    const before = (await sb.runCli(0, 'inspect', '--format', '{{.State.StartedAt}}', 'host')).stdout;
    await sb.runCli(0, 'restart', '-t', '2', 'host');
    const after = (await sb.runCli(0, 'inspect', '--format', '{{.State.StartedAt}} {{.State.Status}}', 'host')).stdout;
    expect(after).toMatch(/ running\n$/);
    expect(after.split(' ')[0]).not.toBe(before.trim());
    await sb.runCli(0, 'create', '--name', 'later', IMG, 'sh', '-c', 'sleep 5');
    let returned = false;
    const waiting = sb.run(['wait', '--condition', 'running', 'later']).then((r) => {
      returned = true;
      return r;
    });
    // A wait started alongside for a condition already met returns once the CLI is up; the wait for
    // "running" must still be waiting then, and a moment later (a sleep on purpose: it must not return).
    expect(await sb.run(['wait', '--condition', 'created', 'later'])).toMatchObject({ code: 0, stdout: '0\n' });
    await sleep(500);
    expect(returned, 'wait --condition running returned before the container started').toBe(false);
    await sb.runCli(0, 'start', 'later');
    expect(await waiting).toMatchObject({ code: 0, stdout: '0\n' });
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'later')).stdout).toBe('running\n');
    await sb.runCli(0, 'rm', '-f', 'host', 'later');
  });
});

describe('logs and sizes', () => {
  it('rotates the log past --log-opt max-size and reads across the rotation', async () => {
    const id = (
      await sb.runCli(
        0,
        'run',
        '-d',
        '--name',
        'chatty',
        '--log-opt',
        'max-size=4k',
        IMG,
        'sh',
        '-c',
        'i=0; while [ $i -lt 400 ]; do echo line-$i-padding-padding; i=$((i+1)); done',
      )
    ).stdout.trim();
    await sb.runCli(0, 'wait', 'chatty');
    const log = join(sb.dataDir, 'containers', id, 'userdata', 'ctr.log');
    expect(existsSync(`${log}.1`)).toBe(true);
    expect(statSync(log).size).toBeLessThan(8192);
    expect((await sb.runCli(0, 'logs', '--tail', '1', 'chatty')).stdout).toBe('line-399-padding-padding\n');
    const all = (await sb.runCli(0, 'logs', 'chatty')).stdout.trim().split('\n');
    // Only the current log and one rotated file are kept: the start is gone, the end is whole.
    expect(all.length).toBeLessThan(400);
    expect(all.at(-1)).toBe('line-399-padding-padding');
    expect(all.every((l, i) => i === 0 || Number(l.split('-')[1]) === Number(all[i - 1].split('-')[1]) + 1)).toBe(true);
    expect((await sb.run(['run', '--log-opt', 'max-size=lots', IMG, 'sh'])).code).toBe(125);
    await sb.runCli(0, 'rm', 'chatty');
  });

  it('ps -s shows the size of the writable layer', async () => {
    await sb.runCli(0, 'run', '--name', 'writer', IMG, 'sh', '-c', 'dd if=/dev/zero of=/blob bs=1k count=300 2>/dev/null');
    const out = (await sb.runCli(0, 'ps', '-a', '-s', '--format', '{{.Names}} {{.Size}}')).stdout.trim();
    // Podman's: the writable layer, then with the image's files (no space before the units).
    expect(out).toMatch(/^writer 30\dkB \(virtual 2\.\d\dMB\)$/);
    await sb.runCli(0, 'rm', 'writer');
  });
});
