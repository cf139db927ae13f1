// What looks into a container's files and processes: cp (both ways), diff, export, commit, top.
// All run inside the rootless namespace, where the container's root is mounted.
import { closeSync, constants, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, chmodSync, writeSync, readSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError } from '../errors.js';
import { userNames } from '../oci/passwd.js';
import type { ImageRecord } from '../storage/image-store.js';
import type { ContainerRecord } from '../state/containers.js';
import type { EngineContext } from './context.js';
import type { ContainersEngine } from './containers.js';

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
}

// Resolves `path` inside `root` the way the container would see it: symlinks (absolute or
// relative) are followed within root, and `..` never climbs out of it.
export const resolveInRoot = (root: string, path: string, followLast = true): string => {
  const parts = path.split('/').filter((p) => p && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let st: Stats | undefined;
    try {
      st = lstatSync(candidate);
    } catch {
      st = undefined;
    }
    if (st?.isSymbolicLink() && (followLast || parts.length > 0)) {
      if (++links > 255) throw new CliError('EUSAGE', `too many levels of symbolic links in ${path}`);
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
};

// Copies a file or tree without following symlinks at the destination: an existing non-directory
// there is replaced, never written through (a container could have planted a link to a host file).
const copyNoFollow = (src: string, dst: string): void => {
  const st = lstatSync(src);
  const existing = lstatSync(dst, { throwIfNoEntry: false });
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(dst, { force: true });
    if (!existing || !existing.isDirectory()) mkdirSync(dst, { mode: st.mode & 0o7777 });
    for (const name of readdirSync(src)) copyNoFollow(join(src, name), join(dst, name));
    chmodSync(dst, st.mode & 0o7777);
    return;
  }
  if (existing) rmSync(dst, { recursive: true, force: true });
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
  else if (st.isFile()) {
    const input = openSync(src, 'r');
    const output = openSync(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, st.mode & 0o7777);
    try {
      const buffer = Buffer.alloc(1 << 20);
      for (let n; (n = readSync(input, buffer)) > 0; ) writeSync(output, buffer, 0, n);
    } finally {
      closeSync(input);
      closeSync(output);
    }
  }
  // fifos, sockets and devices are not copied
};

// Docker's cp rules: into an existing directory the source keeps its name; "src/." copies contents.
const copyPath = (src: string, dst: string, contentsOnly: boolean, intoContainer: boolean): void => {
  const st = statSync(src);
  const dstStat = lstatSync(dst, { throwIfNoEntry: false });
  let target = dst;
  if (dstStat?.isDirectory() && !contentsOnly) target = join(dst, basename(src));
  else if (!dstStat && !existsSync(dirname(dst))) throw new CliError('EUSAGE', `destination directory ${dirname(dst)} does not exist`);
  if (st.isDirectory() && contentsOnly) {
    if (!dstStat) mkdirSync(target);
    for (const name of readdirSync(src)) (intoContainer ? copyNoFollow : copyOut)(join(src, name), join(target, name));
    return;
  }
  (intoContainer ? copyNoFollow : copyOut)(src, target);
};

const copyOut = (src: string, dst: string): void => {
  const st = lstatSync(src);
  if (st.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    for (const name of readdirSync(src)) copyOut(join(src, name), join(dst, name));
    chmodSync(dst, st.mode & 0o7777);
  } else if (st.isSymbolicLink()) {
    rmSync(dst, { force: true });
    symlinkSync(readlinkSync(src), dst);
  } else if (st.isFile()) {
    copyFileSync(src, dst);
    chmodSync(dst, st.mode & 0o7777);
  }
};

export class ContainerFiles {
  constructor(
    private readonly ctx: EngineContext,
    private readonly containers: ContainersEngine,
  ) {}

  // `skiff cp`: one side is "CONTAINER:PATH", the other a host path. Caller has joined the namespace.
  async copy(source: string, destination: string): Promise<void> {
    const split = (arg: string) => {
      const colon = arg.indexOf(':');
      if (colon <= 0 || arg.startsWith('/') || arg.startsWith('.')) return undefined;
      return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
    };
    const from = split(source);
    const to = split(destination);
    if (!from === !to) throw new CliError('EUSAGE', 'cp copies between a container and the host: write one side as CONTAINER:PATH and the other as a host path');
    const contentsOnly = (from ? from.path : source).endsWith('/.');
    if (from) {
      await this.containers.withRootfs(from.container, async (rootfs) => {
        const src = resolveInRoot(rootfs, from.path);
        if (!existsSync(src)) throw new CliError('EUSAGE', `${from.path}: no such file or directory in container ${from.container}`);
        copyPath(src, destination, contentsOnly, false);
      });
      return;
    }
    if (!existsSync(source)) throw new CliError('EUSAGE', `${source}: no such file or directory`);
    await this.containers.withRootfs(to!.container, async (rootfs) => {
      copyPath(source, resolveInRoot(rootfs, to!.path), contentsOnly, true);
    });
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
      const walk = (rel: string) => {
        for (const name of readdirSync(join(upper, rel))) {
          const path = join(rel, name);
          const st = lstatSync(join(upper, path));
          if (mountPoints.has(path) && !inLower(path) && (st.isDirectory() ? readdirSync(join(upper, path)).length === 0 : st.size === 0)) continue;
          if (st.isCharacterDevice() && st.rdev === 0) out.push({ kind: 'D', path: `/${path}` });
          else {
            out.push({ kind: inLower(path) ? 'C' : 'A', path: `/${path}` });
            if (st.isDirectory()) walk(path);
          }
        }
      };
      walk('');
      return out.sort((a, b) => (a.path < b.path ? -1 : 1));
    });
  }

  // `skiff export`: the container's whole root filesystem as a tar.
  async export(input: string, out: NodeJS.WritableStream): Promise<void> {
    const { packTree } = await import('../storage/pack.js');
    await this.containers.withRootfs(input, (rootfs) => packTree(rootfs, out));
  }

  // `skiff commit`: the container's changes as a new layer on top of its image.
  async commit(input: string, options: CommitOptions, installed: string[]): Promise<ImageRecord> {
    const { packTree } = await import('../storage/pack.js');
    const { createImageFromTar } = await import('../image/commit.js');
    return this.containers.withRootfs(input, async (_rootfs, record: ContainerRecord, upper) => {
      if (!upper) throw new CliError('ESTATE', `commit needs an overlay root filesystem; container ${record.name} uses the copy driver`);
      const image = this.ctx.images.get(record.imageId);
      if (!image) throw new CliError('ENOIMAGE', `the image of container ${record.name} is gone`);
      return createImageFromTar(this.ctx, (out) => packTree(upper, out, { layer: true }), {
        base: { record: image, config: this.ctx.images.config(image.id) },
        names: options.names,
        changes: options.changes,
        message: options.message,
        author: options.author,
        createdBy: `skiff commit ${record.name}`,
        chown: this.ctx.config.storage.userns !== 'single',
        installed,
      });
    });
  }

  // `skiff top`: the container's processes, as Podman's default descriptors show them.
  top(input: string): string[][] {
    const record = this.containers.find(input);
    const state = this.containers.state(record.id);
    if (state.status !== 'running' || !state.pid) throw new CliError('ESTATE', `top needs a running container: ${record.name} is ${state.status}`);
    const pidNs = readlinkSync(`/proc/${state.pid}/ns/pid`);
    // Names from the container's own /etc/passwd, seen through its init's root (any rootfs driver).
    const names = userNames(`/proc/${state.pid}/root`);
    const hz = 100;
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const rows: string[][] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/pid`) !== pidNs) continue;
        const status = readFileSync(`/proc/${entry}/status`, 'utf8');
        const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
        const nspid = field('NSpid').split(/\s+/).pop()!;
        const nsppid = this.nsPid(field('PPid'), pidNs);
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cpu = (Number(f[11]) + Number(f[12])) / hz;
        const elapsed = Math.max(0.001, uptime - Number(f[19]) / hz);
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ') || `[${field('Name')}]`;
        const uid = field('Uid').split(/\s+/)[0];
        rows.push([names.get(uid) ?? uid, nspid, nsppid, (100 * (cpu / elapsed)).toFixed(3), `${elapsed.toFixed(3)}s`, '?', `${Math.floor(cpu)}s`, cmdline]);
      } catch {
        // the process ended while we looked
      }
    }
    return rows.sort((a, b) => Number(a[1]) - Number(b[1]));
  }

  // A parent's pid as the container sees it; 0 for one outside the container (the monitor).
  private nsPid(hostPid: string, pidNs: string): string {
    try {
      if (readlinkSync(`/proc/${hostPid}/ns/pid`) !== pidNs) return '0';
      const status = readFileSync(`/proc/${hostPid}/status`, 'utf8');
      return /^NSpid:\s*(.*)$/m.exec(status)?.[1].split(/\s+/).pop() ?? '0';
    } catch {
      return '0';
    }
  }

}
