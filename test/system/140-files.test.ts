// Into and out of containers: cp (with ownership mapped and no escape through the container's
// symlinks), diff, export/import, commit, top, events, and the clean-up commands CI runs.
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { testIds, until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const TICK = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'];

const own = (path: string) => chownSync(path, testIds().uid, testIds().gid);

const sb = useSandbox('files', { pull: [IMG] });

describe('cp', () => {
  it("copies files and directories both ways, owned by the container's root inside and by you outside", async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'box', IMG, ...TICK);
    const src = join(sb.home, 'in.txt');
    writeFileSync(src, 'from host\n');
    own(src);
    await sb.runCli(0, 'cp', src, 'box:/tmp/');
    expect((await sb.runCli(0, 'exec', 'box', 'sh', '-c', 'cat /tmp/in.txt; stat -c %u /tmp/in.txt')).stdout).toBe('from host\n0\n');
    // Relative host paths are relative to where skiff was run (the home dir here), namespace or not.
    await sb.runCli(0, 'cp', 'in.txt', 'box:/tmp/rel.txt');
    expect((await sb.runCli(0, 'exec', 'box', 'sh', '-c', 'cat /tmp/rel.txt')).stdout).toBe('from host\n');
    await sb.runCli(0, 'exec', 'box', 'sh', '-c', 'mkdir -p /out/sub && echo deep > /out/sub/f && chown -R 33:33 /out');
    const dest = join(sb.home, 'copied');
    await sb.runCli(0, 'cp', 'box:/out', dest);
    expect(readFileSync(join(dest, 'sub', 'f'), 'utf8')).toBe('deep\n');
    expect(statSync(join(dest, 'sub', 'f')).uid).toBe(testIds().uid);
    // Works on a stopped container too (its root is mounted for the copy).
    await sb.runCli(0, 'stop', 'box');
    await sb.runCli(0, 'cp', 'box:/tmp/in.txt', join(sb.home, 'back.txt'));
    expect(readFileSync(join(sb.home, 'back.txt'), 'utf8')).toBe('from host\n');
    const bad = await sb.run(['cp', 'box:/no/such', sb.home]);
    expect(bad.code).toBe(125);
    expect((await sb.run(['cp', src, join(sb.home, 'x')])).code).toBe(125);
    await sb.runCli(0, 'rm', 'box');
  });

  it("never follows the container's symlinks out to host files", async () => {
    const victim = join(sb.home, 'victim.txt');
    writeFileSync(victim, 'untouched\n');
    own(victim);
    // The container plants absolute links that would point at the host file if followed on the host.
    await sb.runCli(0, 'run', '--name', 'evil', IMG, 'sh', '-c', `mkdir /drop && ln -s ${victim} /drop/victim.txt && ln -s ${sb.home} /escape`);
    const payload = join(sb.home, 'payload');
    mkdirSync(payload);
    writeFileSync(join(payload, 'victim.txt'), 'overwritten\n');
    own(payload);
    own(join(payload, 'victim.txt'));
    await sb.runCli(0, 'cp', `${payload}/.`, 'evil:/drop');
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    // The link replaced, not written through: the copy landed inside the container.
    const id = (await sb.runCli(0, 'inspect', '--format', '{{.Id}}', 'evil')).stdout.trim();
    const upper = join(sb.dataDir, 'containers', id, 'upper');
    expect(lstatSync(join(upper, 'drop', 'victim.txt')).isFile()).toBe(true);
    // An absolute link resolves inside the container's root, where that directory does not exist.
    const escaped = await sb.run(['cp', join(payload, 'victim.txt'), 'evil:/escape/victim.txt']);
    expect(escaped.code).toBe(125);
    expect(escaped.stderr).toMatch(/does not exist/);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    await sb.runCli(0, 'rm', 'evil');
  });
});

describe('diff, export, import, commit', () => {
  it('diff lists what the container added, changed and deleted', async () => {
    await sb.runCli(0, 'run', '--name', 'changer', IMG, 'sh', '-c', 'echo n > /new-file; echo x >> /etc/passwd; rm /nobody-file');
    const diff = (await sb.runCli(0, 'diff', 'changer')).stdout.trim().split('\n');
    expect(diff).toEqual(expect.arrayContaining(['A /new-file', 'C /etc', 'C /etc/passwd', 'D /nobody-file']));
    expect(diff.some((l) => /\/proc$|hosts$/.test(l))).toBe(false);
    const json = JSON.parse((await sb.runCli(0, 'diff', '--format', 'json', 'changer')).stdout) as { added: string[]; deleted: string[] };
    expect(json.added).toContain('/new-file');
    expect(json.deleted).toEqual(['/nobody-file']);
  });

  it('commit makes an image of the changes, with --change applied, that runs', async () => {
    const id = (
      await sb.runCli(0, 'commit', '-c', 'CMD ["sh","-c","cat /new-file; ls /nobody-file 2>&1"]', '-c', 'ENV COMMITTED=yes', 'changer', 'committed:1')
    ).stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const r = await sb.run(['run', '--rm', 'committed:1']);
    expect(r.stdout).toMatch(/^n\n.*No such file/);
    expect((await sb.runCli(0, 'run', '--rm', 'committed:1', 'sh', '-c', 'echo $COMMITTED')).stdout).toBe('yes\n');
    const history = (await sb.runCli(0, 'history', '--format', '{{.CreatedBy}}', 'committed:1')).stdout;
    expect(history).toMatch(/skiff commit changer/);
  });

  it('export writes the root filesystem; import makes it an image again', async () => {
    const tar = join(sb.home, 'rootfs.tar');
    await sb.runCli(0, 'export', '-o', tar, 'changer');
    expect(statSync(tar).size).toBeGreaterThan(1_000_000);
    const imported = await sb.runCli(0, 'import', '-c', 'CMD ["sh","-c","cat /new-file"]', tar, 'imported:1');
    expect(imported.stdout).toMatch(/^[a-f0-9]{64}\n$/);
    expect((await sb.runCli(0, 'run', '--rm', 'imported:1')).stdout).toBe('n\n');
    const layers = JSON.parse((await sb.runCli(0, 'image', 'inspect', 'imported:1')).stdout)[0].RootFS.Layers as string[];
    expect(layers).toHaveLength(1);
    const bad = await sb.run(['import', join(sb.home, 'nope.tar')]);
    expect(bad.code).toBe(125);
    // An image that a container uses cannot be removed without --force.
    const rmi = await sb.run(['rmi', IMG]);
    expect(rmi.code).toBe(2); // Podman's: 2 for an image in use
    expect(rmi.stderr).toMatch(/in use by container changer/);
    await sb.runCli(0, 'rm', 'changer');
  });
});

describe('top and events', () => {
  it("top lists the container's processes with container pids", async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'procs', IMG, 'sh', '-c', 'sleep 30 & sleep 31');
    // Once the shell has started the first sleep.
    let rows: string[] = [];
    await until(async () => (rows = (await sb.runCli(0, 'top', 'procs')).stdout.trim().split('\n')).some((r) => /sleep 30$/.test(r)));
    expect(rows[0]).toMatch(/^USER\s+PID\s+PPID\s+%CPU\s+ELAPSED\s+TTY\s+TIME\s+COMMAND$/);
    expect(
      rows
        .slice(1)
        .map((r) => r.split(/\s+/).slice(0, 3).join(' '))
        .sort(),
    ).toEqual(expect.arrayContaining(['root 1 0']));
    expect(rows.some((r) => /sleep 30$/.test(r))).toBe(true);
    await sb.runCli(0, 'rm', '-f', 'procs');
    expect((await sb.run(['top', 'procs'])).code).toBe(125);
  });

  it('events records create, start, died and remove with timestamps', async () => {
    await sb.runCli(3, 'run', '--rm', '--name', 'evented', IMG, 'sh', '-c', 'exit 3');
    const lines = (await sb.runCli(0, 'events', '--stream=false', '--filter', 'container=evented', '--format', 'json')).stdout.trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { Status: string; Time: string; ContainerExitCode?: number });
    expect(events.map((e) => e.Status)).toEqual(['create', 'start', 'died', 'remove']);
    expect(events.find((e) => e.Status === 'died')?.ContainerExitCode).toBe(3);
    expect(Date.parse(events[0].Time)).toBeGreaterThan(Date.now() - 60_000);
    expect((await sb.runCli(0, 'events', '--stream=false', '--since', '2099-01-01T00:00:00Z')).stdout).toBe('');
    const died = (await sb.runCli(0, 'events', '--stream=false', '--filter', 'event=die', '--format', '{{.Name}} {{.ContainerExitCode}}')).stdout;
    expect(died).toMatch(/^evented 3$/m);
    // A stream shows what happens after it started, until --until.
    const stream = sb.run(['events', '--until', new Date(Date.now() + 3000).toISOString(), '--format', '{{.Status}} {{.Name}}']);
    // Time for the stream to begin (nothing shows when it has): too little fails the test, never passes it wrongly.
    await new Promise((r) => setTimeout(r, 800));
    await sb.runCli(0, 'create', '--name', 'streamed', IMG, 'sh');
    expect((await stream).stdout).toBe('create streamed\n');
    await sb.runCli(0, 'rm', 'streamed');
  });
});

describe('system prune and reset', () => {
  it('prune removes stopped containers and unused images; reset removes everything', async () => {
    await sb.runCli(0, 'run', '--name', 'stopped', IMG, 'sh', '-c', 'true');
    await sb.runCli(0, 'run', '-d', '--name', 'alive', IMG, ...TICK);
    const noForce = await sb.run(['system', 'prune']);
    expect(noForce.code).toBe(125);
    expect(noForce.stderr).toMatch(/--force/);
    const prune = await sb.runCli(0, 'system', 'prune', '--all', '--force');
    expect(prune.stdout).toMatch(/^Deleted Containers\n([a-f0-9]{64}\n)+Deleted Images\n/);
    expect(prune.stdout).toMatch(/Total reclaimed space: /);
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).toBe('alive\n');
    // The busybox image stays: a container uses it.
    expect((await sb.runCli(0, 'images', '-q')).stdout.trim().split('\n')).toHaveLength(1);
    const pause = sb.pausePid();
    await sb.runCli(0, 'system', 'reset', '--force');
    expect(existsSync(sb.dataDir)).toBe(false);
    // The namespace went too (reset runs inside it, and still ends its pause process).
    expect(existsSync(`/proc/${pause}/status`) && !/State:\s+Z/.test(readFileSync(`/proc/${pause}/status`, 'utf8'))).toBe(false);
    expect((await sb.runCli(0, 'ps', '-aq')).stdout).toBe('');
    expect((await sb.runCli(0, 'images', '-q')).stdout).toBe('');
    // And skiff works again from scratch.
    await sb.runCli(0, 'pull', '-q', IMG);
    expect((await sb.runCli(0, 'run', '--rm', IMG, 'sh', '-c', 'echo again')).stdout).toBe('again\n');
  });
});
