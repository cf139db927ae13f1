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
  statSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import { basename, join, posix } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import type { ImageConfig } from '../image-format.js';
import { type BuildContext, contextPath } from '../build/context.js';
import type { MountSpec } from '../build/instructions.js';
import { closeQuietly, mkdirInRoot, openInRoot, openInRootIfExists } from '../util/in-root.js';
import { O_PATH } from '../util/native.js';
import { readBoundedFile, tooLargeError } from '../util/bounded-read.js';
import { BUILD_SECRET_ENV_MAX } from '../util/limits.js';
import type { PackSource } from '../storage/pack.js';
import { resolveUser } from '../oci/passwd.js';
import type { ContainerRecord } from '../state/containers.js';

const { O_DIRECTORY } = constants;

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

interface Placement {
  dest: string;
  /** --chown's ids (the image's own passwd and group files), else 0:0. */
  ids: [number, number];
  chowned: boolean;
  mode?: number;
  /** The sources, open (the caller closes them). */
  opened: { rel: string; fd: number; dir: boolean }[];
  /** Into a directory: the destination ends in "/", is one, takes several sources or a directory's contents. */
  intoDir: boolean;
  /** The destination without its trailing "/", and where its last name starts. */
  trimmed: string;
  slash: number;
}

// Docker's placement rules for a COPY or ADD into `root`, and its sources opened. --link looks at
// nothing the image has at the destination.
const placement = (root: string, request: CopyRequest, opened: Placement['opened']): Placement => {
  const dest = destination(request);
  const owner = request.chown ? resolveUser(root, request.chown) : undefined;
  const mode = request.chmod !== undefined ? Number.parseInt(request.chmod, 8) : undefined;
  if (mode !== undefined && (Number.isNaN(mode) || mode > 0o7777))
    throw new CliError('EUSAGE', `--chmod=${request.chmod}: use octal permission bits, e.g. 755`);
  for (const rel of request.sources) {
    const source = { rel, fd: request.from.open(rel), dir: false };
    opened.push(source); // (kept, to be closed, whatever fails next)
    source.dir = fstatSync(source.fd).isDirectory();
  }
  const existing = request.link ? undefined : openInRootIfExists(root, dest.replace(/\/+$/, '') || '/', O_PATH);
  const existingDir = existing !== undefined && fstatSync(existing).isDirectory();
  if (existing !== undefined) closeQuietly(existing);
  if (request.sources.length > 1 && !dest.endsWith('/') && !existingDir)
    throw new CliError('EUSAGE', `COPY with more than one source needs a destination directory ending in "/" (${request.dest})`);
  const intoDir = dest.endsWith('/') || request.sources.length > 1 || existingDir || opened.some((o) => o.dir) || Boolean(request.parents);
  const trimmed = dest.replace(/\/+$/, '');
  return { dest, ids: owner ? [owner.uid, owner.gid] : [0, 0], chowned: Boolean(owner), mode, opened, intoDir, trimmed, slash: trimmed.lastIndexOf('/') };
};

// COPY/ADD into a mounted build root: Docker's placement rules (into a directory when the
// destination ends in "/", names one, or takes several sources; a directory's contents, not the
// directory itself), owners 0:0 or --chown's (from the image's own passwd and group files).
export const copyIntoRoot = async (root: string, request: CopyRequest): Promise<void> => {
  const { copyTree } = await import('../storage/copy.js');
  const opened: Placement['opened'] = [];
  try {
    const { dest, ids, chowned, mode, intoDir, slash } = placement(root, { ...request, link: false, parents: false }, opened);
    const dirFd = mkdirInRoot(root, intoDir ? dest : dest.replace(/\/+$/, '').slice(0, slash) || '/');
    try {
      for (const o of opened) {
        const kind = request.extract && !o.dir ? archiveKind(o.fd) : undefined;
        if (kind) {
          const { unpackStream, unpackError } = await import('../storage/unpack.js');
          const result = await unpackStream(await tarStream(o.fd, kind, o.rel), dirFd, { chown: chowned ? ids : true, plain: true });
          const failed = unpackError(result, `ADD ${o.rel}`);
          if (failed) throw failed;
          continue;
        }
        const prefix = o.dir ? '' : intoDir ? basename(o.rel) : dest.replace(/\/+$/, '').slice(slash + 1);
        await copyTree(o.fd, dirFd, { prefix, chown: ids, mode, filter: o.dir ? request.from.filter(o.rel, '') : undefined });
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
  /** -v specs: cache directories, binds, secrets. */
  volumes: string[];
  /** rw binds: what to copy (a descriptor, kept open until copied) into the directory that is bound. */
  copies: { fd: number; dir: string }[];
  tmpfs: string[];
  /** Secrets given as environment variables (never in the image). */
  env: string[];
}

const mountTarget = (m: MountSpec, workdir: string): string => {
  if (!m.target) throw new CliError('EUSAGE', `RUN --mount=type=${m.type} needs a target`);
  return m.target.startsWith('/') ? m.target : `${workdir.replace(/\/$/, '')}/${m.target}`;
};

// A secret mount's secret: given (unless not required), and one given as a variable within its cap.
// (Checked with the key: a step is refused for them even when it is cached.) Its file, or none.
const checkSecret = (m: MountSpec, secrets: Record<string, string>): { id: string; src?: string } => {
  const id = m.id ?? (m.target ? basename(m.target) : undefined);
  if (!id) throw new CliError('EUSAGE', 'RUN --mount=type=secret needs an id or a target');
  const src = secrets[id];
  if (!src && m.required) throw new CliError('EUSAGE', `RUN --mount=type=secret,id=${id}: no such secret: give it with --secret id=${id},src=FILE`);
  if (src && m.env && statSync(src).size > BUILD_SECRET_ENV_MAX) throw tooLargeError({ what: `secret ${id}`, limit: BUILD_SECRET_ENV_MAX, code: 'EUSAGE' });
  return { id, src };
};

// What a RUN step's cache key takes from its mounts: their specs, the content of a context bind, a
// from= bind's image id. A context bind of a directory holding what .dockerignore leaves out is
// refused here, before the step runs (a bind shows the directory as it is).
export const mountsKey = (mounts: MountSpec[], context: BuildContext, sourceKeys: Record<string, string>, secrets: Record<string, string>): string => {
  const keys: string[] = [];
  for (const m of mounts) {
    keys.push(JSON.stringify(m));
    if (m.type === 'secret') checkSecret(m, secrets);
    if (m.type !== 'bind') continue;
    const rel = contextPath(m.source ?? '.');
    if (m.from) {
      keys.push(`from:${sourceKeys[m.from]}`);
      continue;
    }
    const hidden = context.ignoredUnder(rel);
    if (hidden)
      throw new CliError(
        'EUSAGE',
        `RUN --mount=type=bind of ${m.source ?? '.'}: it holds ${hidden}, which .dockerignore leaves out; bind a directory without it`,
      );
    keys.push(context.digest([rel]));
  }
  return keys.join('\0');
};

// RUN --mount: a cache directory of the user's (kept between builds, by id: the target by default),
// a bind of the build context or of a mounted stage or image root (resolved inside it; rw: a copy
// of its own, made in `scratch`), a tmpfs, or a secret the build was given (--secret id=…,src=…;
// read-only at /run/secrets/ID, or as an environment variable).
export const runMounts = (
  mounts: MountSpec[],
  options: {
    workdir: string;
    context: BuildContext;
    cacheDir: string;
    secrets: Record<string, string>;
    /** from= of binds: their mounted roots. */
    roots: Record<string, BuildContext>;
    /** A fresh directory for an rw bind's copy (writes to it are the step's only). */
    scratch: () => string;
  },
): RunMounts => {
  const out: RunMounts = { volumes: [], tmpfs: [], env: [], copies: [] };
  for (const m of mounts) {
    switch (m.type) {
      case 'cache': {
        const target = mountTarget(m, options.workdir);
        const id = m.id ?? target;
        const dir = join(options.cacheDir, createHash('sha256').update(id).digest('hex').slice(0, 32));
        if (!existsSync(dir)) {
          mkdirSync(dir, { recursive: true, mode: m.mode ?? 0o755 });
          if (m.uid !== undefined || m.gid !== undefined) chownSync(dir, m.uid ?? 0, m.gid ?? 0);
        }
        out.volumes.push(`${dir}:${target}${m.readOnly ? ':ro' : ''}`);
        break;
      }
      case 'tmpfs':
        out.tmpfs.push(`${mountTarget(m, options.workdir)}${m.size ? `:size=${m.size}` : ''}`);
        break;
      case 'bind': {
        const target = mountTarget(m, options.workdir);
        const root = m.from ? options.roots[m.from] : options.context;
        if (!root) throw new CliError('EINTERNAL', `RUN --mount from=${m.from} was not mounted`);
        const fd = root.open(contextPath(m.source ?? '.'));
        if (!m.readOnly) {
          // rw: the step writes to a copy of its own, which goes after it (Docker's rule).
          const dir = options.scratch();
          out.copies.push({ fd, dir });
          out.volumes.push(`${dir}:${target}`);
          break;
        }
        try {
          // The path the descriptor names: inside the context or root, whatever symlinks led there.
          out.volumes.push(`${readlinkSync(`/proc/self/fd/${fd}`)}:${target}:ro`);
        } finally {
          closeQuietly(fd);
        }
        break;
      }
      case 'secret': {
        const { id, src } = checkSecret(m, options.secrets);
        if (!src) break;
        if (m.env) {
          const value = readBoundedFile(src, { what: `secret ${id}`, limit: BUILD_SECRET_ENV_MAX, code: 'EUSAGE' });
          out.env.push(`${m.env}=${value.toString('utf8')}`);
        }
        if (m.target || !m.env) out.volumes.push(`${src}:${m.target ? mountTarget(m, options.workdir) : `/run/secrets/${id}`}:ro`);
        break;
      }
      default:
        throw new CliError('EUSAGE', `RUN --mount=type=${m.type} is not supported yet`);
    }
  }
  return out;
};

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
  const opened: Placement['opened'] = [];
  const fds: number[] = [];
  const close = () => {
    for (const fd of [...opened.map((o) => o.fd), ...fds]) closeQuietly(fd);
  };
  try {
    const { ids, mode, intoDir, trimmed, slash } = placement(root, request, opened);
    const owners = { uid: () => ids[0], gid: () => ids[1] };
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
