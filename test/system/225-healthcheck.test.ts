// Healthchecks for real, without systemd: the monitor runs `healthcheck run` every interval, a
// failing check turns the container unhealthy after its retries (ps, inspect's State.Health,
// --filter health=, health_status events) and triggers its --health-on-failure action; a check
// that hangs is killed at its timeout; the image's HEALTHCHECK applies unless --no-healthcheck.
// Also --cidfile on run, stop and rm (what the systemd units use), and the create command kept.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildHelpers } from '../helpers/build.js';
import { until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('health', { pull: [IMG] });
const { context } = buildHelpers(sb);

const inspect = async (name: string) => JSON.parse((await sb.runCli(0, 'inspect', name)).stdout)[0];
const health = async (name: string) =>
  (await inspect(name)).State.Health as { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] };
const psStatus = async (name: string) => (await sb.runCli(0, 'ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}')).stdout.trim();

describe('healthchecks', () => {
  it('refuses bad flags in one line, before anything is made', async () => {
    for (const [flags, message] of [
      [['--no-healthcheck', '--health-cmd', 'true'], /--no-healthcheck conflicts with --health-cmd/],
      [['--health-interval', '5s'], /--health-interval needs a check to apply to: give --health-cmd/],
      [['--health-cmd', 'true', '--health-interval', '10ms'], /--health-interval must be at least 1s/],
      [['--health-cmd', 'true', '--health-interval', 'often'], /invalid --health-interval "often": use a duration/],
      [['--health-cmd', 'true', '--health-retries', '0'], /invalid --health-retries "0"/],
      [['--health-cmd', 'true', '--health-timeout', '0s'], /--health-timeout must be at least 1s/],
      [['--health-cmd', 'true', '--health-on-failure', 'explode'], /invalid --health-on-failure "explode": use none, kill, restart, stop/],
      [['--health-cmd', '["CMD"]'], /no command after CMD/],
      [['--sdnotify', 'maybe'], /invalid --sdnotify "maybe": use container, conmon or ignore/],
    ] as const) {
      const r = await sb.run(['run', '-d', '--name', 'bad', ...flags, IMG, 'sh', '-c', 'sleep 9']);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
  });

  it('turns a container unhealthy after its retries, and healthy when the check passes', async () => {
    await sb.runCli(
      0,
      'run',
      '-d',
      '--name',
      'hc',
      '--health-cmd',
      'test -e /tmp/ok',
      '--health-interval',
      '1s',
      '--health-retries',
      '2',
      IMG,
      'sh',
      '-c',
      'sleep 120',
    );
    expect(await psStatus('hc')).toMatch(/^Up .* \(starting\)$/);
    // The monitor runs the check each second: two failures make it unhealthy.
    await until(async () => (await health('hc')).Status === 'unhealthy', 15_000);
    const h = await health('hc');
    expect(h.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(h.Log.length).toBeGreaterThanOrEqual(2);
    expect(h.Log.length).toBeLessThanOrEqual(5);
    expect(h.Log.every((l) => l.ExitCode === 1)).toBe(true);
    expect(await psStatus('hc')).toMatch(/^Up .* \(unhealthy\)$/);
    expect((await sb.runCli(0, 'ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}')).stdout.trim()).toBe('hc');
    expect((await sb.runCli(0, 'ps', '--filter', 'health=healthy', '-q')).stdout).toBe('');
    const fail = await sb.run(['healthcheck', 'run', 'hc']);
    expect([fail.code, fail.stdout]).toEqual([1, 'unhealthy\n']);
    // The check passes once the file is there: healthy at the next check, and `healthcheck run` says nothing.
    await sb.runCli(0, 'exec', 'hc', 'sh', '-c', 'echo > /tmp/ok');
    const pass = await sb.run(['healthcheck', 'run', 'hc']);
    expect([pass.code, pass.stdout]).toEqual([0, '']);
    expect(await health('hc')).toMatchObject({ Status: 'healthy', FailingStreak: 0 });
    expect(await psStatus('hc')).toMatch(/\(healthy\)$/);
    const events = (await sb.runCli(0, 'events', '--stream=false', '--filter', 'event=health_status', '--filter', 'container=hc')).stdout;
    expect(events).toMatch(/health_status=unhealthy/);
    expect(events).toMatch(/health_status=healthy/);
    // Config as Podman's inspect has it (durations in nanoseconds; a zero StartPeriod left out).
    expect((await inspect('hc')).Config.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'test -e /tmp/ok'],
      Interval: 1e9,
      Timeout: 30e9,
      Retries: 2,
    });
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'hc');
  });

  it('kills a check that outlasts its timeout, and does not count failures in the start period', async () => {
    await sb.runCli(
      0,
      'run',
      '-d',
      '--name',
      'slow',
      '--health-cmd',
      'sleep 30',
      '--health-interval',
      'disable',
      '--health-timeout',
      '1s',
      IMG,
      'sh',
      '-c',
      'sleep 120',
    );
    const t0 = Date.now();
    const r = await sb.run(['healthcheck', 'run', 'slow']);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    const h = await health('slow');
    expect(h.Log[0].Output).toMatch(/exceeded its timeout of 1s/);
    expect(h.FailingStreak).toBe(1);
    // The check's process is gone from the container (killed, not left to run its 30 s).
    expect((await sb.runCli(0, 'top', 'slow')).stdout).not.toMatch(/sleep 30/);
    await sb.runCli(
      0,
      'run',
      '-d',
      '--name',
      'warming',
      '--health-cmd',
      'false',
      '--health-interval',
      'disable',
      '--health-retries',
      '1',
      '--health-start-period',
      '1h',
      IMG,
      'sh',
      '-c',
      'sleep 120',
    );
    for (let i = 0; i < 3; i++) expect((await sb.run(['healthcheck', 'run', 'warming'])).stdout).toBe('starting\n');
    expect(await health('warming')).toMatchObject({ Status: 'starting', FailingStreak: 0 });
    expect((await health('warming')).Log).toHaveLength(3);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'slow', 'warming');
  });

  it('acts on an unhealthy container: kill, stop, restart', async () => {
    const failing = ['--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1'];
    await sb.runCli(0, 'run', '-d', '--name', 'hk', ...failing, '--health-on-failure', 'kill', IMG, 'sh', '-c', 'sleep 120');
    await sb.runCli(0, 'run', '-d', '--name', 'hs', ...failing, '--health-on-failure', 'stop', '--stop-timeout', '1', IMG, 'sh', '-c', 'sleep 120');
    await sb.runCli(0, 'run', '-d', '--name', 'hr', ...failing, '--health-on-failure', 'restart', '--stop-timeout', '1', IMG, 'sh', '-c', 'sleep 120');
    const started = (await inspect('hr')).State.StartedAt;
    await until(async () => (await inspect('hk')).State.Status === 'exited', 20_000);
    expect((await inspect('hk')).State.ExitCode).toBe(137);
    await until(async () => (await inspect('hs')).State.Status === 'exited', 20_000);
    await until(async () => (await inspect('hr')).State.StartedAt !== started, 20_000);
    expect((await inspect('hr')).State.Status).toBe('running');
    // A container without a check, and one that does not run, are told apart from a failing check.
    await sb.runCli(0, 'run', '-d', '--name', 'nocheck', IMG, 'sh', '-c', 'sleep 120');
    const none = await sb.run(['healthcheck', 'run', 'nocheck']);
    expect([none.code, none.stderr]).toEqual([125, expect.stringMatching(/nocheck has no healthcheck/)]);
    expect((await sb.run(['healthcheck', 'run', 'hk'])).stderr).toMatch(/hk is not running \(exited\)/);
    expect((await sb.runCli(0, 'ps', '-a', '--filter', 'health=none', '--format', '{{.Names}}')).stdout.trim()).toBe('nocheck');
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'hk', 'hs', 'hr', 'nocheck');
  });

  it("takes the image's HEALTHCHECK, and --no-healthcheck turns it off", async () => {
    const dir = context('hc-image', { Dockerfile: `FROM ${IMG}\nHEALTHCHECK --interval=1s --retries=1 CMD test -e /etc/passwd\n` });
    await sb.runCli(0, 'build', '-q', '-t', 'checked', dir);
    await sb.runCli(0, 'run', '-d', '--name', 'img', 'checked', 'sh', '-c', 'sleep 120');
    expect((await inspect('img')).Config.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'test -e /etc/passwd'], Interval: 1e9, Retries: 1 });
    await until(async () => (await health('img')).Status === 'healthy', 15_000);
    await sb.runCli(0, 'run', '-d', '--name', 'off', '--no-healthcheck', 'checked', 'sh', '-c', 'sleep 120');
    expect((await inspect('off')).Config.Healthcheck).toBeUndefined();
    expect((await inspect('off')).State.Health).toEqual({ Status: '', FailingStreak: 0, Log: null }); // as Podman's
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'img', 'off');
  });
});

describe('--cidfile', () => {
  it('run writes the id; stop and rm act on it; rm removes the file; an existing file fails the create', async () => {
    const file = join(sb.home, 'ctr.cid');
    const id = (await sb.runCli(0, 'run', '-d', '--cidfile', file, '--name', 'cid', IMG, 'sh', '-c', 'sleep 120')).stdout.trim();
    expect(readFileSync(file, 'utf8')).toBe(id);
    expect((await inspect('cid')).Config.CreateCommand).toEqual(['skiff', 'run', '-d', '--cidfile', file, '--name', 'cid', IMG, 'sh', '-c', 'sleep 120']);
    const again = await sb.run(['run', '-d', '--cidfile', file, '--name', 'cid2', IMG, 'sh', '-c', 'sleep 120']);
    expect(again.code).toBe(125);
    expect(again.stderr).toMatch(/cannot use --cidfile .*ctr\.cid: it exists/);
    expect((await sb.run(['container', 'exists', 'cid2'])).code).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(id);
    await sb.runCli(0, 'stop', '-t', '0', '--cidfile', file);
    expect((await inspect('cid')).State.Status).toBe('exited');
    await sb.runCli(0, 'rm', '-f', '--cidfile', file);
    expect(existsSync(file)).toBe(false);
    expect((await sb.run(['container', 'exists', 'cid'])).code).toBe(1);
    // Gone already: -i (a unit's ExecStopPost) or -f lets it pass, as Podman's (and the file goes).
    expect((await sb.run(['rm', '-f', '-i', '--cidfile', file])).code).toBe(0);
    writeFileSync(file, id);
    expect((await sb.run(['rm', '--cidfile', file])).code).toBe(1); // Podman's code for a missing container
    expect((await sb.run(['rm', '-f', '--cidfile', file])).code).toBe(0);
    expect(existsSync(file)).toBe(false);
    writeFileSync(file, 'not an id');
    expect((await sb.run(['stop', '--cidfile', file])).stderr).toMatch(/holds no container id/);
  });
});
