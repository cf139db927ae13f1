// Running containers rootless: foreground and detached runs, exit codes, the image's config and the
// flags that override it, and isolation checked from inside the container.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { monitorArgs } from '../helpers/monitor-args.js';
import { REPO, createSandbox, sleep, spawnAsTestUser, subuidStart, testIds, until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const APP = `${plain}/skiff/app`;

const sb = useSandbox('run', { pull: [IMG, APP] });

describe('run in the foreground', () => {
  it("passes the output through and exits with the container's code", async () => {
    const r = await sb.run(['run', '--rm', IMG, 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('exits 127 for a command that is not found and 126 for one that cannot be invoked', async () => {
    const missing = await sb.run(['run', '--rm', IMG, 'no-such-command']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/^Error: .*no-such-command.*not found/);
    // Without --rm the container stays, never started ("created", as Podman and Docker leave it).
    for (const detach of [[], ['-d']]) {
      expect((await sb.run(['run', ...detach, '--name', 'never', IMG, 'no-such-command'])).code).toBe(127);
      expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', 'never')).stdout).toBe('created 127\n');
      await sb.runCli(0, 'rm', 'never');
    }
    const notExecutable = await sb.run(['run', '--rm', IMG, '/etc/passwd']);
    expect(notExecutable.code).toBe(126);
    expect(notExecutable.stderr).toMatch(/^Error: .*[Pp]ermission denied/);
  });

  it('exits 125 with one line when the monitor ends before its report; the container stays created', async () => {
    // Attached (the report read as events) and detached (read at once when the go is given).
    for (const detach of [[], ['-d']]) {
      const r = await sb.run(['run', ...detach, '--name', 'orphan', IMG, 'true'], { env: { SKIFF_MONITOR: '/bin/false' } });
      expect(r.code).toBe(125);
      expect(r.stderr).toBe('Error: skiff-monitor reported nothing: it exited early\n');
      expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'orphan')).stdout).toBe('created\n');
      await sb.runCli(0, 'rm', 'orphan');
    }
  });

  it('a monitor that cannot be started: run launches it before the container exists, and creates nothing', async () => {
    const env = { SKIFF_MONITOR: join(sb.dir, 'no-such-monitor') };
    const runDirs = join(sb.env.XDG_RUNTIME_DIR, 'skiff', 'containers');
    const before = existsSync(runDirs) ? readdirSync(runDirs) : [];
    const r = await sb.run(['run', '-d', '--name', 'nomon', '--network', 'pasta', IMG, 'true'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^Error: cannot start skiff-monitor: /);
    expect((await sb.run(['inspect', 'nomon'])).code).toBe(125);
    expect(existsSync(runDirs) ? readdirSync(runDirs) : []).toEqual(before);
    // Without a network helper too.
    expect((await sb.run(['run', '-d', '--name', 'nomon', '--network', 'none', IMG, 'true'], { env })).code).toBe(125);
    expect((await sb.run(['inspect', 'nomon'])).code).toBe(125);
    expect(existsSync(runDirs) ? readdirSync(runDirs) : []).toEqual(before);
    // `create` then `start`: the monitor starts with the container, which stays created.
    await sb.runCli(0, 'create', '--name', 'nomon', '--network', 'none', IMG, 'true');
    expect((await sb.run(['start', 'nomon'], { env })).code).toBe(125);
    expect((await sb.runCli(0, 'inspect', '--format', '{{.State.Status}}', 'nomon')).stdout).toBe('created\n');
    await sb.runCli(0, 'rm', 'nomon');
  });

  it('a pasta run whose container cannot be written after its monitor began: the monitor is told to stop, nothing stays', async () => {
    // A store of its own, whose image loses a layer: the copy driver fails the create after run
    // has launched the monitor (and pasta) early.
    const own = createSandbox('early-cancel');
    try {
      await own.runCli(0, 'pull', '-q', IMG);
      const conf = join(own.home, 'copy.conf');
      writeFileSync(conf, '[storage]\nrootfs = "copy"\n');
      chownSync(conf, testIds().uid, testIds().gid);
      const layers = join(own.dataDir, 'layers');
      const layer = join(layers, readdirSync(layers)[0], 'diff');
      renameSync(layer, `${layer}.away`);
      const r = await own.run(['run', '-d', '--name', 'doomed', '--network', 'pasta', IMG, 'true'], { env: { SKIFF_CONFIG: conf } });
      renameSync(`${layer}.away`, layer);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/^Error: .*ENOENT/);
      expect((await own.run(['inspect', 'doomed'])).code).toBe(125);
      const runDirs = join(own.env.XDG_RUNTIME_DIR, 'skiff', 'containers');
      expect(existsSync(runDirs) ? readdirSync(runDirs) : []).toEqual([]);
      // The monitor has reported its cancel when run exits; it and pasta may still be ending.
      const leftovers = () => own.namespaceProcesses().filter((p) => /^(skiff-monitor|pas(ta|st))/.test(p.comm));
      await expect.poll(leftovers, { timeout: 5000 }).toEqual([]);
      const netns = join(own.env.XDG_RUNTIME_DIR, 'skiff', 'netns');
      expect(existsSync(netns) ? readdirSync(netns) : []).toEqual([]);
      // The name was given back, and the store works as before.
      expect(
        await own.run(['run', '--rm', '--name', 'doomed', '--network', 'pasta', IMG, 'sh', '-c', 'exit 0'], { env: { SKIFF_CONFIG: conf } }),
      ).toMatchObject({ code: 0, stderr: '' });
    } finally {
      await own.cleanup();
    }
  });

  it('exits 125 for its own errors: bad flags, a missing image with --pull never', async () => {
    const flag = await sb.run(['run', '--no-such-flag', IMG, 'true']);
    expect(flag.code).toBe(125);
    expect(flag.stderr).toMatch(/unknown option '--no-such-flag'/);
    const image = await sb.run(['run', '--rm', '--pull', 'never', `${plain}/skiff/not-here`, 'true']);
    expect(image.code).toBe(125);
    expect(image.stderr.trim().split('\n')).toHaveLength(1);
    expect(image.stderr).toMatch(/image not known/);
  });

  it("follows the image's Entrypoint, Cmd, User, WorkingDir and Env", async () => {
    const r = await sb.runCli(0, 'run', '--rm', APP);
    expect(r.stdout).toBe('default-cmd\n33\n/home/www\n');
    const args = await sb.runCli(0, 'run', '--rm', APP, 'echo $FROM_IMAGE');
    expect(args.stdout).toBe('yes\n');
    // --entrypoint replaces the image's and drops its Cmd.
    const entry = await sb.runCli(0, 'run', '--rm', '--entrypoint', '/bin/sh', APP, '-c', 'echo replaced');
    expect(entry.stdout).toBe('replaced\n');
  });

  it('applies -e, --env-file, -w, -u and --hostname', async () => {
    const envFile = join(sb.home, 'env.list');
    const { writeFileSync, chownSync } = await import('node:fs');
    writeFileSync(envFile, '# comment\nFROM_FILE=file\nA=from-file\n');
    chownSync(envFile, testIds().uid, testIds().gid);
    const r = await sb.runCli(
      0,
      'run',
      '--rm',
      '-e',
      'A=1',
      '--env-file',
      envFile,
      '-w',
      '/tmp',
      '-u',
      '65534:50',
      '--hostname',
      'box',
      IMG,
      'sh',
      '-c',
      'echo $A $FROM_FILE; pwd; id -u; id -g; hostname',
    );
    expect(r.stdout).toBe('1 file\n/tmp\n65534\n50\nbox\n');
    const named = await sb.runCli(0, 'run', '--rm', '-u', 'www-data', IMG, 'sh', '-c', 'id -u; id -g; echo $HOME');
    expect(named.stdout).toBe('33\n33\n/home/www\n');
    const unknown = await sb.run(['run', '--rm', '-u', 'nosuchuser', IMG, 'true']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unable to find user nosuchuser/);
  });

  it('feeds standard input with -i', async () => {
    const r = await sb.run(['run', '--rm', '-i', IMG, 'sh', '-c', 'read x; echo got $x; cat'], { input: 'hello\nrest\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'got hello\nrest\n' });
  });

  it('runs with both OCI runtimes', async () => {
    // (A script is a runtime the monitor cannot hold at its gate: it starts it after the go.)
    const script = join(sb.dir, 'crun-script');
    writeFileSync(script, `#!/bin/sh\nexec ${findOnPath('crun')} "$@"\n`, { mode: 0o755 });
    for (const runtime of ['crun', 'runc', script]) {
      const r = await sb.runCli(0, 'run', '--rm', '--runtime', runtime, IMG, 'sh', '-c', 'echo via-runtime');
      expect(r.stdout).toBe('via-runtime\n');
    }
    const bad = await sb.run(['run', '--rm', '--runtime', 'no-such-runtime', IMG, 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/OCI runtime no-such-runtime not found/);
  });
});

const findOnPath = (name: string): string => {
  const found = (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .map((d) => join(d, name))
    .find((p) => existsSync(p));
  if (!found) throw new Error(`${name} not on PATH`);
  return found;
};

describe('the runtime gate', () => {
  // The monitor starts the runtime before the CLI's go and holds it at skiff-gate.so's constructor
  // (native/monitor/PROTOCOL.md): a held runtime must do nothing, and end when the go never comes.
  it('holds the runtime until the go, and a cancelled start leaves no runtime and nothing created', async () => {
    const { uid, gid } = testIds();
    const dir = join(sb.dir, 'gate');
    mkdirSync(dir);
    chownSync(dir, uid, gid);
    const monitor = spawnAsTestUser(join(REPO, 'native/build/skiff-monitor'), [...monitorArgs('gated', findOnPath('crun'), dir), '--start'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '' },
    });
    let sync = '';
    monitor.stdio[3]!.on('data', (d) => (sync += d));
    const ended = new Promise((r) => monitor.stdio[3]!.once('close', r));
    await until(async () => sync.includes('{"listening":true}'));
    const monitorPid = Number(readFileSync(join(dir, 'monitor.pid'), 'utf8'));
    // The monitor's child running the runtime's sealed copy.
    const held = (): number[] =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .flatMap((p) => {
          try {
            const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
            const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
            return ppid === monitorPid && readlinkSync(`/proc/${p}/exe`).includes('memfd:skiff-runtime') ? [Number(p)] : [];
          } catch {
            return [];
          }
        });
    await until(async () => held().length === 1);
    const runtime = held()[0];
    // Held: still there a while later, having created nothing (without a bundle it would fail at once).
    await sleep(300);
    expect(held()).toEqual([runtime]);
    expect(existsSync(join(dir, 'state', 'gated'))).toBe(false);
    monitor.stdio[4]!.destroy();
    await ended;
    expect(sync).toContain('{"pid":-1,"message":"cancelled before the container was created"}');
    expect(existsSync(`/proc/${runtime}`)).toBe(false);
    expect(existsSync(join(dir, 'state', 'gated'))).toBe(false);
    expect(existsSync(join(dir, 'pid'))).toBe(false);
    expect(existsSync(join(dir, 'attach'))).toBe(false);
  });

  it('lets a process that inherited its variables, but not its pipe, go on untouched', () => {
    // (What runc, which reads its environment from its stack, starts: `runc init` and hooks.)
    const gate = join(REPO, 'native/build/skiff-gate.so');
    const script = 'echo "[$LD_PRELOAD][$SKIFF_GATE_FD][$SKIFF_GATE_PRELOAD]"';
    for (const fd5 of [openSync('/dev/null', 'r'), 'ignore'] as const) {
      const r = spawnSync('/bin/sh', ['-c', script], {
        env: { PATH: '/usr/bin:/bin', LD_PRELOAD: gate, SKIFF_GATE_FD: '5:12345', SKIFF_GATE_PRELOAD: 'libkept.so' },
        stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', fd5],
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('[libkept.so][][]\n');
    }
  });
});

describe('isolation, checked from inside', () => {
  it('has its own pid 1, hostname, process table, and the rootless uid mapping', async () => {
    const r = await sb.runCli(0, 'run', '--rm', '--hostname', 'iso', IMG, 'sh', '-c', 'echo $$; hostname; ls /proc | grep -c "^[0-9]"; cat /proc/self/uid_map');
    const [pid, hostname, count, ...map] = r.stdout.trim().split('\n');
    expect(pid).toBe('1');
    expect(hostname).toBe('iso');
    // sh, ls, grep (and cat's shell): no host process is visible.
    expect(Number(count)).toBeLessThanOrEqual(4);
    expect(map.map((l) => l.trim().split(/\s+/).map(Number))).toEqual([
      [0, testIds().uid, 1],
      [1, subuidStart(), 65536],
    ]);
  });

  it("has Podman's default capabilities, and --cap-drop / --cap-add change them", async () => {
    const caps = async (...flags: string[]) =>
      (await sb.runCli(0, 'run', '--rm', ...flags, IMG, 'sh', '-c', 'grep CapEff /proc/self/status')).stdout.trim().split(/\s+/)[1];
    expect(await caps()).toBe('00000000800405fb');
    expect(await caps('--cap-drop', 'CHOWN')).toBe('00000000800405fa');
    expect(await caps('--cap-add', 'NET_ADMIN')).toBe('00000000800415fb');
    const chown = await sb.run(['run', '--rm', '--cap-drop', 'chown', IMG, 'sh', '-c', 'touch /f && chown 33 /f']);
    expect(chown.code).not.toBe(0);
    expect(chown.stderr).toMatch(/Operation not permitted/);
    const bad = await sb.run(['run', '--rm', '--cap-add', 'NOT_A_CAP', IMG, 'true']);
    expect(bad.code).toBe(125);
  });

  it('writes files created in the container to the host owned by the mapped ids', async () => {
    await sb.runCli(0, 'run', '--name', 'writer', IMG, 'sh', '-c', 'echo hi > /root-file && touch /www-file && chown 33:33 /www-file');
    const id = (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', 'writer')).stdout.trim();
    const upper = join(sb.dataDir, 'containers', id, 'upper');
    expect(statSync(join(upper, 'root-file')).uid).toBe(testIds().uid);
    expect(statSync(join(upper, 'www-file')).uid).toBe(subuidStart() + 32);
    await sb.runCli(0, 'rm', 'writer');
  });

  it('mounts the writable layer of a --rm container volatile (never synced to disk), as Podman does', async () => {
    const root = async (...flags: string[]) => (await sb.runCli(0, 'run', ...flags, IMG, 'sh', '-c', 'grep " / " /proc/mounts')).stdout;
    const removed = await root('--rm');
    const kept = await root('--name', 'kept');
    expect(kept).toMatch(/^overlay \/ overlay /); // native overlay on this host
    expect(removed).toMatch(/volatile/);
    expect(kept).not.toMatch(/volatile/);
    await sb.runCli(0, 'rm', 'kept');
  });

  it('keeps /proc paths masked and the root read-only with --read-only', async () => {
    const r = await sb.runCli(0, 'run', '--rm', '--read-only', IMG, 'sh', '-c', 'cat /proc/kcore | wc -c; touch /x 2>&1; touch /tmp/ok && echo tmp-writable');
    expect(r.stdout).toMatch(/^0\n/);
    expect(r.stdout).toMatch(/Read-only file system/);
    expect(r.stdout).toMatch(/tmp-writable/);
  });
});
