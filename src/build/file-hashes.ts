// The content hashes of a build context's files from the last build, by what stat says of each
// (inode, size, modification and change times in ns): a file whose stat is unchanged is not read
// again for the cache key (BuildKit keeps the same kind of record). A file changed within the
// second before the record was written is not kept: a change in the same tick leaves its times
// unchanged, as git's index knows.
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { readBoundedFile } from '../util/bounded-read.js';
import { writeFileAtomic } from '../util/fs.js';
import { CONTEXT_HASHES_MAX } from '../util/limits.js';

type Entry = [stat: string, hash: string];

const statKey = (st: BigIntStats): string => `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;

export class FileHashes {
  private readonly old: Record<string, Entry>;
  private readonly now: Record<string, Entry> = {};
  private readonly path: string;

  constructor(dir: string, contextRoot: string) {
    this.path = join(dir, `files-${createHash('sha256').update(contextRoot).digest('hex').slice(0, 32)}.json`);
    let old: Record<string, Entry> = {};
    try {
      old = JSON.parse(readBoundedFile(this.path, { what: this.path, limit: CONTEXT_HASHES_MAX, code: 'ECONFIG' }).toString('utf8')) as Record<string, Entry>;
    } catch {
      // none yet, or unreadable: every file is read
    }
    this.old = old;
  }

  // The hash recorded for `rel` if its stat is what it was.
  get(rel: string, st: BigIntStats): string | undefined {
    const entry = this.old[rel];
    if (!entry || entry[0] !== statKey(st)) return undefined;
    this.now[rel] = entry;
    return entry[1];
  }

  put(rel: string, st: BigIntStats, hash: string): void {
    if (BigInt(Date.now()) * 1_000_000n - st.mtimeNs < 2_000_000_000n) return; // changed just now: not kept
    this.now[rel] = [statKey(st), hash];
  }

  // Writes what this build saw (the files it hashed, and those it found unchanged).
  save(): void {
    try {
      writeFileAtomic(this.path, JSON.stringify(this.now), 0o600, false);
    } catch {
      // a cache: the next build reads the files again
    }
  }
}
