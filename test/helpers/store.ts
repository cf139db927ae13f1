// Looks at a sandbox's store on disk, for "nothing was left behind" assertions.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

export interface StoreContents {
  images: string[];
  layers: string[];
  /** Temp entries and layer dirs without a layer.json: must be empty when nothing is half-written. */
  partial: string[];
}

export const storeContents = (dataDir: string): StoreContents => {
  const layers = entries(join(dataDir, 'layers'));
  const images = entries(join(dataDir, 'images'));
  return {
    images: images.filter((n) => !n.startsWith('.')),
    layers: layers.filter((n) => !n.startsWith('.')),
    partial: [
      ...layers.filter((n) => n.startsWith('.') || !existsSync(join(dataDir, 'layers', n, 'layer.json'))),
      ...images.filter((n) => n.startsWith('.') || !existsSync(join(dataDir, 'images', n, 'image.json'))),
    ],
  };
};
