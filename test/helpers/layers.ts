// Inline fixtures for layers and images: file trees as object literals become tar (and gzip) bytes.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export interface EntrySpec {
  path: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Symlink or hardlink target. */
  target?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records, e.g. SCHILY.xattr.NAME for an xattr. */
  pax?: Record<string, string>;
}

export interface BuiltLayer {
  tar: Buffer;
  gz: Buffer;
  diffId: string;
  digest: string;
}

export const sha256 = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

// Packs entries into an uncompressed tar, in the given order (names are used verbatim, so tests can
// craft "../x" or "/abs" entries).
export const makeTar = async (entries: EntrySpec[]): Promise<Buffer> => {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? (typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0))) : undefined;
    const header = {
      name: e.path,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date('2024-01-01T00:00:00Z'),
      linkname: e.target,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: content?.length ?? 0,
      ...(e.pax ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      if (content) p.entry(header, content, (err) => (err ? reject(err) : resolve()));
      else p.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
};

export const makeLayer = async (entries: EntrySpec[]): Promise<BuiltLayer> => {
  const tar = await makeTar(entries);
  const gz = gzipSync(tar, { level: 1 });
  return { tar, gz, diffId: sha256(tar), digest: sha256(gz) };
};
