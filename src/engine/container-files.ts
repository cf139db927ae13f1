// What looks into a container's files and processes: cp (both ways), diff, export, commit, top.
// All run inside the rootless namespace, where the container's root is mounted.
import { outerIds, toInner } from '../util/idmap.js';
import { constants, fstatSync, lstatSync, openSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { normalizeName } from '../image/reference.js';
import { resolveUser } from '../oci/passwd.js';
import type { ImageRecord } from '../storage/image-store.js';
import type { ContainerRecord } from '../state/containers.js';
import { closeQuietly, openInRoot, openInRootIfExists } from '../util/in-root.js';
import { O_PATH } from '../util/native.js';
import type { EngineContext } from './context.js';
import type { ContainersEngine } from './containers.js';
import { throughMounts } from './container-mounts.js';
import { DEFAULT_TOP_DESCRIPTORS, type TopReport, topReport } from './container-top.js';
import { execCaptured } from './container-exec.js';
import { runtimeCgroups } from './container-cgroups.js';
import { resolveRuntime } from '../runtime/runtime.js';

// ps(1) in the container for top: its time and the output kept.
const PS_TIMEOUT_MS = 30_000;
const PS_OUTPUT_MAX = 4 << 20;

export interface DiffReport {
  kind: 'A' | 'C' | 'D';
  path: string;
}

export interface CommitOptions {
  names: string[];
  changes: string[];
  message?: string;
  author?: string;
  pause?: boolean;
  /** The manifest's format: docker (the default) or oci. */
  format?: 'docker' | 'oci';
  /** The whole root filesystem as the image's one layer, not the changes on top of the image's. */
  squash?: boolean;
}

// Where a copy lands (Docker's cp rules): into an existing directory the source keeps its name;
// "SRC/." copies a directory's contents; onto a file or a new name, under that name.
interface Placement {
  /** Write into the destination itself (an existing directory), or into its parent. */
  into: 'destination' | 'parent';
  /** The name of the top entry written ("" for a directory's contents). */
  prefix: string;
}

// With `overwrite` (cp --overwrite) a directory replaces a non-directory of the destination's name.
const place = (
  source: Stats,
  sourceName: string,
  destination: Stats | undefined,
  destinationName: string,
  contentsOnly: boolean,
  shown: string,
  overwrite = false,
): Placement => {
  if (destination?.isDirectory()) return { into: 'destination', prefix: contentsOnly ? '' : sourceName };
  if (destination && source.isDirectory() && !overwrite)
    throw new CliError('EUSAGE', `cannot copy a directory onto ${shown}: it is not a directory; use --overwrite to replace it`);
  if (!destinationName) throw new CliError('EUSAGE', `${shown} is not a directory`);
  return { into: 'parent', prefix: destinationName };
};

// What a failed open inside a container's root means, in the container's own terms.
const inContainerError = (error: unknown, path: string, container: string): Error => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new CliError('EUSAGE', `${path}: no such file or directory in container ${container}`);
  if (code === 'ELOOP') return new CliError('EUSAGE', `${path}: too many levels of symbolic links in container ${container}`);
  return new CliError('EUSAGE', `cannot open ${path} in container ${container}: ${code ?? messageOf(error)}`, { cause: error });
};

// A trailing "/" or "/." names the same file; basename and dirname as a container path.
const splitPath = (path: string): { parent: string; name: string } => {
  const trimmed = path.replace(/\/+(\.\/*)*$/, '') || '/';
  const slash = trimmed.lastIndexOf('/');
  return { parent: slash <= 0 ? '/' : trimmed.slice(0, slash), name: trimmed.slice(slash + 1) };
};

// cp: the files as they are, owned by whoever copies (Docker's rule without -a): root inside. A
// container with a user namespace of its own gets them as its user's (Podman's rule), `owner`.
const streamCopy = async (source: number, prefix: string, target: number | string, owner?: [number, number]): Promise<void> => {
  const { copyTree } = await import('../storage/copy.js');
  await copyTree(source, target, { prefix, chown: owner ?? false });
};

// A container with a user namespace of its own owns its files by its ids: export and commit give those.
const containerOwners = (record: ContainerRecord) => {
  const m = record.config.idMappings;
  return m && { uid: (id: number) => toInner(m.uid, id), gid: (id: number) => toInner(m.gid, id) };
};

// The owner cp gives what it copies into a container with a user namespace of its own: its user.
const mappedOwner = (rootfs: string, record: ContainerRecord): [number, number] | undefined => {
  const m = record.config.idMappings;
  if (!m) return undefined;
  const { uid, gid } = outerIds(m, resolveUser(rootfs, record.config.user));
  return [uid, gid];
};

export class ContainerFiles {
  constructor(
    private readonly ctx: EngineContext,
    private readonly containers: ContainersEngine,
  ) {}

  // `skiff cp`: one side is "CONTAINER:PATH", the other a host path. Caller has joined the namespace.
  // Container paths are opened inside the container's root (openInRoot), host paths as the user
  // wrote them; what is copied is never written through a symlink on either side.
  async copy(source: string, destination: string, options: { overwrite?: boolean } = {}): Promise<void> {
    const split = (arg: string) => {
      const colon = arg.indexOf(':');
      if (colon <= 0 || arg.startsWith('/') || arg.startsWith('.')) return undefined;
      return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
    };
    const from = split(source);
    const to = split(destination);
    if (!from === !to)
      throw new CliError('EUSAGE', 'cp copies between a container and the host: write one side as CONTAINER:PATH and the other as a host path');
    const contentsOnly = /\/\.\/*$/.test(from ? from.path : source);
    if (from) {
      await this.containers.withRootfs(from.container, async (rootfs, record) => {
        const at0 = throughMounts(this.ctx.volumes, record.config.mounts ?? [], rootfs, from.path, (m) => this.containers.overlayRoot(record, m));
        let fd: number;
        try {
          fd = openInRoot(at0.root, at0.path, constants.O_RDONLY | constants.O_NONBLOCK);
        } catch (error) {
          throw inContainerError(error, from.path, from.container);
        } finally {
          at0.close?.();
        }
        try {
          const dst = statSync(destination, { throwIfNoEntry: false });
          const { parent, name } = splitPath(destination);
          const at = place(
            fstatSync(fd),
            splitPath(from.path).name,
            dst,
            dst || !destination.endsWith('/') ? name : '',
            contentsOnly,
            destination,
            options.overwrite,
          );
          const dir = at.into === 'destination' ? destination : parent;
          if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError('EUSAGE', `destination directory ${dir} does not exist`);
          await streamCopy(fd, at.prefix, dir);
        } finally {
          closeQuietly(fd);
        }
      });
      return;
    }
    let sourceFd: number;
    try {
      sourceFd = openSync(source, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      throw new CliError('EUSAGE', `${source}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : messageOf(error)}`);
    }
    try {
      await this.containers.withRootfs(to!.container, async (containerRoot, record) => {
        // Into a volume or bind mount: its own directory is the root the path resolves in.
        const through = throughMounts(this.ctx.volumes, record.config.mounts ?? [], containerRoot, to!.path, (m) => this.containers.overlayRoot(record, m));
        if (through.readOnly) {
          through.close?.();
          throw new CliError('EUSAGE', `cannot copy to ${to!.path}: ${through.mount} is mounted read-only in container ${to!.container}`);
        }
        const rootfs = through.root;
        const inside = through.path + (to!.path.length > 1 && to!.path.endsWith('/') ? '/' : '');
        const dstFd = openInRootIfExists(rootfs, inside.replace(/\/+$/, '') || '/', O_PATH);
        const { parent, name } = splitPath(inside);
        try {
          const dstStat = dstFd === undefined ? undefined : fstatSync(dstFd);
          // A trailing slash names a directory, which must be there (Docker's rule).
          if (to!.path.length > 1 && to!.path.endsWith('/') && !dstStat?.isDirectory())
            throw new CliError('EUSAGE', `${to!.path}: ${dstStat ? 'not a directory' : 'no such directory'} in container ${to!.container}`);
          const at = place(fstatSync(sourceFd), splitPath(source).name, dstStat, name, contentsOnly, to!.path, options.overwrite);
          let dirFd: number;
          if (at.into === 'destination') dirFd = dstFd!;
          else {
            try {
              dirFd = openInRoot(rootfs, parent, O_PATH | constants.O_DIRECTORY);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOTDIR')
                throw new CliError('EUSAGE', `cannot copy to ${to!.path}: ${parent} is not a directory in container ${to!.container}`);
              throw new CliError('EUSAGE', `destination directory ${parent} does not exist in container ${to!.container}`);
            }
          }
          try {
            await streamCopy(sourceFd, at.prefix, dirFd, mappedOwner(containerRoot, record));
          } finally {
            if (dirFd !== dstFd) closeQuietly(dirFd);
          }
        } finally {
          if (dstFd !== undefined) closeQuietly(dstFd);
          through.close?.();
        }
      });
    } finally {
      closeQuietly(sourceFd);
    }
  }

  // `skiff diff`: what the container added, changed and deleted compared with its image.
  async diff(input: string): Promise<DiffReport[]> {
    return this.containers.withRootfs(input, async (_rootfs, record, upper) => {
      if (!upper) throw new CliError('ESTATE', `diff needs an overlay root filesystem; container ${record.name} uses the copy driver`);
      const lowers = this.containers.lowers(record);
      const inLower = (rel: string) => lowers.some((l) => lstatSync(join(l, rel), { throwIfNoEntry: false }) !== undefined);
      // Mount points the runtime created for /proc, /etc/hosts, ... are not the container's changes.
      const mountPoints = new Set(['proc', 'sys', 'dev', 'etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'run/skiff-init']);
      const out: DiffReport[] = [];
      // Each directory held open and its entries reached through it (a running container may swap
      // a directory for a symlink to a host directory meanwhile: its names are never listed).
      const walk = (dirFd: number, rel: string) => {
        for (const name of readdirSync(`/proc/self/fd/${dirFd}`)) {
          const path = join(rel, name);
          const at = `/proc/self/fd/${dirFd}/${name}`;
          const st = lstatSync(at, { throwIfNoEntry: false });
          if (!st) continue;
          if (mountPoints.has(path) && !inLower(path) && (st.isDirectory() ? readdirSync(at).length === 0 : st.size === 0)) continue;
          if (st.isCharacterDevice() && st.rdev === 0) out.push({ kind: 'D', path: `/${path}` });
          else {
            out.push({ kind: inLower(path) ? 'C' : 'A', path: `/${path}` });
            if (!st.isDirectory()) continue;
            let fd: number;
            try {
              fd = openInRoot(dirFd, name, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
            } catch {
              continue; // gone, or no longer a directory
            }
            try {
              walk(fd, path);
            } finally {
              closeQuietly(fd);
            }
          }
        }
      };
      const top = openSync(upper, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        walk(top, '');
      } finally {
        closeQuietly(top);
      }
      return out.sort((a, b) => (a.path < b.path ? -1 : 1));
    });
  }

  // `skiff export`: the container's whole root filesystem as a tar.
  async export(input: string, out: NodeJS.WritableStream): Promise<void> {
    const { packTree } = await import('../storage/pack.js');
    await this.containers.withRootfs(input, (rootfs, record) => packTree(rootfs, out, { owners: containerOwners(record) }));
  }

  // `skiff commit`: the container's changes as a new layer on top of its image.
  async commit(input: string, options: CommitOptions, installed: string[]): Promise<ImageRecord> {
    const { packTree } = await import('../storage/pack.js');
    const { createImageFromTar } = await import('../image/commit.js');
    return this.containers.withRootfs(input, async (rootfs, record: ContainerRecord, upper) => {
      if (!upper && !options.squash)
        throw new CliError('ESTATE', `commit needs an overlay root filesystem; container ${record.name} uses the copy driver (commit --squash does not)`);
      if (record.config.rootfs)
        throw new CliError(
          'EUSAGE',
          `container ${record.name} runs a --rootfs directory, not an image: make an image of it with \`tar -C DIR -c . | skiff import - NAME\``,
        );
      const image = this.ctx.images.get(record.imageId);
      if (!image) throw new CliError('ENOIMAGE', `the image of container ${record.name} is gone`);
      // --squash: the merged root as it is, else the overlay's upper layer (its whiteouts kept).
      const produce = (out: NodeJS.WritableStream) =>
        options.squash ? packTree(rootfs, out, { owners: containerOwners(record) }) : packTree(upper!, out, { layer: true, owners: containerOwners(record) });
      return createImageFromTar(this.ctx, produce, {
        base: { record: image, config: this.ctx.images.config(image.id) },
        names: options.names.map(normalizeName),
        changes: options.changes,
        message: options.message,
        author: options.author,
        createdBy: `skiff commit ${record.name}`,
        chown: this.ctx.config.storage.userns !== 'single',
        installed,
        squash: options.squash,
        format: options.format,
      });
    });
  }

  // `skiff top`: the container's processes in the columns of psgo's descriptors (container-top.ts).
  top(input: string, descriptors: string[] = DEFAULT_TOP_DESCRIPTORS): TopReport {
    const record = this.containers.find(input);
    const state = this.containers.state(record.id);
    if (state.status !== 'running' || !state.pid) throw new CliError('ESTATE', `top needs a running container: ${record.name} is ${state.status}`);
    // Names from the container's own /etc/passwd and /etc/group, seen through its init's root (any rootfs driver).
    return topReport(state.pid, descriptors, `/proc/${state.pid}/root`, record.config.idMappings);
  }

  // `skiff top CTR -eo pid,comm`: arguments that are not descriptors go to ps(1) in the container,
  // as Podman does; its output lines, without the line of that ps itself.
  async topWithPs(input: string, args: string[]): Promise<string[]> {
    const record = this.containers.find(input);
    const state = this.containers.state(record.id);
    if (state.status !== 'running' || !state.pid) throw new CliError('ESTATE', `top needs a running container: ${record.name} is ${state.status}`);
    const base = resolveRuntime(record.runtime, this.ctx.paths.run, runtimeCgroups(record));
    const runtime = this.ctx.runtimeFlags?.length ? { ...base, globalArgs: [...base.globalArgs, ...this.ctx.runtimeFlags] } : base;
    const result = await execCaptured(this.ctx.containers, record, runtime, state, ['ps', ...args], PS_TIMEOUT_MS, PS_OUTPUT_MAX);
    const lines = result.output.split('\n').filter((l) => l.trim());
    if (result.timedOut) throw new CliError('EHELPER', `executing ps(1) in the container: it did not finish in ${PS_TIMEOUT_MS / 1000} s`);
    if (result.code !== 0)
      throw new CliError(
        'EHELPER',
        `executing ps(1) in the container: ${lines.at(-1) ?? `exit code ${result.code}`} (the arguments are not top's descriptors: see skiff top --help)`,
      );
    const self = args.join(' ');
    return lines.filter((l) => !l.includes(self));
  }
}
