// `mount` and `unmount`: a container's root filesystem mounted for the user, as Podman's. The mount
// lives in skiff's rootless mount namespace (rootless Podman's does too: `podman unshare`), and is
// counted twice: among every user of the root (storage/rootfs.ts, which unmounts with the last) and
// among the user's own mounts here, so that `unmount` lets go only of what `mount` took (never of a
// running container's own mount) and `rm` knows what to undo.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { isRootful } from '../rootless/rootful.js';
import type { ContainerRecord } from '../state/containers.js';
import { writeFileAtomic } from '../util/fs.js';
import { namespaceOf } from '../util/proc.js';
import type { EngineContext } from './context.js';
import type { ContainersEngine } from './containers.js';

export interface MountReport {
  record: ContainerRecord;
  /** The root's path, valid inside skiff's mount namespace (`skiff unshare`). */
  path: string;
}

// Where the user's mounts of a container are counted (beside the root's own count).
export const userMountFile = (runDir: string, id: string): string => join(runDir, 'mounts', `${id}.user`);

// Whether the process that ran this command sees skiff's mounts: it runs inside skiff's mount
// namespace (`skiff unshare`), or skiff runs as root with no namespace of its own. A path printed
// to anyone else names an empty directory.
export const callerSeesMounts = (): boolean => {
  if (isRootful()) return true;
  const own = namespaceOf('self', 'mnt');
  return own !== undefined && namespaceOf(process.ppid, 'mnt') === own;
};

export class ContainerMounts {
  constructor(
    private readonly ctx: EngineContext,
    private readonly containers: ContainersEngine,
  ) {}

  // The user's mounts of the container that still hold: counted on the mount that holds now (its
  // device), so none is taken for them once their mount namespace ended and a start mounted anew.
  userMounts(record: ContainerRecord): number {
    let count = 0;
    let device = '';
    try {
      [count, device] = readFileSync(userMountFile(this.ctx.paths.run, record.id), 'utf8')
        .trim()
        .split(' ')
        .map((x, i) => (i ? x : Number(x) || 0)) as [number, string];
    } catch {
      return 0;
    }
    return count > 0 && this.containers.rootfsMounted(record) && device === this.device(record) ? count : 0;
  }

  private device(record: ContainerRecord): string {
    try {
      return String(statSync(this.containers.rootfsPath(record)).dev);
    } catch {
      return '';
    }
  }

  private setUserMounts(record: ContainerRecord, count: number): void {
    const file = userMountFile(this.ctx.paths.run, record.id);
    if (count > 0) writeFileAtomic(file, `${count} ${this.device(record)}`, 0o644, false);
    else rmSync(file, { force: true });
  }

  // Mounts the container's root (or counts one more use of it) for the user; its path. Caller has
  // joined the user namespace.
  async mount(input: string): Promise<MountReport> {
    const record = this.containers.find(input);
    const path = await this.ctx.containers.withContainerLock(record.id, async () => {
      if (!this.ctx.containers.get(record.id)) throw new CliError('ENOCONTAINER', `no such container: ${input}`);
      const held = this.userMounts(record);
      const mountpoint = await this.containers.mountRootfs(record);
      this.setUserMounts(record, held + 1);
      return mountpoint;
    });
    this.containers.event(record, 'mount');
    return { record, path };
  }

  // Lets go of one of the user's mounts (all of them with `force`); the root is unmounted once
  // nothing else (a run, a cp) uses it. A container the user has not mounted is an error.
  async unmount(input: string, force = false): Promise<ContainerRecord> {
    const record = this.containers.find(input);
    await this.ctx.containers.withContainerLock(record.id, async () => {
      const held = this.userMounts(record);
      if (!held) {
        this.setUserMounts(record, 0);
        throw new CliError('ESTATE', `container ${record.name} is not mounted (by skiff mount)`);
      }
      const release = force ? held : 1;
      for (let i = 0; i < release; i++) this.containers.unmountRootfs(record);
      this.setUserMounts(record, held - release);
    });
    this.containers.event(record, 'unmount');
    return record;
  }

  // The containers the user has mounted (unmount --all).
  mountedByUser(): ContainerRecord[] {
    return this.ctx.containers.list().filter((record) => this.userMounts(record) > 0);
  }

  // The containers the user has mounted, and those whose root is mounted for their run (Podman
  // lists every mounted container).
  list(): MountReport[] {
    return this.ctx.containers.list().flatMap((record) => {
      const running = ['running', 'stopping', 'initialized'].includes(this.containers.state(record.id).status);
      if (!this.userMounts(record) && !(running && this.containers.rootfsMounted(record))) return [];
      return [{ record, path: this.containers.rootfsPath(record) }];
    });
  }
}
