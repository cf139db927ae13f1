import { closeSync, openSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/errors.js';
import { readBounded, readBoundedFd, readBoundedFile } from '../../../src/util/bounded-read.js';
import { formatLimit, MANIFEST_MAX } from '../../../src/util/limits.js';
import { scratchDir } from '../../helpers/scratch.js';

const bound = { what: 'manifest x:latest from registry r', limit: 1000 };

// An endless source that counts what was taken from it and whether it was destroyed.
const endless = () => {
  let pulled = 0;
  const source = new Readable({
    read() {
      pulled += 100;
      this.push(Buffer.alloc(100, 0x61));
    },
  });
  return { source, pulled: () => pulled };
};

describe('readBounded (streams)', () => {
  it('returns a document up to the cap exactly', async () => {
    expect((await readBounded(Readable.from([Buffer.alloc(600), Buffer.alloc(400)]), bound)).length).toBe(1000);
    expect((await readBounded(Readable.from([]), bound)).length).toBe(0);
    expect((await readBounded(Readable.from(['ab', new Uint8Array([0x63])]), bound)).toString()).toBe('abc');
  });

  it('refuses one byte over the cap, naming the document and the cap', async () => {
    const error = await readBounded(Readable.from([Buffer.alloc(1001)]), bound).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({
      code: 'EREGISTRY',
      exitCode: 125,
      message: 'manifest x:latest from registry r is larger than 1000 bytes, the limit for it: refusing to read it',
    });
  });

  it('stops reading an endless source at the cap and destroys it', async () => {
    const { source, pulled } = endless();
    await expect(readBounded(source, bound)).rejects.toThrow(/larger than 1000 bytes/);
    expect(source.destroyed).toBe(true);
    // Readable reads ahead by its high-water mark (16 KiB), never more.
    expect(pulled()).toBeLessThan(1000 + 17 * 1024);
  });

  it('refuses a declared length over the cap before reading', async () => {
    const { source, pulled } = endless();
    await expect(readBounded(source, { ...bound, code: 'ECONFIG' }, 5000)).rejects.toMatchObject({ code: 'ECONFIG' });
    expect(source.destroyed).toBe(true);
    expect(pulled()).toBe(0);
  });

  it('stops an HTTP-like body that errors when destroyed without an unhandled error', async () => {
    const body = new Readable({ read() {}, destroy: (error, cb) => cb(error ?? new Error('Request aborted')) });
    await expect(readBounded(body, bound, 5000)).rejects.toThrow(/larger than 1000 bytes/);
    await new Promise((r) => setImmediate(r));
    expect(body.destroyed).toBe(true);
  });

  it("passes the source's own errors through", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    await expect(readBounded(failing, bound)).rejects.toThrow('socket hang up');
  });
});

describe('readBoundedFile / readBoundedFd', () => {
  it('reads files up to the cap and refuses larger ones', () => {
    const file = join(scratchDir('skiff-bounded-'), 'doc');
    writeFileSync(file, 'x'.repeat(1000));
    expect(readBoundedFile(file, bound).length).toBe(1000);
    writeFileSync(file, 'x'.repeat(1001));
    expect(() => readBoundedFile(file, { ...bound, what: 'auth file /a.json', code: 'ECONFIG' })).toThrow(
      'auth file /a.json is larger than 1000 bytes, the limit for it: refusing to read it',
    );
  });

  it('throws fs errors as they are', () => {
    expect(() => readBoundedFile(join(scratchDir('skiff-bounded-'), 'missing'), bound)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('counts what it reads where the size says nothing (an endless pipe)', async () => {
    const fifo = join(scratchDir('skiff-bounded-'), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `yes > ${fifo}`], { stdio: 'ignore' });
    const fd = openSync(fifo, 'r');
    try {
      expect(() => readBoundedFd(fd, bound)).toThrow(/larger than 1000 bytes/);
    } finally {
      closeSync(fd);
      writer.kill();
    }
  });

  it('reads /dev/zero no further than the cap', () => {
    expect(() => readBoundedFile('/dev/zero', { ...bound, limit: MANIFEST_MAX })).toThrow(/larger than 4 MiB/);
  });
});

describe('formatLimit', () => {
  it('shows caps as MiB, KiB or bytes', () => {
    expect([formatLimit(4 * 1024 * 1024), formatLimit(512 * 1024), formatLimit(1000)]).toEqual(['4 MiB', '512 KiB', '1000 bytes']);
  });
});
