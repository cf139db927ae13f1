// Safe layer unpacking: a tar stream becomes a directory tree that overlayfs can stack. Nothing is
// ever written outside `target`: ".." components are refused, absolute names are taken relative to
// the target, no entry is created through a symlink, and hardlinks must point inside the layer.
// Whiteouts (.wh.NAME) become 0/0 character devices and opaque markers become user.overlay.opaque.
// Runs inside the rootless user namespace, so chown to an image uid lands on the mapped subuid.
import { closeSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, write, chmodSync, constants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { CliError } from '../errors.js';
import { log } from '../util/log.js';
import { native } from '../util/native.js';

export interface UnpackOptions {
  /** Change ownership to the uid/gid in the tar (false in single-uid mode: everything stays ours). */
  chown: boolean;
}

export interface UnpackReport {
  /** Bytes of regular file content written. */
  size: number;
  entries: number;
  /** Device nodes that a rootless user cannot create and were left out. */
  skippedDevices: string[];
}

// tar-stream fills `pax` with a PAX header's records (xattrs among them).
type Headers = Omit<Header, 'pax'> & { pax?: Record<string, string> | null; type: Header['type'] | string };

// Files up to this size are buffered and written on the thread pool; larger ones are streamed.
const SMALL_FILE = 1024 * 1024;
const errno = osConstants.errno;
const writeAsync = promisify(write) as (fd: number, buffer: Buffer, offset: number) => Promise<{ bytesWritten: number }>;
const MAX_IN_FLIGHT = Number(process.env.SKIFF_UNPACK_INFLIGHT ?? 64);

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

const refuse = (name: string, why: string): CliError => new CliError('EUNPACK', `refusing layer entry "${name}": ${why}`);

const outsideRange = (header: { name: string; uid?: number; gid?: number }): CliError =>
  new CliError('EUNPACK', `"${header.name}" is owned by uid ${header.uid}/gid ${header.gid}, outside this user's /etc/subuid or /etc/subgid range: give the user a range of at least 65536 ids`);

// Splits an entry name into safe components: "./a//b/" → ["a","b"]; "/etc/x" → ["etc","x"].
export const safeComponents = (name: string): string[] => {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse(name, 'it contains ".."');
  if (parts.some((p) => p.includes('\0'))) throw refuse(name, 'it contains a NUL byte');
  return parts;
};

class Unpacker {
  private readonly knownDirs = new Set<string>(['']);
  private readonly dirTimes: { path: string; mtime: Date }[] = [];
  readonly report: UnpackReport = { size: 0, entries: 0, skippedDevices: [] };
  private readonly umask = process.umask();
  // Small-file writes under way, by entry path.
  private readonly pending = new Map<string, Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly target: string,
    private readonly options: UnpackOptions,
  ) {}

  // Makes sure every parent of `parts` is a real directory inside the target (never a symlink).
  private ensureParents(parts: string[], name: string): string {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i];
      if (this.knownDirs.has(rel)) continue;
      const abs = join(this.target, rel);
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        mkdirSync(abs, 0o755);
        this.knownDirs.add(rel);
        continue;
      }
      if (st.isSymbolicLink()) throw refuse(name, `its parent "${rel}" is a symlink, which could lead outside the layer`);
      if (!st.isDirectory()) throw refuse(name, `its parent "${rel}" is not a directory`);
      this.knownDirs.add(rel);
    }
    return join(this.target, ...parts);
  }

  // Removes whatever stands at `abs` so the entry can take its place (tar semantics: last one wins).
  private async clear(abs: string, rel: string, keepDir: boolean): Promise<void> {
    await this.pending.get(rel);
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      return;
    }
    if (keepDir && st.isDirectory()) return;
    // Files being written below a directory that goes must be finished first.
    if (st.isDirectory()) await this.drain();
    rmSync(abs, { recursive: true, force: true });
    if (this.knownDirs.has(rel)) for (const dir of [...this.knownDirs]) if (dir === rel || dir.startsWith(`${rel}/`)) this.knownDirs.delete(dir);
  }

  // Changes ownership unless the entry is root's: what we create already belongs to root (0:0)
  // inside the namespace, so most entries of an image need no chown at all.
  private own(abs: string, header: Headers, fd?: number): boolean {
    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    if (!this.options.chown || (uid === 0 && gid === 0)) return false;
    try {
      if (fd === undefined) lchownSync(abs, uid, gid);
      else fchownSync(fd, uid, gid);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EINVAL') throw outsideRange(header);
      throw error;
    }
  }

  private xattrs(abs: string, header: Headers): void {
    const pax = header.pax;
    if (!pax) return;
    for (const [key, value] of Object.entries(pax)) {
      if (!key.startsWith('SCHILY.xattr.')) continue;
      const name = key.slice('SCHILY.xattr.'.length);
      try {
        native().lsetxattr(abs, name, Buffer.from(value, 'latin1'));
      } catch (error) {
        log.debug(`xattr ${name} on ${header.name} not kept: ${(error as Error).message}`);
      }
    }
  }

  async entry(header: Headers, stream: Readable): Promise<void> {
    this.report.entries++;
    const parts = safeComponents(header.name);
    if (parts.length === 0) {
      // The layer's root itself: take its mode and owner only.
      stream.resume();
      return;
    }
    const base = parts[parts.length - 1];
    const rel = parts.join('/');
    const abs = this.ensureParents(parts, header.name);
    const mode = (header.mode ?? 0o644) & 0o7777;

    if (base === OPAQUE) {
      stream.resume();
      native().lsetxattr(join(abs, '..'), 'user.overlay.opaque', Buffer.from('y'));
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      stream.resume();
      const hiddenRel = [...parts.slice(0, -1), base.slice(WHITEOUT_PREFIX.length)].join('/');
      const hidden = join(this.target, hiddenRel);
      await this.clear(hidden, hiddenRel, false);
      native().mknod(hidden, constants.S_IFCHR, 0, 0);
      return;
    }

    switch (header.type) {
      case 'directory': {
        stream.resume();
        await this.clear(abs, rel, true);
        let created = true;
        try {
          mkdirSync(abs, mode & 0o777);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          created = false;
        }
        this.knownDirs.add(rel);
        const chowned = this.own(abs, header);
        if (!created || (mode & ~this.umask) !== mode || (chowned && mode & 0o6000)) chmodSync(abs, mode);
        this.xattrs(abs, header);
        if (header.mtime) this.dirTimes.push({ path: abs, mtime: header.mtime });
        return;
      }
      case 'file':
      case 'contiguous-file': {
        if ((header.size ?? 0) <= SMALL_FILE) return this.writeSmall(abs, rel, header, mode, stream);
        await this.pending.get(rel);
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
        let fd: number;
        try {
          fd = openSync(abs, flags, mode & 0o777);
        } catch (error) {
          // Something already stands there (tar semantics: the later entry wins).
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          await this.clear(abs, rel, false);
          fd = openSync(abs, flags, mode & 0o777);
        }
        try {
          // Large files are written on the thread pool, chunk by chunk, leaving the main thread to
          // parse the other layers meanwhile.
          for await (const chunk of stream) {
            const buffer = chunk as Buffer;
            for (let offset = 0; offset < buffer.length; ) offset += (await writeAsync(fd, buffer, offset)).bytesWritten;
            this.report.size += buffer.length;
          }
          const chowned = this.own(abs, header, fd);
          // The umask trims the mode given to open, and chown clears setuid/setgid: set it again then.
          if ((mode & ~this.umask) !== mode || (chowned && mode & 0o6000)) fchmodSync(fd, mode);
          if (header.mtime) futimesSync(fd, header.mtime, header.mtime);
        } finally {
          closeSync(fd);
        }
        this.xattrs(abs, header);
        return;
      }
      case 'symlink': {
        stream.resume();
        await this.clear(abs, rel, false);
        symlinkSync(header.linkname ?? '', abs);
        this.own(abs, header);
        if (header.mtime) lutimesSync(abs, header.mtime, header.mtime);
        return;
      }
      case 'link': {
        stream.resume();
        const targetParts = safeComponents(header.linkname ?? '');
        if (targetParts.length === 0) throw refuse(header.name, 'hardlink to the layer root');
        const targetAbs = this.ensureParents(targetParts, header.name);
        await this.pending.get(targetParts.join('/'));
        let st;
        try {
          st = lstatSync(targetAbs);
        } catch {
          throw refuse(header.name, `hardlink target "${header.linkname}" is not in this layer`);
        }
        if (st.isDirectory()) throw refuse(header.name, 'hardlink to a directory');
        await this.clear(abs, rel, false);
        linkSync(targetAbs, abs);
        return;
      }
      case 'fifo': {
        stream.resume();
        await this.clear(abs, rel, false);
        native().mknod(abs, constants.S_IFIFO | mode, 0, 0);
        this.own(abs, header);
        chmodSync(abs, mode);
        return;
      }
      case 'character-device':
      case 'block-device': {
        stream.resume();
        // A rootless user cannot create device nodes; the runtime bind-mounts /dev anyway.
        this.report.skippedDevices.push(rel);
        return;
      }
      default:
        stream.resume();
        log.debug(`layer entry ${header.name} of type ${header.type} ignored`);
    }
  }

  // Small files are written by the native addon on the thread pool, many at once; the order of
  // entries still holds because any later entry that touches a pending path waits for it first.
  private async writeSmall(abs: string, rel: string, header: Headers, mode: number, stream: Readable): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    this.report.size += data.length;
    await this.pending.get(rel);
    while (this.pending.size >= MAX_IN_FLIGHT) await Promise.race(this.pending.values());
    if (this.failure) throw this.failure;
    const uid = this.options.chown ? (header.uid ?? 0) : 0;
    const gid = this.options.chown ? (header.gid ?? 0) : 0;
    const ms = header.mtime ? header.mtime.getTime() : -1;
    const write = () => native().writeFile(abs, data, mode, uid, gid, ms < 0 ? -1 : Math.floor(ms / 1000), ms < 0 ? 0 : (ms % 1000) * 1e6);
    const job = (async () => {
      let err = await write();
      if (err === errno.EEXIST) {
        // Something already stands there (tar semantics: the later entry wins).
        this.pending.delete(rel);
        await this.clear(abs, rel, false);
        err = await write();
      }
      if (err === errno.EINVAL) throw outsideRange(header);
      if (err) throw new CliError('EUNPACK', `cannot write ${header.name}: ${Object.keys(errno).find((k) => errno[k as keyof typeof errno] === err) ?? `errno ${err}`}`);
      this.xattrs(abs, header);
    })().catch((error) => {
      this.failure ??= error;
    });
    const tracked = job.finally(() => {
      if (this.pending.get(rel) === tracked) this.pending.delete(rel);
    });
    this.pending.set(rel, tracked);
  }

  // Waits for every pending write.
  private async drain(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending.values());
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<void> {
    await this.drain();
    for (const { path, mtime } of this.dirTimes.reverse()) utimesSync(path, mtime, mtime);
  }
}

// Unpacks an uncompressed tar stream into `target` (an existing, empty directory).
export const unpackLayer = async (tarStream: Readable, target: string, options: UnpackOptions): Promise<UnpackReport> => {
  const { extract } = await import('tar-stream');
  // The source may have failed while tar-stream loaded; piping a destroyed stream would hang.
  if (tarStream.destroyed) throw tarStream.errored ?? new Error('the layer stream closed early');
  const unpacker = new Unpacker(target, options);
  const ex = extract();
  tarStream.on('error', (error) => ex.destroy(error));
  tarStream.pipe(ex);
  for await (const entry of ex) await unpacker.entry(entry.header as Headers, entry as unknown as Readable);
  await unpacker.finish();
  return unpacker.report;
};
