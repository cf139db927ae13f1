// Reading a whole document into memory with a cap (src/util/limits.ts): the one way skiff reads a
// registry response body, an archive member or a small file whole. More than the cap fails with
// one line naming the document and the cap; a stream is cut off there, not drained.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CliError, type ErrorCode } from '../errors.js';
import { formatLimit } from './limits.js';

export interface Bound {
  /** The document, as the message names it: "manifest x:latest from registry 127.0.0.1:5000". */
  what: string;
  /** The cap in bytes (a constant of src/util/limits.ts). */
  limit: number;
  /** The error's code: EREGISTRY (the default) for what a registry sent, ECONFIG for files. */
  code?: ErrorCode;
}

// The error for a document over its cap.
export const tooLargeError = (bound: Bound): CliError =>
  new CliError(bound.code ?? 'EREGISTRY', `${bound.what} is larger than ${formatLimit(bound.limit)}, the limit for it: refusing to read it`);

interface DestroyableSource extends AsyncIterable<Buffer | Uint8Array | string> {
  destroy?: (error?: Error) => void;
  on?: (event: 'error', listener: () => void) => unknown;
}

// Stops a source nobody reads on: an HTTP body destroyed emits an abort error that no one awaits.
const stop = (source: DestroyableSource): void => {
  source.on?.('error', () => {});
  source.destroy?.();
};

// Reads `source` to its end, at most `bound.limit` bytes. `declaredLength` (a Content-Length)
// over the cap fails before a byte is read. Past the cap the source is destroyed (an HTTP body's
// connection is closed), so an endless sender costs the cap and no more.
export const readBounded = async (source: DestroyableSource, bound: Bound, declaredLength?: number): Promise<Buffer> => {
  if (declaredLength !== undefined && declaredLength > bound.limit) {
    stop(source);
    throw tooLargeError(bound);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const buffer =
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += buffer.length;
    if (total > bound.limit) {
      // Leaving the loop ends the iteration, which destroys a Readable; a bare iterable may not.
      stop(source);
      throw tooLargeError(bound);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
};

// Reads an open file descriptor from its current offset to its end, at most `bound.limit` bytes.
// The size a regular file claims is checked first; what is read is counted anyway (a file may grow,
// and /proc files or pipes claim nothing). The caller keeps (and closes) the descriptor.
export const readBoundedFd = (fd: number, bound: Bound): Buffer => {
  const stat = fstatSync(fd);
  if (stat.isFile() && stat.size > bound.limit) throw tooLargeError(bound);
  const chunks: Buffer[] = [];
  let total = 0;
  // A regular file in one read (and one byte more, to see it did not grow); anything else in steps.
  let step = stat.isFile() ? stat.size + 1 : 64 * 1024;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(step, bound.limit + 1 - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > bound.limit) throw tooLargeError(bound);
    step = 64 * 1024;
  }
  return Buffer.concat(chunks, total);
};

// Reads a file whole, at most `bound.limit` bytes. Errors opening or reading it (ENOENT, EACCES)
// are thrown as they are: callers say what a missing file means.
export const readBoundedFile = (path: string, bound: Bound): Buffer => {
  const fd = openSync(path, 'r');
  try {
    return readBoundedFd(fd, bound);
  } finally {
    closeSync(fd);
  }
};
