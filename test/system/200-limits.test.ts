// Resource limits where skiff's tests run as an unprivileged user without a systemd session (the CI
// host: hybrid cgroups): every limit flag that needs a cgroup fails in one line naming why and the
// fix, nothing is created, and what needs no cgroup (--ulimit, --oom-score-adj, --cgroups=disabled)
// works. What needs systemd and cgroup v2 (OOM kills, throttling, stats, pause) runs in the VM lane
// (test/vm/).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('limits', { pull: [IMG] });

const info = async () => JSON.parse((await sb.runCli(0, 'info', '--format', 'json')).stdout).host;

describe('limits without a cgroup manager', () => {
  it('info and system check say which manager containers get, and why none', async () => {
    const host = await info();
    expect(host.cgroupManager).toBe('none'); // no session bus for the test user, or cgroup v1/hybrid
    expect(host.cgroupLimits).toMatch(/^none: /);
    const check = await sb.run(['system', 'check']);
    expect(check.stdout).toMatch(/cgroups\s.*manager none: containers run without resource limits/);
  });

  it('refuses each limit flag in one line, before anything is made', async () => {
    const { cgroupLimits } = await info();
    const why = cgroupLimits.replace(/^none: /, '');
    for (const flags of [
      ['--memory', '100m'],
      ['--cpus', '0.5'],
      ['--pids-limit', '20'],
      ['--cpuset-cpus', '0'],
      ['--blkio-weight', '100'],
      ['--cgroup-conf', 'memory.high=1g'],
    ]) {
      const r = await sb.run(['run', '--rm', '--name', 'limited', ...flags, IMG, 'true']);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${flags[0]} `);
      expect(r.stderr).toContain(`cannot be enforced: ${why}`);
    }
    expect((await sb.run(['container', 'exists', 'limited'])).code).toBe(1);
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
  });

  it('refuses bad values with Docker units named', async () => {
    for (const [flags, message] of [
      [['--memory', 'lots'], /invalid --memory "lots": use a size such as 512m or 1g/],
      [['--memory', '1k'], /--memory 1k is too small: the least is 6m/],
      [['--memory-swap', '1g'], /--memory-swap needs --memory/],
      [['--memory', '1g', '--memory-swap', '512m'], /--memory-swap 512m is less than --memory 1g/],
      [['--cpus', '0'], /invalid --cpus "0"/],
      [['--cpus', '1', '--cpu-quota', '50000'], /--cpus conflicts with --cpu-quota/],
      [['--cpu-shares', '1'], /invalid --cpu-shares "1": use a whole number from 2 to 262144/],
      [['--cpuset-cpus', 'all'], /invalid --cpuset-cpus "all"/],
      [['--pids-limit', 'x'], /invalid --pids-limit "x"/],
      [['--device-read-bps', 'sda:1m'], /invalid --device-read-bps "sda:1m": use DEVICE-PATH:RATE/],
      [['--ulimit', 'nofile=2048:1024'], /the soft limit is above the hard one/],
      [['--ulimit', 'bogus=1'], /invalid --ulimit "bogus=1"/],
      [['--ulimit', 'nofile=10000000'], /--ulimit nofile: the hard limit 10000000 is above yours \(\d+\), which a rootless container cannot raise/],
      [['--oom-score-adj', '5000'], /invalid --oom-score-adj "5000"/],
      [['--cgroups', 'maybe'], /invalid --cgroups "maybe"/],
      [['--cgroupns', 'shared'], /invalid --cgroupns "shared"/],
    ] as const) {
      const r = await sb.run(['create', ...flags, IMG, 'true']);
      expect(r.code, `${flags.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr).toMatch(message);
    }
  });

  it('applies --ulimit and --oom-score-adj on every host', async () => {
    const out = await sb.runCli(
      0,
      'run',
      '--rm',
      '--ulimit',
      'nofile=1024:2048',
      '--ulimit',
      'core=-1',
      '--oom-score-adj',
      '500',
      IMG,
      'sh',
      '-c',
      'ulimit -Sn; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj',
    );
    expect(out.stdout).toBe('1024\n2048\nunlimited\n500\n');
  });

  it('runs with --cgroups=disabled and refuses limits with it', async () => {
    expect((await sb.runCli(0, 'run', '--rm', '--cgroups=disabled', IMG, 'sh', '-c', 'echo ok')).stdout).toBe('ok\n');
    const r = await sb.run(['run', '--rm', '--cgroups=disabled', '--memory', '64m', IMG, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/--memory needs a cgroup, and --cgroups=disabled gives the container none/);
  });

  it('says there is no cgroup for pause, stats and update, instead of pretending', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'plain', IMG, 'sh', '-c', 'sleep 60');
    for (const [args, message] of [
      [['pause', 'plain'], /pause freezes the container's cgroup, and plain has none \(cgroup manager none\)/],
      [['stats', '--no-stream', 'plain'], /plain has no cgroup of its own, so there are no stats to read \(cgroup manager none: /],
      [['stats', '--no-stream'], /plain has no cgroup of its own/],
      [['update', '--memory', '64m', 'plain'], /plain has no cgroup of its own \(cgroup manager none\): its limits cannot change/],
    ] as const) {
      const r = await sb.run([...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(JSON.parse((await sb.runCli(0, 'inspect', 'plain')).stdout)[0].State.Status).toBe('running');
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'plain');
  });

  it('takes --cgroup-manager as a global flag', async () => {
    expect((await sb.runCli(0, '--cgroup-manager', 'none', 'run', '--rm', IMG, 'sh', '-c', 'echo ok')).stdout).toBe('ok\n');
    const r = await sb.run(['--cgroup-manager', 'none', 'run', '--rm', '--memory', '64m', IMG, 'true']);
    expect(r.stderr).toMatch(/--memory cannot be enforced: cgroups are turned off \(cgroup manager none\)/);
    expect((await sb.run(['--cgroup-manager', 'bogus', 'info'])).code).not.toBe(0);
  });
});

// `stats --no-stream` is answered by the launcher (native/launcher/stats.c) without Node when every
// container is plain. This host gives containers no cgroup, so a record is told it has one
// (cgroupManager cgroupfs): both paths then read the same absent cgroup files (zeros), the same
// records, /proc and the container's network counters. SKIFF_NODE=/bin/false shows which answered:
// the launcher prints the table, a fall-back to Node fails with no output.
describe('stats --no-stream without Node', () => {
  const withCgroup = async (name: string): Promise<string> => {
    const id = (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', name)).stdout.trim();
    const file = join(sb.dataDir, 'containers', id, 'container.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), cgroupManager: 'cgroupfs' }, null, 2));
    return id;
  };
  const launcherOnly = { env: { SKIFF_NODE: '/bin/false' } };
  const nodeOnly = { env: { SKIFF_NO_FAST_PATH: '1' } };
  // The columns (two spaces or more between them) of each line.
  const table = (out: string): string[][] =>
    out
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/ {2,}/));

  it('prints the same table as Node, of the running containers only', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'fast-a', IMG, 'sh', '-c', 'sleep 60');
    await sb.runCli(0, 'run', '-d', '--name', 'fast-with-a-longer-name', '--network', 'none', IMG, 'sh', '-c', 'sleep 60');
    await sb.runCli(0, 'run', '--name', 'fast-exited', IMG, 'sh', '-c', 'exit 0');
    const ids = [await withCgroup('fast-a'), await withCgroup('fast-with-a-longer-name'), await withCgroup('fast-exited')];
    const fast = await sb.run(['stats', '--no-stream'], launcherOnly);
    expect(fast.code, fast.stderr).toBe(0);
    const slow = await sb.run(['stats', '--no-stream'], nodeOnly);
    expect(slow.code, slow.stderr).toBe(0);
    const [f, s] = [table(fast.stdout), table(slow.stdout)];
    expect(f).toHaveLength(3); // the header and the two running ones, in id order
    expect(f.map((r) => r[0])).toEqual([
      'ID',
      ...ids
        .slice(0, 2)
        .sort()
        .map((id) => id.slice(0, 12)),
    ]);
    // Every column as Node's; the default network's counters may move between the two reads.
    const netIO = 5;
    const aRow = f.findIndex((r) => r[1] === 'fast-a');
    const withoutNet = (rows: string[][]) => rows.map((r, i) => (i === aRow ? r.filter((_, c) => c !== netIO) : r));
    expect(withoutNet(f)).toEqual(withoutNet(s));
    expect(f[aRow]![netIO]).toMatch(/^\d+(\.\d+)? [kMG]?B \/ [1-9][\d.]* [kMG]?B$/); // pasta's interface sent something
    expect(f.find((r) => r[1] === 'fast-with-a-longer-name')![netIO]).toBe('0 B / 0 B');
    // The layout too: the same widths and spacing, byte for byte, where nothing moved.
    // (NET IO's width follows its values, which may have moved.)
    const header = (text: string) => text.split('\n')[0].replace(/NET IO +/, 'NET IO ');
    expect(header(fast.stdout)).toBe(header(slow.stdout));
    const all = await sb.run(['container', 'stats', '-a', '--no-stream'], launcherOnly);
    expect(table(all.stdout).map((r) => r[1])).toEqual(f.map((r) => r[1]));
  });

  it('leaves to Node what is not the plain case', async () => {
    const stateFile = join(sb.dataDir, 'containers', await withCgroup('fast-a'), 'state.json');
    expect((await sb.run(['stats', '--no-stream'], launcherOnly)).code).toBe(0);
    for (const args of [
      ['stats', '--no-stream', 'fast-a'],
      ['stats', '--no-stream', '--format', 'json'],
      ['stats'],
      ['--root', sb.dataDir, 'stats', '--no-stream'],
    ]) {
      const r = await sb.run(args, launcherOnly);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout).toBe('');
    }
    // A container being started (its command still at work), then one whose monitor is gone.
    const state = readFileSync(stateFile, 'utf8');
    writeFileSync(stateFile, JSON.stringify({ ...JSON.parse(state), launching: true }));
    expect((await sb.run(['stats', '--no-stream'], launcherOnly)).stdout).toBe('');
    writeFileSync(stateFile, JSON.stringify({ ...JSON.parse(state), monitorStartTime: '1' }));
    expect((await sb.run(['stats', '--no-stream'], launcherOnly)).stdout).toBe('');
    writeFileSync(stateFile, state);
    // One with no cgroup of its own: Node names it.
    await sb.runCli(0, 'run', '-d', '--name', 'fast-plain', IMG, 'sh', '-c', 'sleep 60');
    expect((await sb.run(['stats', '--no-stream'], launcherOnly)).stdout).toBe('');
    expect((await sb.run(['stats', '--no-stream'])).stderr).toMatch(/fast-plain has no cgroup of its own/);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'fast-plain', 'fast-a', 'fast-with-a-longer-name', 'fast-exited');
  });
});
