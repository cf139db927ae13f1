import { readFileSync } from 'node:fs';
import { startRegistry, pushImage, buildImage } from './helpers/registry.js';
import { sha256 } from './helpers/layers.js';
const layer = (name: string) => {
  const tar = readFileSync(`/var/tmp/skiff-bench-layers/${name}.tar`), gz = readFileSync(`/var/tmp/skiff-bench-layers/${name}.tar.gz`);
  return { tar, gz, diffId: sha256(tar), digest: sha256(gz) };
};
const reg = await startRegistry();
await pushImage(reg.host, 'bench/image', 'latest', buildImage([layer('base'), layer('packages')]));
console.log(reg.host);
setInterval(() => {}, 1e6);
