// skiff.conf's registry settings as a user would write them: search registries for short names,
// mirrors, rewritten locations, insecure and blocked registries.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useSandbox } from '../helpers/cli.js';
import { freePort, startRegistry, type Registry } from '../helpers/registry.js';

let tls: Registry;
const plain = inject('plainRegistry');
let conf: string;

const withConfig = (text: string) => writeFileSync(conf, text);
const run = (...args: string[]) => sb.run(args, { env: { SKIFF_CONFIG: conf } });

const sb = useSandbox('config');
beforeAll(async () => {
  conf = join(sb.home, 'skiff.conf');
  tls = await startRegistry({ tls: true });
});
afterAll(async () => {
  await tls.stop();
});

describe('registries in skiff.conf', () => {
  it('tries unqualified-search-registries in order for a short name', async () => {
    const dead = await freePort();
    withConfig(`unqualified-search-registries = ["127.0.0.1:${dead}", "${plain}"]\n`);
    const result = await run('pull', 'skiff/busybox');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Trying to pull 127.0.0.1:${dead}/skiff/busybox:latest...`);
    expect(result.stderr).toContain(`Trying to pull ${plain}/skiff/busybox:latest...`);
    const names = (await run('images', '--format', '{{.Repository}}')).stdout;
    expect(names).toContain(`${plain}/skiff/busybox`);
  });

  it('reports the first failure when no search registry has the image', async () => {
    withConfig(`unqualified-search-registries = ["${plain}"]\n`);
    const result = await run('pull', 'skiff/nothing');
    expect(result.code).toBe(125);
    expect(result.stderr).toMatch(/skiff\/nothing:latest: manifest unknown/);
  });

  it('pulls through a mirror, keeping the name the user gave', async () => {
    withConfig(`[[registry]]\nprefix = "mirrored.test"\n[[registry.mirror]]\nlocation = "${plain}"\n`);
    const result = await run('pull', 'mirrored.test/skiff/busybox');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Trying to pull ${plain}/skiff/busybox:latest...`);
    expect((await run('image', 'exists', 'mirrored.test/skiff/busybox')).code).toBe(0);
  });

  it('rewrites a prefix to another location', async () => {
    withConfig(`[[registry]]\nprefix = "alias.test/tools"\nlocation = "${plain}/skiff"\n`);
    const result = await run('pull', '-q', 'alias.test/tools/busybox-oci:1.0');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect((await run('image', 'exists', 'alias.test/tools/busybox-oci:1.0')).code).toBe(0);
  });

  it('trusts a registry marked insecure, and refuses a blocked one', async () => {
    withConfig(`[[registry]]\nlocation = "${tls.host}"\ninsecure = true\n`);
    const insecure = await run('pull', `${tls.host}/skiff/none`);
    expect(insecure.stderr).toMatch(/manifest unknown/);
    withConfig(`[[registry]]\nlocation = "${plain}"\nblocked = true\n`);
    const blocked = await run('pull', `${plain}/skiff/busybox`);
    expect(blocked.code).toBe(125);
    expect(blocked.stderr).toMatch(/pulling from .* is blocked by .*skiff.conf/);
  });

  it('names the file and line problem of a malformed config', async () => {
    withConfig('unqualified-search-registries = [\n');
    const result = await run('images');
    expect(result.code).toBe(125);
    expect(result.stderr).toMatch(/^Error: .*skiff.conf is not valid TOML/);
  });
});
