// auto-update against the loopback registry: a container labelled io.containers.autoupdate=registry
// is made again from the command that made it once a newer image is pushed under its image's name
// (--dry-run only says so), is left alone when nothing changed, and is rolled back to its old
// image when the new one does not come back. Containers not run by a unit are replaced by skiff
// itself (units are restarted instead: the VM lane's systemd checks cover generated units).
import { describe, expect, inject, it } from 'vitest';
import { buildHelpers } from '../helpers/build.js';
import { useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const APP = `${plain}/auto/app:latest`;

const sb = useSandbox('auto-update', { pull: [IMG] });
const { context } = buildHelpers(sb);

// Builds and pushes a version of the app image; `more` adds Dockerfile lines.
const publish = async (version: string, more = ''): Promise<string> => {
  const dir = context(`app-${version}`, { Dockerfile: `FROM ${IMG}\nRUN echo ${version} > /version\n${more}` });
  const id = (await sb.runCli(0, 'build', '-q', '-t', APP, dir)).stdout.trim();
  await sb.runCli(0, 'push', APP);
  return id;
};
const inspect = async (name: string) => JSON.parse((await sb.runCli(0, 'inspect', name)).stdout)[0];
const update = async (...flags: string[]) => JSON.parse((await sb.runCli(0, 'auto-update', '--format', 'json', ...flags)).stdout);

describe('auto-update', () => {
  it('replaces a labelled container when a newer image is pushed, and only then', async () => {
    await publish('v1');
    // As a user has it: the image pulled from the registry (its digest known), the container labelled.
    await sb.runCli(0, 'rmi', APP);
    await sb.runCli(0, 'pull', '-q', APP);
    await sb.runCli(0, 'run', '-d', '--name', 'au', '--label', 'io.containers.autoupdate=registry', APP, 'sh', '-c', 'sleep 120');
    await sb.runCli(0, 'run', '-d', '--name', 'plain', APP, 'sh', '-c', 'sleep 120');
    const before = await inspect('au');
    expect(await update()).toEqual([expect.objectContaining({ ContainerName: 'au', Image: APP, Policy: 'registry', Updated: 'false' })]);

    const v2 = await publish('v2');
    expect(await update('--dry-run')).toEqual([expect.objectContaining({ ContainerName: 'au', Updated: 'pending' })]);
    expect((await inspect('au')).Id).toBe(before.Id);

    const table = (await sb.runCli(0, 'auto-update')).stdout;
    expect(table.split('\n')[0]).toMatch(/^UNIT\s+CONTAINER\s+IMAGE\s+POLICY\s+UPDATED$/);
    expect(table).toMatch(new RegExp(`au\\)\\s+${APP.replace(/[.]/g, '\\.')}\\s+registry\\s+true`));
    const after = await inspect('au');
    expect(after.Id).not.toBe(before.Id);
    expect(after.Image).toBe(v2.replace(/^sha256:/, ''));
    expect(after.State.Status).toBe('running');
    expect(after.Config.Labels['io.containers.autoupdate']).toBe('registry');
    expect((await sb.runCli(0, 'exec', 'au', 'sh', '-c', 'cat /version')).stdout).toBe('v2\n');
    // The unlabelled one keeps its image; nothing new: nothing happens.
    expect((await inspect('plain')).Image).toBe(before.Image);
    expect(await update()).toEqual([expect.objectContaining({ ContainerName: 'au', Updated: 'false' })]);
  });

  it('rolls a container back to its old image when the new one does not come back', async () => {
    const good = (await inspect('au')).Image;
    await publish('v3', 'ENTRYPOINT ["/no/such/program"]\n');
    const r = await sb.run(['auto-update', '--format', 'json']);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ ContainerName: 'au', Updated: 'rolled back' })]);
    expect(r.stderr).toMatch(/au: /);
    const now = await inspect('au');
    expect([now.Image, now.State.Status]).toEqual([good, 'running']);
    expect((await sb.runCli(0, 'exec', 'au', 'sh', '-c', 'cat /version')).stdout).toBe('v2\n');
    // Without rollback it fails, exit 125.
    const failed = await sb.run(['auto-update', '--rollback=false', '--format', 'json']);
    expect(failed.code).toBe(125);
    expect(JSON.parse(failed.stdout)).toEqual([expect.objectContaining({ ContainerName: 'au', Updated: 'failed' })]);
    await sb.runCli(0, 'rm', '-f', '-t', '0', 'au', 'plain');
  });
});
