// Volumes: create, list (with filters), inspect, remove, prune. A volume is in use while any
// container's record mounts it (running or not): remove refuses it, naming the containers, and
// prune leaves it. Removal and the creates in `create` hold the volumes lock, so a volume is never
// pruned between a container's create and its record.
import { CliError } from '../errors.js';
import type { VolumeRecord } from '../storage/volumes.js';
import { volumeUsers } from '../state/containers.js';
import { randomId } from '../state/names.js';
import type { EngineContext } from './context.js';
import { parseTime } from '../util/time.js';

export interface VolumeSummary extends VolumeRecord {
  /** Names of the containers that mount it. */
  UsedBy: string[];
}

const parseLabels = (labels: string[]): Record<string, string> =>
  Object.fromEntries(labels.map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])));

// --opt: type=tmpfs (with o=MOUNT-OPTIONS and device=tmpfs) makes a volume a tmpfs mounted in
// each container that uses it; a directory volume takes no options.
const parseVolumeOptions = (opts: string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const [key, value] = eq < 0 ? [opt, ''] : [opt.slice(0, eq), opt.slice(eq + 1)];
    if (!['type', 'o', 'device'].includes(key)) throw new CliError('EUSAGE', `invalid volume option "${opt}": use type=tmpfs, o=OPTIONS, device=tmpfs`);
    out[key] = value;
  }
  if (Object.keys(out).length && (out.type !== 'tmpfs' || (out.device !== undefined && out.device !== 'tmpfs')))
    throw new CliError('EUSAGE', `volume options ${opts.join(', ')}: only type=tmpfs (with o= and device=tmpfs) is supported; binds of host devices are not`);
  if (out.o && !/^[a-z0-9_=,.-]*$/i.test(out.o)) throw new CliError('EUSAGE', `invalid volume option o=${out.o}: mount options such as size=64m,mode=1777`);
  return out;
};

export class VolumesEngine {
  constructor(
    private readonly ctx: EngineContext,
    /** Removes a container that uses a volume (`volume rm --force`): stopped first within `timeout` seconds. */
    private readonly removeContainer: (id: string, timeout?: number) => Promise<unknown>,
  ) {}

  private users(): Map<string, string[]> {
    return volumeUsers(this.ctx.containers.list());
  }

  async create(name: string | undefined, options: { labels?: string[]; opts?: string[]; driver?: string } = {}): Promise<VolumeRecord> {
    if (options.driver && options.driver !== 'local') throw new CliError('EUSAGE', `unknown volume driver "${options.driver}": only local`);
    const opts = parseVolumeOptions(options.opts ?? []);
    return this.ctx.volumes.withLock(async () => {
      this.ctx.volumes.sweep();
      return this.ctx.volumes.create(name ?? randomId(), { labels: parseLabels(options.labels ?? []), options: opts });
    });
  }

  list(filters: string[] = []): VolumeSummary[] {
    const users = this.users();
    const checks = filters.map((f) => {
      const [key, value = ''] = [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)];
      if (!f.includes('=')) throw new CliError('EUSAGE', `invalid --filter "${f}": use KEY=VALUE (name, label, label!, until, dangling)`);
      if (key === 'name') return (v: VolumeSummary) => v.Name.includes(value);
      if (key === 'label' || key === 'label!') {
        const [k, want] = value.includes('=') ? [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)] : [value, undefined];
        return (v: VolumeSummary) => (k in v.Labels && (want === undefined || v.Labels[k] === want)) === (key === 'label');
      }
      if (key === 'until') {
        const before = parseTime(value, 'until= filter');
        return (v: VolumeSummary) => Date.parse(v.CreatedAt) < before;
      }
      if (key === 'dangling') {
        if (!['true', 'false', '1', '0'].includes(value)) throw new CliError('EUSAGE', `invalid --filter "${f}": dangling is true or false`);
        return (v: VolumeSummary) => (v.UsedBy.length === 0) === (value === 'true' || value === '1');
      }
      throw new CliError('EUSAGE', `invalid --filter "${f}": filter on name, label, label!, until or dangling`);
    });
    return this.ctx.volumes
      .list()
      .map((v) => ({ ...v, UsedBy: users.get(v.Name) ?? [] }))
      .filter((v) => checks.every((check) => check(v)));
  }

  inspect(name: string): VolumeSummary {
    return { ...this.ctx.volumes.find(name), UsedBy: this.users().get(name) ?? [] };
  }

  exists(name: string): boolean {
    return this.ctx.volumes.get(name) !== undefined;
  }

  // Refused while a container mounts it; with force (Podman's) those containers go first (a running
  // one stopped, killed after `timeout` seconds), and a missing volume is no error.
  async remove(name: string, options: { force?: boolean; timeout?: number } = {}): Promise<string | undefined> {
    // (Before the volumes lock, which removing a container takes for its anonymous volumes.)
    if (options.force && this.ctx.volumes.get(name))
      for (const c of this.ctx.containers.list())
        if (c.config.mounts?.some((m) => m.type === 'volume' && m.source === name)) await this.removeContainer(c.id, options.timeout);
    return this.ctx.volumes.withLock(async () => {
      if (!this.ctx.volumes.get(name)) {
        if (options.force) return undefined;
        throw new CliError('ENOVOLUME', `no such volume: ${name}`, { exitCode: 1 });
      }
      const users = this.users().get(name)?.sort();
      if (users?.length)
        throw new CliError(
          'ESTATE',
          `volume ${name} is used by container${users.length > 1 ? 's' : ''} ${users.join(', ')}: remove ${users.length > 1 ? 'them' : 'it'} first, or use --force`,
          {
            exitCode: 2,
          },
        );
      this.ctx.volumes.remove(name);
      return name;
    });
  }

  // Removes every volume no container mounts (that the filters select); returns their names.
  async prune(filters: string[] = []): Promise<string[]> {
    return this.ctx.volumes.withLock(async () => {
      this.ctx.volumes.sweep();
      const unused = this.list(filters).filter((v) => v.UsedBy.length === 0);
      for (const v of unused) this.ctx.volumes.remove(v.Name);
      return unused.map((v) => v.Name);
    });
  }

  // `volume export`: the volume's files as a tar archive.
  async export(name: string, out: NodeJS.WritableStream): Promise<void> {
    const data = this.mountpoint(name);
    const { packTree } = await import('../storage/pack.js');
    await packTree(data, out);
  }

  // `volume import`: a tar archive unpacked into the volume, owners kept, by the same unpacker as
  // layers: nothing lands outside the volume's directory and nothing is written through a link.
  async import(name: string, input: string | NodeJS.ReadableStream): Promise<void> {
    const data = this.mountpoint(name);
    const { createReadStream } = await import('node:fs');
    const { unpackError, unpackStream } = await import('../storage/unpack.js');
    const source = typeof input === 'string' ? createReadStream(input) : input;
    const result = await unpackStream(source as import('node:stream').Readable, data, { chown: true, plain: true });
    const error = unpackError(result, `the import into volume ${name}`);
    if (error) throw error;
  }

  // `volume mount`: where its files are (inside skiff's namespace, as Podman's rootless mount).
  mountpoint(name: string): string {
    const volume = this.ctx.volumes.find(name);
    if (volume.Options.type === 'tmpfs') throw new CliError('EUSAGE', `volume ${name} is a tmpfs: its files exist only inside the containers that use it`);
    return volume.Mountpoint;
  }

  size(name: string): number {
    return this.ctx.volumes.size(name);
  }
}
