// Managing local images: images (table, json, templates, filters), inspect, history, tag, untag,
// rmi, prune, exists, system df.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';
import { storeContents } from '../helpers/store.js';

const plain = inject('plainRegistry');
let busyboxId: string;
let sharedA: string;

const sb = useSandbox('images');
beforeAll(async () => {
  busyboxId = (await sb.runCli(0, 'pull', '-q', `${plain}/skiff/busybox`)).stdout.trim();
  sharedA = (await sb.runCli(0, 'pull', '-q', `${plain}/skiff/shared-a`)).stdout.trim();
});

describe('images', () => {
  it('prints a table with Podman columns', async () => {
    const { stdout } = await sb.runCli(0, 'images');
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.startsWith(`${plain}/skiff/busybox `))).toMatch(
      new RegExp(`latest\\s+${busyboxId.slice(0, 12)}\\s+\\d+ (months|years) ago\\s+[\\d.]+ [kM]B$`),
    );
  });

  it('supports --format json, templates, -q, --digests and --no-trunc', async () => {
    const json = JSON.parse((await sb.runCli(0, 'images', '--format', 'json')).stdout);
    const entry = json.find((i: { Id: string }) => i.Id === busyboxId);
    expect(entry).toMatchObject({ RepoTags: [`${plain}/skiff/busybox:latest`], Dangling: false });
    expect(entry.RepoDigests[0]).toMatch(new RegExp(`^${plain}/skiff/busybox@sha256:[a-f0-9]{64}$`));
    expect(entry.Size).toBeGreaterThan(1_000_000);
    const tpl = await sb.runCli(0, 'images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    expect(tpl.stdout).toContain(`${plain}/skiff/busybox:latest ${busyboxId.slice(0, 12)}\n`);
    const table = await sb.runCli(0, 'images', '--format', 'table {{.ID}}\t{{.Tag}}');
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TAG$/);
    const quiet = await sb.runCli(0, 'images', '-q', '--no-trunc');
    // Podman prints full ids with their algorithm.
    expect(quiet.stdout.trim().split('\n').sort()).toEqual([`sha256:${busyboxId}`, `sha256:${sharedA}`].sort());
    const digests = await sb.runCli(0, 'images', '--digests');
    expect(digests.stdout.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    const bad = await sb.runCli(125, 'images', '--format', '{{.Nope');
    expect(bad.stdout).toBe('');
  });

  it('filters by reference and dangling', async () => {
    const ref = await sb.runCli(0, 'images', '-q', '--filter', 'reference=*/skiff/shared*');
    expect(ref.stdout.trim()).toBe(sharedA.slice(0, 12));
    const short = await sb.runCli(0, 'images', '-q', 'busybox');
    expect(short.stdout.trim()).toBe(busyboxId.slice(0, 12));
    const dangling = await sb.runCli(0, 'images', '-q', '--filter', 'dangling=true');
    expect(dangling.stdout).toBe('');
    const bad = await sb.runCli(125, 'images', '--filter', 'color=blue');
    expect(bad.stderr).toMatch(/invalid filter "color=blue"/);
  });
});

describe('inspect and history', () => {
  it('inspects by name, short name, id prefix and digest', async () => {
    const byName = JSON.parse((await sb.runCli(0, 'image', 'inspect', `${plain}/skiff/busybox`)).stdout);
    expect(byName[0]).toMatchObject({ Id: busyboxId, Architecture: 'amd64', Os: 'linux', Config: { Cmd: ['sh'] } });
    expect(byName[0].RootFS.Layers).toHaveLength(2);
    const byPrefix = await sb.runCli(0, 'inspect', '--format', '{{.Id}}', busyboxId.slice(0, 8));
    expect(byPrefix.stdout.trim()).toBe(busyboxId);
    const short = await sb.runCli(0, 'inspect', '--format', '{{.Id}}', 'skiff/busybox');
    expect(short.stdout.trim()).toBe(busyboxId);
    const digest = byName[0].RepoDigests[0];
    const byDigest = await sb.runCli(0, 'inspect', '--format', '{{.Id}}', digest);
    expect(byDigest.stdout.trim()).toBe(busyboxId);
  });

  it('prints what it found and fails for what it did not', async () => {
    const { stdout, stderr } = await sb.runCli(125, 'image', 'inspect', busyboxId, 'nosuch');
    expect(JSON.parse(stdout)).toHaveLength(1);
    expect(stderr).toBe('Error: nosuch: image not known\n');
  });

  it('shows history', async () => {
    const { stdout } = await sb.runCli(0, 'history', `${plain}/skiff/busybox`);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines[1]).toMatch(new RegExp(`^${busyboxId.slice(0, 12)}\\s+.*layer 1`));
    expect(lines).toHaveLength(3);
  });
});

describe('tag, untag, rmi, prune', () => {
  it('tags, lists both names, untags', async () => {
    await sb.runCli(0, 'tag', 'skiff/busybox', 'localhost/mine:v1', 'other:v2');
    const names = JSON.parse((await sb.runCli(0, 'inspect', busyboxId)).stdout)[0].RepoTags;
    expect(names).toEqual([`${plain}/skiff/busybox:latest`, 'localhost/mine:v1', 'docker.io/library/other:v2']);
    await sb.runCli(0, 'untag', busyboxId, 'other:v2');
    expect(JSON.parse((await sb.runCli(0, 'inspect', busyboxId)).stdout)[0].RepoTags).toHaveLength(2);
    const bad = await sb.runCli(125, 'tag', busyboxId, 'Bad:Name');
    expect(bad.stderr).toMatch(/invalid reference/);
  });

  it('moving a tag leaves the old image dangling; prune removes it', async () => {
    await sb.runCli(0, 'tag', sharedA, 'localhost/mine:v1');
    const dangling = await sb.runCli(0, 'images', '-q', '--no-trunc', '--filter', 'dangling=false', '--filter', 'reference=localhost/mine');
    expect(dangling.stdout.trim()).toBe(`sha256:${sharedA}`);
    await sb.runCli(0, 'untag', busyboxId);
    const none = await sb.runCli(0, 'images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}', '--filter', 'dangling=true');
    expect(none.stdout).toBe(`<none> <none> ${busyboxId.slice(0, 12)}\n`);
    const pruned = await sb.runCli(0, 'image', 'prune', '-f');
    expect(pruned.stdout.trim()).toBe(busyboxId);
    await sb.runCli(1, 'image', 'exists', busyboxId);
    await sb.runCli(0, 'image', 'exists', 'localhost/mine:v1');
  });

  it('rmi untags a name first, removes the image with its last name, and reports unknown images', async () => {
    const first = await sb.runCli(0, 'rmi', 'localhost/mine:v1');
    expect(first.stdout).toBe('Untagged: localhost/mine:v1\n');
    const missing = await sb.runCli(1, 'rmi', 'nosuch', `${plain}/skiff/shared-a`); // Podman's: 1
    expect(missing.stdout).toBe(`Untagged: ${plain}/skiff/shared-a:latest\nDeleted: ${sharedA}\n`);
    expect(missing.stderr).toBe('Error: nosuch: image not known\n');
    expect(storeContents(sb.dataDir)).toEqual({ images: [], layers: [], partial: [] });
    await sb.runCli(0, 'rmi', '--ignore', 'nosuch');
  });

  it('rmi --all and system df', async () => {
    await sb.runCli(0, 'pull', '-q', `${plain}/skiff/shared-a`);
    await sb.runCli(0, 'pull', '-q', `${plain}/skiff/shared-b`);
    const df = JSON.parse((await sb.runCli(0, 'system', 'df', '--format', 'json')).stdout);
    expect(df[0]).toMatchObject({ Type: 'Images', Total: 2 });
    await sb.runCli(0, 'rmi', '--all');
    expect(storeContents(sb.dataDir)).toEqual({ images: [], layers: [], partial: [] });
  });
});
