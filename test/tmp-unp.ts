import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { unpackLayer } from '../src/storage/unpack.js';
for (const name of ['base', 'packages']) {
  const dir = `/tmp/unp-${name}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const t = performance.now();
  const r0 = process.resourceUsage();
  await unpackLayer(createReadStream(`/var/tmp/skiff-bench-layers/${name}.tar`), dir, { chown: true });
  const r1 = process.resourceUsage();
  console.log(name, (performance.now() - t).toFixed(0), 'ms', 'user', ((r1.userCPUTime - r0.userCPUTime) / 1000).toFixed(0), 'sys', ((r1.systemCPUTime - r0.systemCPUTime) / 1000).toFixed(0));
}
