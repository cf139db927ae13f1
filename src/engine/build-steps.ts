// The steps of a build that change files, each in a build container of its own: RUN runs the
// command (its output streamed), COPY and ADD write into the container's root (resolved inside it,
// never through a symlink the image holds), and the container's changes become one layer.
import { createHash } from 'node:crypto';
import {
  chownSync,
  closeSync,
  constants,
  createReadStream,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { basename, join, posix } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import type { ImageConfig } from '../image-format.js';
import { type BuildContext, contextPath } from '../build/context.js';
import type { MountSpec } from '../build/instructions.js';
import { closeQuietly, openInRoot, openInRootIfExists } from '../util/in-root.js';
import { O_PATH } from '../util/native.js';
import { readBoundedFile } from '../util/bounded-read.js';
import type { PackSource } from '../storage/pack.js';
import { resolveUser } from '../oci/passwd.js';
import type { ContainerRecord } from '../state/containers.js';

const { O_DIRECTORY } = constants;

// Makes `path` (absolute, in the container) and its missing parents inside `root`, root's own
// (0:0 in the container); returns a descriptor of it. Each component is looked up from the root
// (RESOLVE_IN_ROOT: an image's symlink resolves inside) and made with one name after a descriptor.
export const mkdirInRoot = (root: string, path: string): number => {
  const parts = path.split('/').filter(Boolean);
  let fd = openInRoot(root, '/', O_PATH | O_DIRECTORY);
  for (let i = 0; i < parts.length; i++) {
    const partial = `/${parts.slice(0, i + 1).join('/')}`;
    let next = openInRootIfExists(root, partial, O_PATH | O_DIRECTORY);
    if (next === undefined) {
      try {
        mkdirSync(`/proc/self/fd/${fd}/${parts[i]}`, 0o755);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          closeQuietly(fd);
          throw error;
        }
      }
      try {
        next = openInRoot(root, partial, O_PATH | O_DIRECTORY);
      } catch (error) {
        closeQuietly(fd);
        throw new CliError('EUSAGE', `${partial} is not a directory in the image`, { cause: error });
      }
    }
    closeQuietly(fd);
    fd = next;
  }
  return fd;
};

export interface CopyRequest {
  /** Where the sources are: the build context, another stage's or image's root, or heredocs. */
  from: BuildContext;
  sources: string[];
  /** As written: a trailing "/" makes it a directory. Relative to the WORKDIR. */
  dest: string;
  workdir: string;
  chown?: string;
  chmod?: string;
  /** ADD: a local tar archive is unpacked at the destination. */
  extract: boolean;
  /** --parents: each source keeps its path (from the context's top) under the destination. */
  parents?: boolean;
  /** --link: the destination is made as written, looking at nothing the image has there. */
  link?: boolean;
}

// A COPY destination as an absolute, clean path (relative ones from the WORKDIR; ".." taken away
// as Docker does), its trailing "/" kept: it says "a directory".
const destination = (request: CopyRequest): string => {
  const joined = request.dest.startsWith('/') ? request.dest : `${request.workdir.replace(/\/$/, '')}/${request.dest}`;
  const clean = posix.normalize(joined);
  return request.dest.endsWith('/') || /\/\.?$/.test(request.dest) ? `${clean.replace(/\/$/, '')}/` : clean.replace(/\/$/, '') || '/';
};

// What ADD unpacks: a tar, plain or compressed (gzip by Node; bzip2 and xz through the host's
// bzip2 and xz), by its first bytes as Docker decides; anything else is copied as a file.
type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';
const archiveKind = (fd: number): ArchiveKind | undefined => {
  const head = Buffer.alloc(512);
  const n = readSync(fd, head, 0, 512, 0);
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 3 && head.subarray(0, 3).toString() === 'BZh') return 'bzip2';
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return n >= 262 && head.subarray(257, 262).toString() === 'ustar' ? 'tar' : undefined;
};

// An archive's tar stream, from a descriptor the caller keeps (at offset 0).
const tarStream = async (fd: number, kind: ArchiveKind, name: string): Promise<Readable> => {
  if (kind === 'bzip2' || kind === 'xz') {
    const { findHelperBinary, spawnHelper } = await import('../util/exec.js');
    const tool = findHelperBinary(kind);
    if (!tool)
      throw new CliError('EUSAGE', `ADD ${name}: a ${kind} archive needs ${kind} on this host (apt-get install ${kind === 'xz' ? 'xz-utils' : 'bzip2'})`);
    const { native } = await import('../util/native.js');
    const [read, write] = native().pipe();
    let child: ReturnType<typeof spawnHelper>;
    try {
      child = spawnHelper(tool, ['-dc'], [fd, write, null]);
    } finally {
      closeSync(write);
    }
    const out = createReadStream('', { fd: read });
    void child.exited.then((code) => {
      if (code) out.destroy(new CliError('EUSAGE', `ADD ${name}: ${kind} could not decompress it (exit ${code})`));
    });
    return out;
  }
  const input = createReadStream('', { fd, start: 0, autoClose: false });
  if (kind === 'tar') return input;
  const { createGunzip } = await import('node:zlib');
  return input.pipe(createGunzip());
};

// COPY/ADD into a mounted build root: Docker's placement rules (into a directory when the
// destination ends in "/", names one, or takes several sources; a directory's contents, not the
// directory itself), owners 0:0 or --chown's (from the image's own passwd and group files).
export const copyIntoRoot = async (root: string, request: CopyRequest): Promise<void> => {
  const { copyTree } = await import('../storage/copy.js');
  const dest = destination(request);
  const owner = request.chown ? resolveUser(root, request.chown) : undefined;
  const chown: [number, number] = owner ? [owner.uid, owner.gid] : [0, 0];
  const mode = request.chmod !== undefined ? Number.parseInt(request.chmod, 8) : undefined;
  if (mode !== undefined && (Number.isNaN(mode) || mode > 0o7777))
    throw new CliError('EUSAGE', `--chmod=${request.chmod}: use octal permission bits, e.g. 755`);
  const opened = request.sources.map((rel) => {
    const fd = request.from.open(rel);
    return { rel, fd, dir: fstatSync(fd).isDirectory() };
  });
  try {
    const existing = openInRootIfExists(root, dest.replace(/\/+$/, '') || '/', O_PATH);
    const existingDir = existing !== undefined && fstatSync(existing).isDirectory();
    if (existing !== undefined) closeQuietly(existing);
    const intoDir = dest.endsWith('/') || request.sources.length > 1 || existingDir || opened.some((o) => o.dir);
    if (request.sources.length > 1 && !dest.endsWith('/') && !existingDir)
      throw new CliError('EUSAGE', `COPY with more than one source needs a destination directory ending in "/" (${request.dest})`);
    const slash = dest.replace(/\/+$/, '').lastIndexOf('/');
    const targetDir = intoDir ? dest : dest.slice(0, slash) || '/';
    const dirFd = mkdirInRoot(root, targetDir);
    try {
      for (const o of opened) {
        const kind = request.extract && !o.dir ? archiveKind(o.fd) : undefined;
        if (kind) {
          const { unpackStream, unpackError } = await import('../storage/unpack.js');
          const result = await unpackStream(await tarStream(o.fd, kind, o.rel), dirFd, { chown: owner ? chown : true, plain: true });
          const failed = unpackError(result, `ADD ${o.rel}`);
          if (failed) throw failed;
          continue;
        }
        const prefix = o.dir ? '' : intoDir ? basename(o.rel) : dest.slice(slash + 1);
        await copyTree(o.fd, dirFd, { prefix, chown, mode, filter: o.dir ? request.from.filter(o.rel, '') : undefined });
      }
    } finally {
      closeQuietly(dirFd);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('EUSAGE', `COPY to ${request.dest}: ${messageOf(error)}`, { cause: error });
  } finally {
    for (const o of opened) closeQuietly(o.fd);
  }
};

// ADD's URL: downloaded into `dir` (streamed, hashed on the way, TLS verified), under the name its
// path ends with; --checksum, when given, must match.
export const downloadSource = async (url: string, dir: string, checksum?: string, signal?: AbortSignal): Promise<{ name: string; digest: string }> => {
  const { request } = await import('undici');
  const { createHash } = await import('node:crypto');
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  const { Transform } = await import('node:stream');
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || '') || 'download';
  // The name is the copy's (a file's name in a destination directory), never a path here.
  if (name.includes('/') || name === '.' || name === '..' || name.includes('\0'))
    throw new CliError('EUSAGE', `ADD ${url}: its name ${name} is not a file name`);
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, { maxRedirections: 5, signal });
  } catch (error) {
    throw new CliError('EUNREACHABLE', `ADD ${url}: ${messageOf(error)}`, { cause: error });
  }
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new CliError('EREGISTRY', `ADD ${url}: the server answered ${response.statusCode}`);
  }
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(response.body, hashing, createWriteStream(join(dir, name), { mode: 0o600 }));
  const digest = `sha256:${hash.digest('hex')}`;
  if (checksum && checksum !== digest) throw new CliError('EDIGEST', `ADD ${url}: checksum mismatch: --checksum=${checksum}, the download is ${digest}`);
  return { name, digest };
};

export interface RunMounts {
  /** -v specs: cache directories, context binds, secrets. */
  volumes: string[];
  /** rw binds: what to copy (a descriptor, kept open until copied) into the directory that is bound. */
  copies: { fd: number; dir: string }[];
  tmpfs: string[];
  /** Secrets given as environment variables (never in the image). */
  env: string[];
  /** What the cache key takes from the mounts: their specs, and the content of context binds. */
  key: string;
}

// RUN --mount: a cache directory of the user's (kept between builds, by id: the target by default),
// a read-only bind of the build context (resolved inside it), a tmpfs, or a secret the build was
// given (--secret id=…,src=…; read-only at /run/secrets/ID, or as an environment variable).
export const runMounts = (
  mounts: MountSpec[],
  options: {
    workdir: string;
    context: BuildContext;
    cacheDir: string;
    secrets: Record<string, string>;
    /** from= of binds: the image's id (the key), and its mounted root once mounted. */
    sources?: Record<string, { key: string; root?: BuildContext }>;
    /** A fresh directory for an rw bind's copy (writes to it are the step's only). */
    scratch?: () => string;
  },
): RunMounts => {
  const out: RunMounts = { volumes: [], tmpfs: [], env: [], key: '', copies: [] };
  const keys: string[] = [];
  for (const m of mounts) {
    const at = (path: string) => (path.startsWith('/') ? path : `${options.workdir.replace(/\/$/, '')}/${path}`);
    keys.push(JSON.stringify(m));
    switch (m.type) {
      case 'cache': {
        if (!m.target) throw new CliError('EUSAGE', 'RUN --mount=type=cache needs a target');
        const id = m.id ?? at(m.target);
        const dir = join(options.cacheDir, createHash('sha256').update(id).digest('hex').slice(0, 32));
        if (!existsSync(dir)) {
          mkdirSync(dir, { recursive: true, mode: m.mode ?? 0o755 });
          if (m.uid !== undefined || m.gid !== undefined) chownSync(dir, m.uid ?? 0, m.gid ?? 0);
        }
        out.volumes.push(`${dir}:${at(m.target)}${m.readOnly ? ':ro' : ''}`);
        break;
      }
      case 'tmpfs':
        if (!m.target) throw new CliError('EUSAGE', 'RUN --mount=type=tmpfs needs a target');
        out.tmpfs.push(`${at(m.target)}${m.size ? `:size=${m.size}` : ''}`);
        break;
      case 'bind': {
        if (!m.target) throw new CliError('EUSAGE', 'RUN --mount=type=bind needs a target');
        const rel = contextPath(m.source ?? '.');
        const source = m.from ? options.sources?.[m.from] : undefined;
        if (m.from && !source) throw new CliError('EINTERNAL', `RUN --mount from=${m.from} was not looked up`);
        if (source) keys.push(`from:${source.key}`);
        const root = source ? source.root : options.context;
        if (!root) break; // (the key only: the image is mounted once the step runs)
        // A bind of the context shows the directory as it is: refused when .dockerignore leaves something out of it.
        const hidden = source ? undefined : options.context.ignoredUnder(rel);
        if (hidden)
          throw new CliError(
            'EUSAGE',
            `RUN --mount=type=bind of ${m.source ?? '.'}: it holds ${hidden}, which .dockerignore leaves out; bind a directory without it`,
          );
        const fd = root.open(rel);
        if (!m.readOnly && !options.scratch)
          closeQuietly(fd); // (the key only)
        else if (!m.readOnly && options.scratch) {
          // rw: the step writes to a copy of its own, which goes after it (Docker's rule).
          const dir = options.scratch();
          out.copies.push({ fd, dir });
          out.volumes.push(`${dir}:${at(m.target)}`);
        } else {
          try {
            // The path the descriptor names: inside the context or root, whatever symlinks led there.
            out.volumes.push(`${readlinkSync(`/proc/self/fd/${fd}`)}:${at(m.target)}:ro`);
          } finally {
            closeQuietly(fd);
          }
        }
        if (!source) keys.push(options.context.digest([rel]));
        break;
      }
      case 'secret': {
        const id = m.id ?? (m.target ? basename(m.target) : undefined);
        if (!id) throw new CliError('EUSAGE', 'RUN --mount=type=secret needs an id or a target');
        const src = options.secrets[id];
        if (!src) {
          if (m.required) throw new CliError('EUSAGE', `RUN --mount=type=secret,id=${id}: no such secret: give it with --secret id=${id},src=FILE`);
          break;
        }
        if (m.env) {
          const value = readBoundedFile(src, { what: `secret ${id}`, limit: MAX_SECRET, code: 'EUSAGE' });
          out.env.push(`${m.env}=${value.toString('utf8')}`);
        }
        if (m.target || !m.env) out.volumes.push(`${src}:${at(m.target ?? `/run/secrets/${id}`)}:ro`);
        break;
      }
      default:
        throw new CliError('EUSAGE', `RUN --mount=type=${m.type} is not supported yet`);
    }
  }
  out.key = keys.join('\0');
  return out;
};

const MAX_SECRET = 512 << 10;

// A path inside `root` as the root resolves it (its symlinks followed, inside), for the longest
// part of it that exists; the rest is appended as it is (directories the copy makes).
const resolveInside = (root: string, path: string, hops = 0): { existing: string[]; missing: string[] } => {
  const parts = path.split('/').filter(Boolean);
  // The root as the kernel names it (a store reached through a symlink has another name for it).
  const rootFd = openInRoot(root, '/', O_PATH);
  let realRoot: string;
  try {
    realRoot = readlinkSync(`/proc/self/fd/${rootFd}`);
  } finally {
    closeQuietly(rootFd);
  }
  for (let n = parts.length; n >= 0; n--) {
    const fd = openInRootIfExists(root, `/${parts.slice(0, n).join('/')}`, O_PATH);
    if (fd === undefined) continue;
    let existing: string[];
    try {
      if (!fstatSync(fd).isDirectory()) throw new CliError('EUSAGE', `/${parts.slice(0, n).join('/')} is not a directory in the image`);
      const real = readlinkSync(`/proc/self/fd/${fd}`);
      if (real !== realRoot && !real.startsWith(`${realRoot}/`)) throw new CliError('EINTERNAL', `${path} resolved outside the image root`);
      const inside = real === realRoot ? '' : real.slice(realRoot.length + 1);
      existing = inside ? inside.split('/') : [];
      // The first missing component may be a symlink whose target is not there yet: followed (inside
      // the root), as Docker does, so the copy makes its target and the link stays a link.
      const next = parts[n];
      const link = next === undefined ? undefined : lstatSync(`/proc/self/fd/${fd}/${next}`, { throwIfNoEntry: false });
      if (link?.isSymbolicLink()) {
        if (hops >= 40) throw new CliError('EUSAGE', `${path}: too many levels of symbolic links in the image`);
        const target = readlinkSync(`/proc/self/fd/${fd}/${next}`);
        const followed = posix.normalize(`${target.startsWith('/') ? '' : `/${existing.join('/')}`}/${target}/${parts.slice(n + 1).join('/')}`);
        return resolveInside(root, followed, hops + 1);
      }
    } finally {
      closeQuietly(fd);
    }
    return { existing, missing: parts.slice(n) };
  }
  return { existing: [], missing: parts };
};

export interface CopyPlan {
  sources: PackSource[];
  close(): void;
}

// COPY as a layer's tar, written without a container: the destination's existing parents (their
// attributes as the image has them: a copy into /tmp keeps /tmp 1777), then each source under its
// name there, owned 0:0 or by --chown. Docker's placement rules, as copyIntoRoot's. `root` is the
// image's root, mounted, only read.
export const planCopy = (root: string, request: CopyRequest): CopyPlan => {
  const fds: number[] = [];
  const close = () => {
    for (const fd of fds) closeQuietly(fd);
  };
  try {
    const dest = destination(request);
    const owner = request.chown ? resolveUser(root, request.chown) : undefined;
    const [uid, gid] = owner ? [owner.uid, owner.gid] : [0, 0];
    const owners = { uid: () => uid, gid: () => gid };
    const mode = request.chmod !== undefined ? Number.parseInt(request.chmod, 8) : undefined;
    if (mode !== undefined && (Number.isNaN(mode) || mode > 0o7777))
      throw new CliError('EUSAGE', `--chmod=${request.chmod}: use octal permission bits, e.g. 755`);
    const opened = request.sources.map((rel) => {
      const fd = request.from.open(rel);
      fds.push(fd);
      return { rel, fd, dir: fstatSync(fd).isDirectory() };
    });
    const existing = request.link ? undefined : openInRootIfExists(root, dest.replace(/\/+$/, '') || '/', O_PATH);
    const existingDir = existing !== undefined && fstatSync(existing).isDirectory();
    if (existing !== undefined) closeQuietly(existing);
    if (request.sources.length > 1 && !dest.endsWith('/') && !existingDir)
      throw new CliError('EUSAGE', `COPY with more than one source needs a destination directory ending in "/" (${request.dest})`);
    const intoDir = dest.endsWith('/') || request.sources.length > 1 || existingDir || opened.some((o) => o.dir) || Boolean(request.parents);
    const trimmed = dest.replace(/\/+$/, '');
    const slash = trimmed.lastIndexOf('/');
    const place = intoDir ? trimmed : trimmed.slice(0, slash);
    const { existing: parents, missing } = request.link ? { existing: [], missing: place.split('/').filter(Boolean) } : resolveInside(root, place);
    const target = [...parents, ...missing].join('/');
    const sources: PackSource[] = [];
    for (let i = 1; i <= parents.length; i++) {
      const fd = openInRoot(root, `/${parents.slice(0, i).join('/')}`, O_DIRECTORY);
      fds.push(fd);
      sources.push({ root: fd, prefix: parents.slice(0, i).join('/'), shallow: true });
    }
    const under = (name: string) => (target ? `${target}/${name}` : name);
    for (const o of opened) {
      if (request.parents && o.rel) {
        // --parents: the source under its own path; the directories between are made as new ones.
        const prefix = under(o.rel);
        sources.push({ root: o.fd, prefix, filter: o.dir ? request.from.filter(o.rel, prefix) : undefined, owners, mode });
      } else if (o.dir) {
        const inner = request.from.filter(o.rel, target);
        // The directory's contents go into the target, which keeps its own attributes.
        const filter = (name: string, isDirectory: boolean) => (name === target ? 'descend' : inner(name, isDirectory));
        sources.push({ root: o.fd, prefix: target, filter, owners, mode });
      } else sources.push({ root: o.fd, prefix: under(intoDir ? basename(o.rel) : trimmed.slice(slash + 1)), owners, mode });
    }
    return { sources, close };
  } catch (error) {
    close();
    throw error;
  }
};

// Applies a layer's directory onto `merged` (both as overlayfs keeps them: whiteouts are 0/0
// character devices, opaque directories marked): what the layer deletes or makes opaque goes from
// merged first, then the layer's entries are written over it (--squash).
export const mergeLayer = async (layer: string, merged: string, chown: boolean): Promise<void> => {
  const { isOpaque, packTree } = await import('./../storage/pack.js');
  const { unpackStream, unpackError } = await import('../storage/unpack.js');
  const { removeTree } = await import('../storage/layer-store.js');
  const { PassThrough } = await import('node:stream');
  const clear = (dir: string, rel: string): void => {
    for (const name of readdirSync(join(layer, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(layer, path));
      const whiteout = st.isCharacterDevice() && st.rdev === 0;
      if (whiteout || (st.isDirectory() && isOpaque(join(layer, path)))) removeTree(join(dir, path));
      else if (!st.isDirectory()) rmSync(join(dir, path), { recursive: true, force: true });
      if (st.isDirectory()) {
        const there = lstatSync(join(dir, path), { throwIfNoEntry: false });
        if (there && !there.isDirectory()) rmSync(join(dir, path), { force: true });
        clear(dir, path);
      }
    }
  };
  clear(merged, '');
  const tar = new PassThrough();
  const packing = packTree(layer, tar, { layer: true });
  packing.catch((error: Error) => tar.destroy(error));
  const [result] = await Promise.all([unpackStream(tar, merged, { chown }), packing]);
  const failed = unpackError(result, 'the squashed layer');
  if (failed) throw failed;
};

// The paths a build container's runtime mounted over (its bundle's mounts): what the runtime made
// in the container's upper directory for them is not the step's change.
export const mountTargets = (containerDir: string): Set<string> => {
  try {
    const spec = JSON.parse(readFileSync(join(containerDir, 'bundle', 'config.json'), 'utf8')) as { mounts?: { destination: string }[] };
    return new Set((spec.mounts ?? []).map((m) => m.destination.replace(/^\/+/, '').replace(/\/+$/, '')));
  } catch {
    return new Set();
  }
};

// The config a step's result has: the stage's, with the new layer's diff id and a history line.
export const withLayer = (config: ImageConfig, diffId: string | undefined, createdBy: string, created: string): ImageConfig => ({
  ...config,
  created,
  rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, ...(diffId ? [diffId] : [])] },
  history: [...(config.history ?? []), { created, created_by: createdBy, ...(diffId ? {} : { empty_layer: true }) }],
});

export type { ContainerRecord };
