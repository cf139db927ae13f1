// Layers that try to write outside their target, registries that serve corrupt content, and pulls
// killed half-way: each must leave the user's files and the store intact.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures } from '../fixtures/images.js';
import { useSandbox } from '../helpers/cli.js';
import { makeLayer, type EntrySpec } from '../helpers/layers.js';
import { buildImage, pushImage, startRegistry, type Registry } from '../helpers/registry.js';
import { storeContents } from '../helpers/store.js';

let reg: Registry;
let outside: string;

const sb = useSandbox('safety');
beforeAll(async () => {
  reg = await startRegistry();
  outside = join(sb.dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'precious'), 'do not touch\n');
  chmodSync(outside, 0o777);
});
afterAll(async () => {
  await reg.stop();
});

const pushEvil = async (name: string, entries: EntrySpec[]): Promise<void> => {
  const base = await makeLayer([
    { path: 'etc/', type: 'directory' },
    { path: 'etc/hostname', content: 'x\n' },
  ]);
  await pushImage(reg.host, `evil/${name}`, 'latest', buildImage([base, await makeLayer(entries)]));
};

const expectUntouched = () => {
  expect(readdirSync(outside)).toEqual(['precious']);
  expect(readFileSync(join(outside, 'precious'), 'utf8')).toBe('do not touch\n');
};

describe('crafted layers never write outside their target', () => {
  it('refuses ".." paths', async () => {
    await pushEvil('dotdot', [{ path: `../../../../../../../..${outside}/dotdot`, content: 'pwned' }]);
    const { stderr } = await sb.runCli(125, 'pull', `${reg.host}/evil/dotdot`);
    expect(stderr).toMatch(/\nError: refusing layer entry ".*dotdot": it contains "\.\."\n$/);
    expectUntouched();
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], partial: [] });
  });

  it("refuses a file owned by an id outside the user's subordinate range, naming the fix", async () => {
    await pushEvil('unmapped', [{ path: 'owned', content: 'x', uid: 70000 }]);
    const { stderr } = await sb.runCli(125, 'pull', `${reg.host}/evil/unmapped`);
    expect(stderr).toMatch(
      /\nError: "owned" is owned by uid 70000\/gid 0, outside this user's \/etc\/subuid or \/etc\/subgid range: give the user a range of at least 65536 ids\n$/,
    );
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], partial: [] });
  });

  it('refuses a whiteout of ".." (it would remove the directory above the entry)', async () => {
    await pushEvil('whiteout-dotdot', [{ path: 'etc/.wh...', content: '' }]);
    const { stderr } = await sb.runCli(125, 'pull', `${reg.host}/evil/whiteout-dotdot`);
    expect(stderr).toMatch(/refusing layer entry "etc\/\.wh\.\.\.": a whiteout must name an entry of its directory/);
    expectUntouched();
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], partial: [] });
  });

  it('refuses a file written through a symlink that points outside', async () => {
    await pushEvil('symlink', [
      { path: 'escape', type: 'symlink', target: outside },
      { path: 'escape/pwned', content: 'pwned' },
    ]);
    const { stderr } = await sb.runCli(125, 'pull', `${reg.host}/evil/symlink`);
    expect(stderr).toMatch(/its parent "escape" is a symlink/);
    expectUntouched();
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], partial: [] });
  });

  it('refuses hardlinks to files outside the layer', async () => {
    await pushEvil('hardlink', [{ path: 'passwd', type: 'link', target: `${outside}/precious` }]);
    const { stderr } = await sb.runCli(125, 'pull', `${reg.host}/evil/hardlink`);
    expect(stderr).toMatch(/hardlink target ".*precious" is not in this layer/);
    await pushEvil('hardlink-dotdot', [{ path: 'passwd', type: 'link', target: '../../../../../../etc/passwd' }]);
    await sb.runCli(125, 'pull', `${reg.host}/evil/hardlink-dotdot`);
    await pushEvil('hardlink-via-symlink', [
      { path: 'etc2', type: 'symlink', target: outside },
      { path: 'stolen', type: 'link', target: 'etc2/precious' },
    ]);
    const via = await sb.runCli(125, 'pull', `${reg.host}/evil/hardlink-via-symlink`);
    expect(via.stderr).toMatch(/its parent "etc2" is a symlink/);
    expectUntouched();
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], partial: [] });
  });

  it('takes absolute names relative to the layer and skips device nodes', async () => {
    await pushEvil('absolute', [
      { path: `${outside}/absolute`, content: 'inside\n' },
      { path: 'sda', type: 'block-device', devmajor: 8, devminor: 0 },
      { path: 'mem', type: 'character-device', devmajor: 1, devminor: 1 },
    ]);
    await sb.runCli(0, 'pull', `${reg.host}/evil/absolute`);
    expectUntouched();
    const layers = storeContents(sb.dataDir).layers.map((l) => join(sb.dataDir, 'layers', l, 'diff'));
    expect(layers.some((l) => existsSync(join(l, outside, 'absolute')))).toBe(true);
    expect(layers.some((l) => existsSync(join(l, 'sda')) || existsSync(join(l, 'mem')))).toBe(false);
    await sb.runCli(0, 'rmi', `${reg.host}/evil/absolute`);
  });
});

describe('integrity', () => {
  // Overwrites a blob in the registry's storage, so it serves bytes that do not match the digest.
  const corruptBlob = (digest: string) => {
    const hex = digest.slice(7);
    const file = join(reg.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(file, bytes);
  };

  it('rejects a layer whose bytes do not match its digest and stores nothing', async () => {
    const f = await buildFixtures();
    const image = buildImage([f.sharedTopA, await makeLayer([{ path: 'corrupt', content: 'x'.repeat(5000) }])]);
    await pushImage(reg.host, 'bad/corrupt', 'latest', image);
    corruptBlob(image.layers[1].digest);
    const { stderr } = await sb.runCli(125, 'pull', `${reg.host}/bad/corrupt`);
    expect(stderr).toMatch(/layer sha256:[a-f0-9]{64} .*(has digest|is corrupt)/);
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], partial: [] });
  });

  it('rejects a layer whose content does not match the config diff id', async () => {
    const a = await makeLayer([{ path: 'a', content: 'a' }]);
    const b = await makeLayer([{ path: 'b', content: 'b' }]);
    const image = buildImage([{ ...a, diffId: b.diffId }]);
    await pushImage(reg.host, 'bad/diffid', 'latest', image);
    const { stderr } = await sb.runCli(125, 'pull', `${reg.host}/bad/diffid`);
    expect(stderr).toMatch(/unpacks to sha256:[a-f0-9]{64}, but the image config says/);
    expect(storeContents(sb.dataDir)).toMatchObject({ images: [], layers: [], partial: [] });
  });
});

describe('interrupted and concurrent pulls', () => {
  it('leaves no partial layer or image when killed with SIGKILL, and the next pull succeeds', async () => {
    const f = await buildFixtures();
    await pushImage(reg.host, 'skiff/big', 'latest', buildImage([f.base, f.big]));
    for (const delay of [150, 300, 450, 600]) {
      const child = sb.spawn(['pull', `${reg.host}/skiff/big`], { stdio: 'ignore' });
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await closed;
      // The re-executed worker notices its parent is gone (within 100 ms) and ends.
      await expect.poll(() => sb.namespaceProcesses().map((p) => `${p.pid} ${p.cmdline}`), { timeout: 10_000 }).toEqual([]);
      const contents = storeContents(sb.dataDir);
      for (const layer of contents.layers) expect(existsSync(join(sb.dataDir, 'layers', layer, 'layer.json'))).toBe(true);
      await sb.runCli(0, 'pull', '-q', `${reg.host}/skiff/big`);
      expect(storeContents(sb.dataDir).partial).toEqual([]);
      await sb.runCli(0, 'rmi', `${reg.host}/skiff/big`);
    }
  });

  it('two concurrent pulls of one image both succeed and store one copy', async () => {
    const [a, b] = await Promise.all([sb.run(['pull', '-q', `${reg.host}/skiff/big`]), sb.run(['pull', '-q', `${reg.host}/skiff/big`])]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    expect(a.stdout).toBe(b.stdout);
    const contents = storeContents(sb.dataDir);
    expect(contents.images).toHaveLength(1);
    expect(contents.layers).toHaveLength(2);
    expect(contents.partial).toEqual([]);
    expect(statSync(join(sb.dataDir, 'images')).isDirectory()).toBe(true);
  });
});
