// The build cache: a step's key (its parent, its instruction, the build args it uses, the content
// it copies) to the image a build stored after that step. An entry whose image was removed (rmi,
// prune) is a miss.
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readTextIfExists, writeFileAtomic } from '../util/fs.js';

// A step's key: the parent's key and whatever else decides the step's result, in order.
export const stepKey = (parent: string, ...parts: string[]): string => {
  const hash = createHash('sha256').update(parent);
  for (const part of parts) hash.update(`\0${part}`);
  return hash.digest('hex');
};

export class BuildCache {
  constructor(private readonly dir: string) {}

  // The image stored for `key`, if it is still in the store.
  get(key: string, exists: (id: string) => boolean): string | undefined {
    const id = readTextIfExists(join(this.dir, key))?.trim();
    return id && exists(id) ? id : undefined;
  }

  put(key: string, id: string): void {
    writeFileAtomic(join(this.dir, key), id, 0o644, false);
  }

  // A step found to change nothing (a WORKDIR that exists): known without looking again.
  mark(key: string): void {
    writeFileAtomic(join(this.dir, key), 'unchanged', 0o644, false);
  }

  marked(key: string): boolean {
    return readTextIfExists(join(this.dir, key))?.trim() === 'unchanged';
  }
}
