// File locks (flock through the native addon): released by the kernel when the holder dies, so a
// skiff process killed at any point never leaves a lock that blocks the next command.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError } from '../errors.js';
import { native } from './native.js';

export interface Lock {
  release(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Takes an exclusive (or shared) lock on `path`, polling so the event loop keeps running while it
// waits; fails after `timeoutMs` with a message naming the lock file.
export const acquireLock = async (path: string, options: { shared?: boolean; timeoutMs?: number } = {}): Promise<Lock> => {
  const addon = native();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  let delay = 5;
  while (!addon.flock(fd, !options.shared, false)) {
    if (Date.now() > deadline) {
      closeSync(fd);
      throw new CliError('ELOCK', `timed out waiting for lock ${path}: another skiff command holds it`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
};

// Runs fn while holding the lock at `path`.
export const withLock = async <T>(path: string, fn: () => Promise<T>, options?: { shared?: boolean; timeoutMs?: number }): Promise<T> => {
  const lock = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    lock.release();
  }
};
