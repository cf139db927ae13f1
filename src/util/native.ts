// Loads skiff's N-API addon (native/addon): flock, mknod and lsetxattr, which Node lacks.
import { createRequire } from 'node:module';
import { CliError } from '../errors.js';

export interface NativeAddon {
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  funlock(fd: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
}

let addon: NativeAddon | undefined;

export const native = (): NativeAddon => {
  if (!addon) {
    const require = createRequire(import.meta.url);
    const path = process.env.SKIFF_NATIVE_ADDON ?? new URL('../native/build/skiff_native.node', import.meta.url).pathname;
    try {
      addon = require(path) as NativeAddon;
    } catch (error) {
      throw new CliError('EINTERNAL', `cannot load skiff's native addon ${path}: build it with \`make -C native\``, { cause: error });
    }
  }
  return addon;
};
