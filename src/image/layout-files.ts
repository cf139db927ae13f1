// The files of an image layout that is not ours to trust: an archive unpacked into a scratch
// directory, or a directory the user names (oci:DIR, dir:DIR). A file's name is resolved inside
// the layout (openInRoot): a member that is a symlink leads to another member (docker save links
// repeated layers so) and never to a host file such as ~/.docker/config.json or /dev/zero; only
// regular files are members, and every document is read within its cap.
import { closeSync, constants, createReadStream, fstatSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { CliError, messageOf } from '../errors.js';
import { readBoundedFd } from '../util/bounded-read.js';
import { closeQuietly, openInRoot } from '../util/in-root.js';
import { ARCHIVE_INDEX_MAX } from '../util/limits.js';

export class LayoutFiles {
  /**
   * @param root the layout's directory
   * @param directory the user's own directory (oci:, dir:), named in messages; undefined for an
   *   archive's scratch copy, whose files messages call the archive's members
   */
  constructor(
    private readonly root: string,
    private readonly directory?: string,
  ) {}

  // "archive member "x"" or "file "x" of directory D", for messages.
  describe(name: string): string {
    return this.directory ? `file "${name}" of directory ${this.directory}` : `archive member "${name}"`;
  }

  private open(name: string): number {
    let fd: number;
    try {
      fd = openInRoot(this.root, name, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const where = this.directory ? `directory ${this.directory}` : 'archive';
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError('EUSAGE', `${where} lacks "${name}"`);
      throw new CliError('EUSAGE', `${this.describe(name)} cannot be opened inside the ${where}: ${code ?? messageOf(error)}`);
    }
    if (!fstatSync(fd).isFile()) {
      closeQuietly(fd);
      throw new CliError('EUSAGE', `${this.describe(name)} is not a regular file`);
    }
    return fd;
  }

  has(name: string): boolean {
    try {
      closeQuietly(this.open(name));
      return true;
    } catch {
      return false;
    }
  }

  // A document read whole: the layout's own index, a manifest or a config, within its cap.
  read(name: string, limit: number): Buffer {
    const fd = this.open(name);
    try {
      return readBoundedFd(fd, { what: this.describe(name), limit, code: 'EUSAGE' });
    } finally {
      closeQuietly(fd);
    }
  }

  // The layout's own index (manifest.json, index.json) as JSON, within ARCHIVE_INDEX_MAX.
  json<T>(name: string, limit = ARCHIVE_INDEX_MAX): T {
    const bytes = this.read(name, limit);
    try {
      return JSON.parse(bytes.toString('utf8')) as T;
    } catch (error) {
      throw new CliError('EUSAGE', `${this.directory ? `directory ${this.directory}` : 'archive'} has no valid ${name}: ${messageOf(error)}`);
    }
  }

  stream(name: string): Readable {
    return createReadStream('', { fd: this.open(name) });
  }

  isGzip(name: string): boolean {
    const fd = this.open(name);
    try {
      const magic = Buffer.alloc(2);
      readSync(fd, magic, 0, 2, 0);
      return magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      closeSync(fd);
    }
  }
}
