// The built-in example: a registry on loopback with a busybox image built from busybox-static,
// then skiff pulls it rootless, lists, inspects, and removes it. No internet registry involved.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures } from '../test/fixtures/images.js';
import { buildImage, pushImage, startRegistry } from '../test/helpers/registry.js';

const skiff = fileURLToPath(new URL('../bin/skiff', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'skiff-demo-'));
const registry = await startRegistry();
let failed = false;
try {
  const f = await buildFixtures();
  await pushImage(registry.host, 'demo/busybox', 'latest', buildImage([f.base, f.app]));
  const image = `${registry.host}/demo/busybox:latest`;
  for (const args of [['pull', image], ['images'], ['image', 'inspect', '--format', '{{.Id}} {{.Architecture}} {{.RootFS.Layers}}', image], ['system', 'df'], ['rmi', image]]) {
    process.stdout.write(`\n$ skiff ${args.join(' ')}\n`);
    const result = spawnSync(process.execPath, [skiff, '--root', root, ...args], { stdio: 'inherit' });
    if (result.status !== 0) {
      failed = true;
      break;
    }
  }
} finally {
  await registry.stop();
  // Layers hold files of subordinate uids: remove them from inside the user namespace.
  spawnSync(process.execPath, [skiff, '--root', root, 'rmi', '--all'], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
}
process.stdout.write(failed ? '\ndemo failed\n' : '\ndemo finished: skiff pulled, listed, inspected and removed an image without root\n');
process.exitCode = failed ? 1 : 0;
