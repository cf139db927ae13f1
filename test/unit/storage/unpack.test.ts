// The native layer unpacker (native/addon/unpack.c) driven directly: the tar and gzip formats it
// reads (PAX, GNU long names, several gzip members), a later entry replacing an earlier one, what it
// refuses, and its digests. Crafted layers pulled by an unprivileged user are in
// test/system/020-pull-safety.test.ts; this file runs as whoever runs the tests.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTar, sha256 } from '../../helpers/layers.js';
import { unpackLayer, unpackStream } from '../../../src/storage/unpack.js';
import { native } from '../../../src/util/native.js';

let root: string;
let target: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'skiff-unpack-'));
  target = join(root, 'diff');
  mkdirSync(target);
  writeFileSync(join(root, 'precious'), 'do not touch\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

// A stream of `data` in chunks of `size` bytes, as a registry's body comes.
const chunked = (data: Buffer, size = 64 * 1024): Readable =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );

// One raw ustar header block (for what tar-stream does not write: GNU long names, bad checksums).
const rawHeader = (name: string, type: string, size: number, linkname = ''): Buffer => {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('14544075400\0', 136);
  h.write(type, 156);
  h.write(linkname.slice(0, 100), 157);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('        ', 148);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
};
const padded = (data: Buffer): Buffer => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
const END = Buffer.alloc(1024);

const tarWithPax = async (
  entries: { name: string; content?: string; type?: 'file' | 'directory'; pax?: Record<string, string>; mode?: number }[],
): Promise<Buffer> => {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.from(e.content);
    await new Promise<void>((resolve, reject) =>
      p.entry(
        { name: e.name, type: e.type ?? 'file', mode: e.mode ?? 0o644, size: content?.length ?? 0, pax: e.pax, mtime: new Date('2024-01-01T00:00:00Z') },
        content ?? Buffer.alloc(0),
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
};

describe('native unpacker: formats', () => {
  it('reads PAX records: long paths, owners, sub-second times and extended attributes', async () => {
    const long = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(90)}.txt`;
    const tar = await tarWithPax([
      { name: long, content: 'long\n' },
      { name: 'owned', content: 'x', pax: { uid: '4242', gid: '4343', mtime: '1700000000.25' } },
      { name: 'attr', content: 'y', pax: { 'SCHILY.xattr.user.skiff': 'yes' } },
    ]);
    const result = await unpackLayer(chunked(tar, 700), target, { chown: process.getuid!() === 0 });
    expect(result.entries).toBe(3);
    expect(readFileSync(join(target, long), 'utf8')).toBe('long\n');
    const owned = statSync(join(target, 'owned'));
    if (process.getuid!() === 0) expect([owned.uid, owned.gid]).toEqual([4242, 4343]);
    expect(owned.mtimeMs).toBe(1700000000250);
    expect(native().lgetxattr(join(target, 'attr'), 'user.skiff')?.toString()).toBe('yes');
  });

  it("drops overlay's own attributes from the tar (redirects, metacopy, opaque, fuse-overlayfs' overrides)", async () => {
    const overlay = ['user.overlay.redirect', 'user.overlay.metacopy', 'user.overlay.opaque', 'user.fuseoverlayfs.opaque', 'user.containers.override_stat'];
    const pax = Object.fromEntries([...overlay.map((name) => [`SCHILY.xattr.${name}`, '/etc']), ['SCHILY.xattr.user.kept', 'yes']]);
    const tar = await tarWithPax([
      { name: 'dir', type: 'directory', pax },
      { name: 'file', content: 'x', pax },
    ]);
    await unpackLayer(chunked(tar), target, { chown: false });
    for (const entry of ['dir', 'file']) {
      for (const name of overlay) expect(native().lgetxattr(join(target, entry), name), `${entry} ${name}`).toBeUndefined();
      expect(native().lgetxattr(join(target, entry), 'user.kept')?.toString()).toBe('yes');
    }
  });

  it('unpacks a copy (plain) into a directory descriptor: .wh. names are files, not whiteouts', async () => {
    mkdirSync(join(target, 'into'));
    writeFileSync(join(target, 'into', 'gone'), 'still here\n');
    const tar = await makeTar([
      { path: '.wh.gone', content: 'a file\n' },
      { path: 'sub/.wh..wh..opq', content: 'also\n' },
    ]);
    const fd = native().openInRoot(target, 'into', 0o10000000 | 0o200000);
    try {
      const result = await unpackStream(Readable.from([tar]), fd, { chown: false, plain: true });
      expect(result.failure).toBeUndefined();
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(join(target, 'into', 'gone'), 'utf8')).toBe('still here\n');
    expect(readFileSync(join(target, 'into', '.wh.gone'), 'utf8')).toBe('a file\n');
    expect(readFileSync(join(target, 'into', 'sub', '.wh..wh..opq'), 'utf8')).toBe('also\n');
  });

  it('reads GNU long names and long link targets', async () => {
    const name = `${'n'.repeat(150)}/file`;
    const link = `${'l'.repeat(150)}/target`;
    const tar = Buffer.concat([
      rawHeader('././@LongLink', 'L', name.length + 1),
      padded(Buffer.from(`${name}\0`)),
      rawHeader('short', '0', 3),
      padded(Buffer.from('abc')),
      rawHeader('././@LongLink', 'K', link.length),
      padded(Buffer.from(link)),
      rawHeader('sym', '2', 0, 'ignored'),
      END,
    ]);
    await unpackLayer(chunked(tar, 100), target, { chown: false });
    expect(readFileSync(join(target, name), 'utf8')).toBe('abc');
    expect(readlinkSync(join(target, 'sym'))).toBe(link);
  });

  it('gunzips several gzip members, hashes blob and tar, and keeps the blob', async () => {
    const tar = await makeTar([
      { path: 'a', content: 'a'.repeat(300_000) },
      { path: 'b/c', content: 'c' },
    ]);
    const gz = Buffer.concat([gzipSync(tar.subarray(0, 1000)), gzipSync(tar.subarray(1000))]);
    const blob = join(root, 'blob');
    const result = await unpackStream(chunked(gz, 999), target, { chown: false, gzip: true, blob });
    expect(result.failure).toBeUndefined();
    expect(result.pushedDigest).toBe(sha256(gz));
    expect(result.tarDigest).toBe(sha256(tar));
    expect(result.pushedBytes).toBe(gz.length);
    expect(readFileSync(blob)).toEqual(gz);
    expect(statSync(blob).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(target, 'a'), 'utf8')).toBe('a'.repeat(300_000));
    expect(readFileSync(join(target, 'b/c'), 'utf8')).toBe('c');
  });

  it('keeps a blob of several MiB byte for byte', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 12345);
    const gz = gzipSync(await makeTar([{ path: 'random', content }]), { level: 1 });
    const blob = join(root, 'blob');
    const result = await unpackStream(chunked(gz, 77_777), target, { chown: false, gzip: true, blob });
    expect(result.failure).toBeUndefined();
    expect(readFileSync(blob).equals(gz)).toBe(true);
    expect(readFileSync(join(target, 'random')).equals(content)).toBe(true);
  });

  it('hashes what follows the end of the archive without unpacking it', async () => {
    const tar = Buffer.concat([await makeTar([{ path: 'in', content: '1' }]), rawHeader('after', '0', 1), padded(Buffer.from('2'))]);
    const result = await unpackLayer(chunked(tar), target, { chown: false });
    expect(result.tarDigest).toBe(sha256(tar));
    expect(readdirSync(target)).toEqual(['in']);
  });

  it('streams a large file through backpressure intact', async () => {
    const big = createHash('sha512').update('seed').digest();
    const content = Buffer.alloc(24 * 1024 * 1024);
    for (let i = 0; i < content.length; i += big.length) big.copy(content, i);
    const gz = gzipSync(await makeTar([{ path: 'big', content }]), { level: 1 });
    const result = await unpackStream(chunked(gz), target, { chown: false, gzip: true });
    expect(result.failure).toBeUndefined();
    expect(result.size).toBe(content.length);
    expect(readFileSync(join(target, 'big')).equals(content)).toBe(true);
  });

  it('sets directory times after their content is written', async () => {
    const tar = await makeTar([
      { path: 'dir/', type: 'directory' },
      { path: 'dir/file', content: 'x' },
    ]);
    await unpackLayer(chunked(tar), target, { chown: false });
    expect(statSync(join(target, 'dir')).mtime.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });
});

describe('native unpacker: a later entry replaces an earlier one', () => {
  it('replaces a directory tree, a file and a symlink, and creates below a replaced directory', async () => {
    const tar = await makeTar([
      { path: 'a/', type: 'directory' },
      { path: 'a/b/c', content: 'old' },
      { path: 'a', content: 'now a file' },
      { path: 'x', content: 'file' },
      { path: 'x/', type: 'directory' },
      { path: 'x/y', content: 'in x' },
      { path: 'l', type: 'symlink', target: '/etc/passwd' },
      { path: 'l', content: 'not a link' },
      { path: 'a', type: 'directory' },
      { path: 'a/b/d', content: 'new' },
      { path: 'h', type: 'link', target: 'a/b/d' },
    ]);
    await unpackLayer(chunked(tar, 512), target, { chown: false });
    expect(readFileSync(join(target, 'x/y'), 'utf8')).toBe('in x');
    expect(lstatSync(join(target, 'l')).isFile()).toBe(true);
    expect(readdirSync(join(target, 'a/b'))).toEqual(['d']);
    expect(readFileSync(join(target, 'a/b/d'), 'utf8')).toBe('new');
    expect(statSync(join(target, 'h')).ino).toBe(statSync(join(target, 'a/b/d')).ino);
  });

  it('turns whiteouts and opaque markers into what overlayfs reads', async () => {
    const tar = await makeTar([
      { path: 'gone', content: 'x' },
      { path: '.wh.gone', content: '' },
      { path: 'dir/.wh..wh..opq', content: '' },
    ]);
    await unpackLayer(chunked(tar), target, { chown: false });
    const whiteout = lstatSync(join(target, 'gone'));
    expect([whiteout.isCharacterDevice(), whiteout.rdev]).toEqual([true, 0]);
    expect(native().lgetxattr(join(target, 'dir'), 'user.overlay.opaque')?.toString()).toBe('y');
  });
});

describe('native unpacker: refusals', () => {
  const untouched = () => {
    expect(readdirSync(root).sort()).toEqual(['diff', 'precious']);
    expect(readFileSync(join(root, 'precious'), 'utf8')).toBe('do not touch\n');
  };

  it.each(['.wh..', '.wh...', 'sub/.wh...', '.wh.'])('refuses the whiteout %s, which names no entry of its directory', async (name) => {
    const tar = await makeTar([
      { path: 'sub/keep', content: 'k' },
      { path: name, content: '' },
    ]);
    await expect(unpackLayer(chunked(tar), target, { chown: false })).rejects.toThrow(
      /refusing layer entry ".*": a whiteout must name an entry of its directory/,
    );
    expect(readFileSync(join(target, 'sub/keep'), 'utf8')).toBe('k');
    untouched();
  });

  it('refuses ".." in a name or a hardlink target, and a parent that is a symlink', async () => {
    for (const entries of [
      [{ path: 'a/../../precious', content: 'pwned' }],
      [{ path: 'h', type: 'link' as const, target: '../precious' }],
      [
        { path: 'up', type: 'symlink' as const, target: '..' },
        { path: 'up/precious', content: 'pwned' },
      ],
    ]) {
      const tar = await makeTar(entries);
      await expect(unpackLayer(chunked(tar), target, { chown: false })).rejects.toThrow(/refusing layer entry/);
      untouched();
    }
  });

  it('refuses an owner past 32 bits, which no user namespace maps', async () => {
    const tar = await tarWithPax([{ name: 'huge', content: 'x', pax: { uid: '4294967296' } }]);
    const result = await unpackStream(chunked(tar), target, { chown: true });
    expect(result.failure).toBe('range');
    expect(result.message).toBe(
      '"huge" is owned by uid 4294967296/gid 0, outside this user\'s /etc/subuid or /etc/subgid range: give the user a range of at least 65536 ids',
    );
  });

  it('calls a truncated tar, a bad header checksum and a truncated gzip stream corrupt', async () => {
    const tar = await makeTar([{ path: 'f', content: 'x'.repeat(2000) }]);
    const bad = Buffer.from(tar);
    bad[10] ^= 1;
    const cases: [Buffer, boolean, RegExp][] = [
      [tar.subarray(0, 1200), false, /unexpected end of the tar data in "f"/],
      [bad, false, /invalid tar header \(bad checksum\)/],
      [gzipSync(tar).subarray(0, -10), true, /gunzip: unexpected end of file/],
      [Buffer.from('not gzip at all'), true, /gunzip: incorrect header check/],
    ];
    for (const [data, gzip, message] of cases) {
      const result = await unpackStream(chunked(data), target, { chown: false, gzip });
      expect(result.failure).toBe('corrupt');
      expect(result.message).toMatch(message);
    }
  });

  it('rejects with the source error when the source fails, and stops reading a refused layer', async () => {
    const failing = new Readable({ read() {} });
    const promise = unpackStream(failing, target, { chown: false });
    failing.push(Buffer.alloc(512));
    failing.destroy(new Error('connection reset'));
    await expect(promise).rejects.toThrow('connection reset');

    const tar = Buffer.concat([await makeTar([{ path: '../x', content: 'x' }]), Buffer.alloc(4 * 1024 * 1024)]);
    const source = chunked(tar);
    const result = await unpackStream(source, target, { chown: false });
    expect(result.failure).toBe('refuse');
    expect(source.destroyed).toBe(true);
  });
});
