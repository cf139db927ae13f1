// Output shapes as Podman 4.3 prints them, for the same fixture image and containers (the expected
// values were taken from podman runs on this image): ps's order, times, JSON and --size; history's
// columns, sizes and JSON; image sizes; top's descriptors; JSON indentation per command.
import { describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SLEEPER = ['sh', '-c', 'while :; do sleep 1; done'];

const sb = useSandbox('podman-output', { pull: [IMG] });

// Go's time.Time text: "2026-12-08 00:39:04.911718638 +0000 UTC".
const GO_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+$/;

describe('ps', () => {
  it('lists oldest first, with Go times and Podman JSON', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'first', IMG, ...SLEEPER);
    await sb.runCli(0, 'run', '-d', '--name', 'second', IMG, ...SLEEPER);
    // The launcher's listing (no flags) and Node's (a template) agree.
    expect(
      (await sb.runCli(0, 'ps')).stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(/\s+/).at(-1)),
    ).toEqual(['first', 'second']);
    expect((await sb.runCli(0, 'ps', '--format', '{{.Names}}')).stdout).toBe('first\nsecond\n');
    expect((await sb.runCli(0, 'ps', '--latest', '--format', '{{.Names}}')).stdout).toBe('second\n');
    const times = (await sb.runCli(0, 'ps', '--format', '{{.CreatedAt}}|{{.Created}}')).stdout.trim().split('\n');
    for (const line of times) {
      const [createdAt, created] = line.split('|');
      expect(createdAt).toMatch(GO_TIME);
      expect(created).toBe(createdAt);
    }
    const raw = (await sb.runCli(0, 'ps', '--format', 'json')).stdout;
    // Podman's ps JSON is indented by 2, its keys in this order (Created last).
    expect(raw.startsWith('[\n  {\n    "AutoRemove": false,\n')).toBe(true);
    const [entry] = JSON.parse(raw);
    expect(Object.keys(entry)).toEqual([
      'AutoRemove',
      'Command',
      'CreatedAt',
      'Exited',
      'ExitedAt',
      'ExitCode',
      'Id',
      'Image',
      'ImageID',
      'IsInfra',
      'Labels',
      'Mounts',
      'Names',
      'Namespaces',
      'Networks',
      'Pid',
      'Pod',
      'PodName',
      'Ports',
      'Restarts',
      'Size',
      'StartedAt',
      'State',
      'Status',
      'Created',
    ]);
    expect(entry).toMatchObject({ Names: ['first'], ExitedAt: -62135596800, Size: null, Namespaces: {}, Pod: '', State: 'running' });
    expect(entry.CreatedAt).toMatch(/ago$/);
  });

  it("--size reads a running container's writable layer, its files owned by the container's ids", async () => {
    // A directory only uid 1 may read: the size is read inside skiff's user namespace.
    await sb.runCli(
      0,
      'run',
      '-d',
      '--name',
      'sized',
      '--user',
      '1',
      IMG,
      'sh',
      '-c',
      'umask 077; mkdir /tmp/d; echo 12345678 > /tmp/d/f; while :; do sleep 1; done',
    );
    const table = (await sb.runCli(0, 'ps', '--size', '--filter', 'name=sized')).stdout.split('\n');
    expect(table[0]).toMatch(/NAMES\s+SIZE$/);
    expect(table[1]).toMatch(/sized\s+\d+B \(virtual 1\.98MB\)$/);
    const [entry] = JSON.parse((await sb.runCli(0, 'ps', '--size', '--filter', 'name=sized', '--format', 'json')).stdout);
    expect(Object.keys(entry.Size)).toEqual(['rootFsSize', 'rwSize']);
    expect(entry.Size.rwSize).toBeGreaterThanOrEqual(9);
    expect(entry.Size.rootFsSize).toBeGreaterThan(entry.Size.rwSize + 1_900_000);
    expect((await sb.runCli(0, 'ps', '--size', '--filter', 'name=sized', '--format', '{{.Size}}')).stdout).toMatch(/^\d+B \(virtual 1\.98MB\)\n$/);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'first', 'second', 'sized');
  });
});

describe('images and history', () => {
  it("sizes an image as Podman does: the layers' tars, the config and the manifest twice", async () => {
    const [entry] = JSON.parse((await sb.runCli(0, 'images', '--format', 'json', IMG)).stdout);
    // podman images --format json, the same image from the same registry.
    expect([entry.Size, entry.VirtualSize]).toEqual([2006652, 2006652]);
    expect((await sb.runCli(0, 'images', '--format', '{{.Size}}', IMG)).stdout).toBe('2.01 MB\n');
    expect((await sb.runCli(0, 'image', 'inspect', '--format', '{{.Size}}', IMG)).stdout).toBe('2006652\n');
  });

  it("history: Podman's columns, sizes, --no-trunc, --human and JSON", async () => {
    const id = (await sb.runCli(0, 'image', 'inspect', '--format', '{{.Id}}', IMG)).stdout.trim();
    expect((await sb.runCli(0, 'history', IMG)).stdout).toBe(
      [
        'ID            CREATED      CREATED BY  SIZE        COMMENT',
        `${id.slice(0, 12)}  2 years ago  layer 1     6.66 kB`,
        '<missing>     2 years ago  layer 0     2 MB',
        '',
      ].join('\n'),
    );
    expect((await sb.runCli(0, 'history', '--no-trunc', '--format', '{{.ID}}', IMG)).stdout).toBe(`${id}\n<missing>\n`);
    expect((await sb.runCli(0, 'history', '-H=false', '--format', '{{.Created}}', IMG)).stdout).toBe('2024-01-01T00:00:00Z\n2024-01-01T00:00:00Z\n');
    expect((await sb.runCli(0, 'history', '--format', '{{.CreatedAt}}|{{.CreatedSince}}|{{.Size}}|{{.Tags}}', IMG)).stdout).toBe(
      '2024-01-01 00:00:00 +0000 UTC|2 years ago|6.66 kB|[]\n2024-01-01 00:00:00 +0000 UTC|2 years ago|2 MB|[]\n',
    );
    // podman history --format json: one line, these keys, HTML characters escaped as Go does.
    expect((await sb.runCli(0, 'history', '--format', 'json', IMG)).stdout).toBe(
      `[{"id":"${id}","created":"2024-01-01T00:00:00Z","CreatedBy":"layer 1","size":6656,"Created":"2024-01-01T00:00:00Z"},{"id":"\\u003cmissing\\u003e","created":"2024-01-01T00:00:00Z","CreatedBy":"layer 0","size":1998336,"Created":"2024-01-01T00:00:00Z"}]\n`,
    );
  });
});

describe('top', () => {
  it("chooses and orders the columns by Podman's descriptors", async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'watched', IMG, ...SLEEPER);
    const rows = async (...args: string[]) => (await sb.runCli(0, 'top', 'watched', ...args)).stdout.trim().split('\n');
    const table = await rows();
    expect(table[0].split(/\s{2,}/)).toEqual(['USER', 'PID', 'PPID', '%CPU', 'ELAPSED', 'TTY', 'TIME', 'COMMAND']);
    expect(table[1]).toMatch(/^root\s+1\s+0\s+\d+\.\d{3}\s+(\d+m)?[\d.]+m?s\s+\?\s+0s\s+sh -c while :; do sleep 1; done$/);
    const picked = await rows('pid', 'user,args', 'seccomp', 'state');
    expect(picked[0].split(/\s{2,}/)).toEqual(['PID', 'USER', 'COMMAND', 'SECCOMP', 'STATE']);
    expect(picked[1]).toMatch(/^1\s+root\s+sh -c while :; do sleep 1; done\s+filter\s+S$/);
    const aix = await rows('%p', '%P', '%U', '%c', '%z', '%n');
    expect(aix[0].split(/\s{2,}/)).toEqual(['PID', 'PPID', 'USER', 'COMMAND', 'VSZ', 'NI']);
    expect(aix[1]).toMatch(/^1\s+0\s+root\s+sh\s+\d+\s+0$/);
    const caps = await rows('capeff', 'capamb', 'huser', 'hpid', 'stime');
    expect(caps[0].split(/\s{2,}/)).toEqual(['EFFECTIVE CAPS', 'AMBIENT CAPS', 'HUSER', 'HPID', 'STIME']);
    expect(caps[1]).toMatch(
      /^CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,NET_BIND_SERVICE,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT\s+none\s+\d+\s+\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /,
    );
    // Not descriptors: ps(1) in the container, which this image lacks.
    const ps = await sb.run(['top', 'watched', '-eo', 'pid']);
    expect([ps.code, ps.stderr]).toEqual([125, expect.stringMatching(/^Error: executing ps\(1\) in the container: .*ps.*\n$/)]);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'watched');
  });
});

describe('JSON as each Podman command indents it', () => {
  it('inspect by 5, info by 2, version on one line, images by 4', async () => {
    expect((await sb.runCli(0, 'image', 'inspect', IMG)).stdout).toMatch(/^\[\n {5}\{\n {10}"Id": /);
    expect((await sb.runCli(0, 'info', '--format', 'json')).stdout).toMatch(/^\{\n {2}"host": \{\n {4}"/);
    expect((await sb.runCli(0, 'version', '--format', 'json')).stdout).toMatch(/^\{"Client":\{"[A-Z].*\}\}\n$/);
    expect((await sb.runCli(0, 'images', '--format', 'json')).stdout).toMatch(/^\[\n {4}\{\n {8}"Id": /);
  });

  it("writes maps (labels) with sorted keys, as Go's encoder does", async () => {
    await sb.runCli(0, 'create', '--name', 'labelled', '--label', 'zz=1', '--label', 'aa=2', '--label', 'mm=3', IMG, 'sh');
    const ps = (await sb.runCli(0, 'ps', '-a', '--filter', 'name=labelled', '--format', 'json')).stdout;
    expect(ps).toMatch(/"Labels": \{\n {6}"aa": "2",\n {6}"mm": "3",\n {6}"zz": "1"\n {4}\}/);
    const inspect = (await sb.runCli(0, 'container', 'inspect', 'labelled')).stdout;
    expect(Object.keys(JSON.parse(inspect)[0].Config.Labels)).toEqual(['aa', 'mm', 'zz']);
    await sb.runCli(0, 'rm', 'labelled');
  });
});
