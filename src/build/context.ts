// The build context: a directory read in place, never copied whole. COPY and ADD sources are opened
// inside it (openat2 RESOLVE_IN_ROOT): a symlink in the context that points outside resolves inside
// it, so a build never reads the host's files. .dockerignore leaves entries out of both the copies
// and the cache keys.
import { createHash } from 'node:crypto';
import { type BigIntStats, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { CliError } from '../errors.js';
import { closeQuietly, openInRoot } from '../util/in-root.js';
import type { FileHashes } from './file-hashes.js';
import { type IgnoreMatcher, ignoreMatcher, parseIgnore } from './ignore.js';

const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW, O_DIRECTORY } = constants;
const GLOB = /[*?[\\]/;

// A source as Docker names it, cleaned to a path relative to the context ("" is the context itself).
export const contextPath = (source: string): string => {
  const clean = posix.normalize(`/${source}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return clean === '.' ? '' : clean;
};

// One glob component (Go's filepath.Match: * ? [..] and \ escapes) as a RegExp.
const componentPattern = (glob: string): RegExp => {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) re += `\\${glob[++i]}`;
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new CliError('EUSAGE', `bad pattern ${glob}: unclosed [`);
      re += `[${glob
        .slice(i + 1, end)
        .replace(/^\^/, '^')
        .replace(/^!/, '^')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
};

export class BuildContext {
  constructor(
    readonly root: string,
    private readonly ignore: IgnoreMatcher,
    /** COPY --exclude: .dockerignore's rules, matched against paths inside each source (BuildKit's). */
    private readonly excludes?: IgnoreMatcher,
    /** The content hashes of the last build, by stat (the build's own context only). */
    readonly hashes?: FileHashes,
  ) {}

  // The same context, for one COPY with --exclude patterns.
  excluding(patterns: string[]): BuildContext {
    return new BuildContext(this.root, this.ignore, ignoreMatcher(parseIgnore(patterns.join('\n'))), this.hashes);
  }

  // A file's content hash: recorded, when its stat is unchanged since the last build; else read.
  private fileHash(rel: string, fd: number | undefined, at: string, buffer: Buffer, stat?: BigIntStats): string {
    const st = this.hashes ? (stat ?? (fd !== undefined ? fstatSync(fd, { bigint: true }) : lstatSync(at, { bigint: true }))) : undefined;
    const known = st && this.hashes!.get(rel, st);
    if (known) return known;
    const own = fd ?? openSync(at, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      const hash = createHash('sha256');
      for (let n = readSync(own, buffer, 0, buffer.length, null); n > 0; n = readSync(own, buffer, 0, buffer.length, null)) hash.update(buffer.subarray(0, n));
      const digest = hash.digest('hex');
      if (st) this.hashes!.put(rel, st, digest);
      return digest;
    } finally {
      if (fd === undefined) closeQuietly(own);
    }
  }

  // Whether the .dockerignore leaves out this context path.
  ignored(rel: string): boolean {
    return rel !== '' && this.ignore.ignored(rel);
  }

  // Whether a COPY's --exclude leaves out `path` of the source `source` (a source by its name).
  private excluded(source: string, path: string): boolean {
    if (!this.excludes) return false;
    const inside = path === source ? source.slice(source.lastIndexOf('/') + 1) : path.slice(source ? source.length + 1 : 0);
    return inside !== '' && this.excludes.ignored(inside);
  }

  // Left out of a copy of `source`: by .dockerignore or by --exclude; 'descend' where an exception may match inside.
  private leftOut(source: string, path: string, isDirectory: boolean): boolean | 'descend' {
    const ignored = this.ignored(path) ? this.ignore.mayMatchInside(path) : undefined;
    const excluded = this.excluded(source, path) ? this.excludes!.mayMatchInside(path.slice(source ? source.length + 1 : 0)) : undefined;
    if (ignored === undefined && excluded === undefined) return false;
    return isDirectory && ignored !== false && excluded !== false ? 'descend' : true;
  }

  // The context paths a COPY source names: itself, or what its glob matches (sorted), less what
  // .dockerignore leaves out. None is an error naming the source, as Docker's.
  expand(source: string): string[] {
    const rel = contextPath(source);
    const found = GLOB.test(rel) ? this.glob(rel) : this.exists(rel) ? [rel] : [];
    const kept = found.filter((r) => !this.ignored(r) && !this.excluded(r, r));
    if (!kept.length)
      throw new CliError(
        'EUSAGE',
        `COPY source ${source}: no such file or directory in the build context${found.length ? ' (left out by .dockerignore)' : ''}`,
      );
    return kept;
  }

  // Opens a context path (no write, no blocking on a fifo), resolved inside the context. A symlink
  // that leads to what .dockerignore leaves out leads nowhere (Docker never has those files).
  open(rel: string): number {
    const fd = openInRoot(this.root, rel || '.', O_RDONLY | O_NONBLOCK);
    const real = readlinkSync(`/proc/self/fd/${fd}`);
    const top = this.realRoot();
    const inside = real === top ? '' : real.startsWith(`${top}/`) ? real.slice(top.length + 1) : rel;
    if (inside !== rel && this.ignored(inside)) {
      closeQuietly(fd);
      throw new CliError(
        'EUSAGE',
        `COPY source ${rel}: no such file or directory in the build context (it leads to ${inside}, which .dockerignore leaves out)`,
      );
    }
    return fd;
  }

  private top?: string;

  // The context's own path as the kernel names it (the context may be reached through a symlink).
  private realRoot(): string {
    if (this.top === undefined) {
      const fd = openInRoot(this.root, '.', O_RDONLY | O_DIRECTORY);
      try {
        this.top = readlinkSync(`/proc/self/fd/${fd}`);
      } finally {
        closeQuietly(fd);
      }
    }
    return this.top;
  }

  // The first path under `rel` that .dockerignore leaves out, if any (what a bind would show).
  ignoredUnder(rel: string): string | undefined {
    if (this.ignored(rel)) return rel;
    const fd = this.open(rel);
    try {
      if (!fstatSync(fd).isDirectory()) return undefined;
      const walk = (dirFd: number, dir: string): string | undefined => {
        for (const child of readdirSync(`/proc/self/fd/${dirFd}`)) {
          const path = dir ? `${dir}/${child}` : child;
          if (this.ignored(path)) return path;
          const at = `/proc/self/fd/${dirFd}/${child}`;
          if (!lstatSync(at).isDirectory()) continue;
          const cfd = openSync(at, O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
          try {
            const found = walk(cfd, path);
            if (found) return found;
          } finally {
            closeQuietly(cfd);
          }
        }
        return undefined;
      };
      return walk(fd, rel);
    } finally {
      closeQuietly(fd);
    }
  }

  // A filter for packing `rel` (a directory whose contents are copied): .dockerignore by context path.
  filter(rel: string, prefix: string): (name: string, isDirectory: boolean) => boolean | 'descend' {
    return (name, isDirectory) => {
      const inside = prefix ? name.slice(prefix.length + 1) : name;
      const path = rel ? `${rel}/${inside}` : inside;
      const out = this.leftOut(rel, path, isDirectory);
      return out === false ? true : out === 'descend' ? 'descend' : false;
    };
  }

  // A digest of what the sources hold (names, types, modes, link targets, contents; not times or
  // owners, as Docker's cache): the part of a COPY's cache key that the context gives.
  digest(sources: string[]): string {
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(1 << 20);
    const walk = (fd: number, st: Stats, rel: string, source: string, at: string): void => {
      hash.update(`${rel}\0${st.mode.toString(8)}\0`);
      if (st.isDirectory()) {
        for (const child of readdirSync(`/proc/self/fd/${fd}`).sort()) {
          const path = rel ? `${rel}/${child}` : child;
          const childAt = `/proc/self/fd/${fd}/${child}`;
          const cst = lstatSync(childAt, { bigint: true });
          if (this.leftOut(source, path, cst.isDirectory()) === true) continue;
          if (cst.isSymbolicLink()) hash.update(`${path}\0link\0${readlinkSync(childAt)}\0`);
          else if (cst.isFile()) hash.update(`${path}\0${cst.mode.toString(8)}\0${this.fileHash(path, undefined, childAt, buffer, cst)}\0`);
          else if (cst.isDirectory()) {
            const cfd = openSync(childAt, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_DIRECTORY);
            try {
              walk(cfd, fstatSync(cfd), path, source, childAt);
            } finally {
              closeQuietly(cfd);
            }
          } else hash.update(`${path}\0${cst.mode.toString(8)}\0${cst.rdev}\0`);
        }
      } else if (st.isFile()) hash.update(this.fileHash(rel, fd, at, buffer));
    };
    for (const rel of sources) {
      const fd = this.open(rel);
      try {
        walk(fd, fstatSync(fd), rel, rel, `/proc/self/fd/${fd}`);
      } finally {
        closeQuietly(fd);
      }
    }
    return `sha256:${hash.digest('hex')}`;
  }

  private exists(rel: string): boolean {
    try {
      closeQuietly(this.open(rel));
      return true;
    } catch {
      return false;
    }
  }

  // Matches a pattern component by component from the context's top, inside the context.
  private glob(rel: string): string[] {
    let found = [''];
    for (const part of rel.split('/')) {
      const next: string[] = [];
      for (const dir of found) {
        if (!GLOB.test(part)) {
          const path = dir ? `${dir}/${part}` : part;
          if (this.exists(path)) next.push(path);
          continue;
        }
        let fd: number;
        try {
          fd = openInRoot(this.root, dir || '.', O_RDONLY | O_DIRECTORY);
        } catch {
          continue;
        }
        try {
          const re = componentPattern(part);
          for (const name of readdirSync(`/proc/self/fd/${fd}`).sort()) if (re.test(name)) next.push(dir ? `${dir}/${name}` : name);
        } finally {
          closeQuietly(fd);
        }
      }
      found = next;
    }
    return found;
  }
}
