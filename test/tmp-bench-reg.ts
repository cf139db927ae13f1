import { readFileSync } from 'node:fs';
import { startRegistry, pushImage, buildImage } from './helpers/registry.js';
import { sha256 } from './helpers/layers.js';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
const cache = '/var/tmp/skiff-bench-layers';
const layer = (name: string, paths: string[]) => {
  mkdirSync(cache, { recursive: true });
  const tarPath = `${cache}/${name}.tar`, gzPath = `${cache}/${name}.tar.gz`;
  if (!existsSync(gzPath)) { spawnSync('tar', ['-C', '/', '--numeric-owner', '-cf', tarPath, ...paths]); writeFileSync(gzPath, gzipSync(readFileSync(tarPath))); }
  const tar = readFileSync(tarPath), gz = readFileSync(gzPath);
  return { tar, gz, diffId: sha256(tar), digest: sha256(gz) };
};
const l1 = layer('base', ['usr/lib/python3.11', 'usr/share/perl']);
const l2 = layer('packages', ['usr/lib/gcc']);
console.log('sizes', l1.gz.length / 1e6, l2.gz.length / 1e6, l1.tar.length / 1e6, l2.tar.length / 1e6);
const reg = await startRegistry();
await pushImage(reg.host, 'bench/image', 'latest', buildImage([l1, l2]));
console.log(reg.host);
setInterval(() => {}, 1e6);
