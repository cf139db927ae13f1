// Volumes: volumes/<name>/volume.json (what was asked for) and volumes/<name>/_data, the directory
// containers mount. A volume's files belong to the ids that wrote them inside the user namespace:
// root in a container is the user on the host. Creation and removal hold the volumes lock; a
// directory without volume.json (a create killed midway) is no volume and is taken over or swept.
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { listDir, readJsonIfExists, writeJsonAtomic } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { checkName, isValidName } from '../util/names.js';
import { du } from '../util/du.js';
import { removeTree } from './layer-store.js';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
  /** Made for one container (`-v /path`, an image's VOLUME): removed with it by `rm -v` and `--rm`. */
  Anonymous?: boolean;
  /** Not mounted yet: the first container to mount it copies its image's content in (Docker's rule). */
  NeedsCopyUp?: boolean;
}

export class VolumeStore {
  readonly dir: string;

  // `dir`: where the volumes are (DATA/volumes, or --volumepath).
  constructor(dir: string) {
    this.dir = dir;
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.dir, '..', 'locks', 'volumes.lock'), fn, { timeoutMs: 60_000 });
  }

  dataDir(name: string): string {
    return join(this.dir, name, '_data');
  }

  get(name: string): VolumeRecord | undefined {
    if (!isValidName(name)) return undefined;
    try {
      return readJsonIfExists<VolumeRecord>(join(this.dir, name, 'volume.json'));
    } catch {
      return undefined; // a torn record: no volume
    }
  }

  find(name: string): VolumeRecord {
    const record = this.get(name);
    if (!record) throw new CliError('ENOVOLUME', `no such volume: ${name}`);
    return record;
  }

  list(): VolumeRecord[] {
    return listDir(this.dir)
      .flatMap((name) => this.get(name) ?? [])
      .sort((a, b) => (a.Name < b.Name ? -1 : 1));
  }

  // Under the lock. The data directory first, the record last: a killed create leaves no volume.
  create(name: string, options: { labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean }): VolumeRecord {
    checkName('volume', name);
    if (this.get(name)) throw new CliError('EUSAGE', `volume ${name} already exists: pick another name, or use it as it is`);
    const data = this.dataDir(name);
    // A directory of that name with no record is a create killed midway: nothing in it is kept.
    removeTree(join(this.dir, name));
    mkdirSync(data, { recursive: true, mode: 0o755 });
    const record: VolumeRecord = {
      Name: name,
      Driver: 'local',
      Mountpoint: data,
      CreatedAt: new Date().toISOString(),
      Labels: options.labels ?? {},
      Options: options.options ?? {},
      Scope: 'local',
      ...(options.anonymous ? { Anonymous: true } : {}),
      NeedsCopyUp: true,
    };
    writeJsonAtomic(join(this.dir, name, 'volume.json'), record);
    return record;
  }

  // Under the lock: the volume has been mounted once (its content copied in, or not wanted).
  copiedUp(record: VolumeRecord): void {
    const { NeedsCopyUp: _, ...rest } = record;
    writeJsonAtomic(join(this.dir, record.Name, 'volume.json'), rest);
  }

  // Under the lock. The whole directory is renamed aside in one step (record and data together:
  // the volume is gone for every reader), then deleted; a killed removal leaves only a hidden
  // directory that the next sweep deletes, never data a new volume of that name would take up.
  remove(name: string): void {
    const aside = join(this.dir, `.removing-${name}-${process.pid}`);
    try {
      renameSync(join(this.dir, name), aside);
    } catch {
      return;
    }
    removeTree(aside);
  }

  // Leftovers of killed creates and removals.
  sweep(): void {
    for (const name of listDir(this.dir)) {
      if (name.startsWith('.removing-')) removeTree(join(this.dir, name));
      else if (!this.get(name) && isValidName(name) && isOld(join(this.dir, name))) removeTree(join(this.dir, name));
    }
  }

  // Bytes used by a volume's files (best effort).
  size(name: string): number {
    return du(this.dataDir(name));
  }
}

// A directory left for over a minute: no create is still under way in it.
const isOld = (path: string): boolean => {
  try {
    return Date.now() - statSync(path).mtimeMs > 60_000;
  } catch {
    return false;
  }
};
