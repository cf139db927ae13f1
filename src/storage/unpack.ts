// Safe layer unpacking: a tar stream (or a gzipped layer blob) becomes a directory tree that overlayfs
// can stack. The work is native (native/addon/unpack.c), on a thread per layer: nothing is ever
// written outside `target` (".." refused, absolute names taken relative to the target, no entry
// created through a symlink, hardlinks only inside the layer), whiteouts (.wh.NAME) become 0/0
// character devices and opaque markers user.overlay.opaque. It runs inside the rootless user
// namespace, so chown to an image uid lands on the mapped subuid. This module pumps a stream into it.
import type { Readable } from 'node:stream';
import { CliError } from '../errors.js';
import { native, type UnpackResult } from '../util/native.js';

export type { UnpackResult };

export interface UnpackOptions {
  /** Change ownership to the uid/gid in the tar (false in single-uid mode: everything stays ours), or to these ids. */
  chown: boolean | [number, number];
  /** The bytes are gzipped (a layer blob); otherwise they are the tar itself. */
  gzip?: boolean;
  /** Where to keep the bytes as they came (the layer's blob). */
  blob?: string;
  /** A copy, not a layer (cp): ".wh." names are ordinary files and nothing is a whiteout. */
  plain?: boolean;
  /** Sees each chunk as it is queued (progress). */
  onData?: (chunk: Buffer) => void;
}

// Feeds `source` to a native unpacker with backpressure. Resolves with the unpacker's result, a
// refused or corrupt layer included (result.failure); rejects only when the source itself fails.
// A failure stops the source (a download is not read on for nothing).
export const unpackStream = (source: Readable, target: string | number, options: UnpackOptions): Promise<UnpackResult> =>
  new Promise((resolve, reject) => {
    let sourceError: Error | undefined;
    const onData = (chunk: Buffer) => {
      options.onData?.(chunk);
      if (!unpacker.push(chunk)) source.pause();
    };
    const onEnd = () => unpacker.end();
    const onError = (error: Error) => {
      sourceError ??= error;
      unpacker.abort();
    };
    const unpacker = native().unpacker(
      target,
      options.blob ?? null,
      options.gzip ?? false,
      options.chown,
      (event, result) => {
        if (event === 'drain') {
          source.resume();
          return;
        }
        source.off('data', onData).off('end', onEnd);
        if (sourceError) return reject(sourceError);
        if (result!.failure) source.destroy();
        resolve(result!);
      },
      options.plain ?? false,
    );
    // A source that fails after the unpacker is done has nothing left to say.
    source.on('error', onError);
    if (source.destroyed) onError(source.errored ?? new Error('the layer stream closed early'));
    else source.on('data', onData).on('end', onEnd);
  });

// The unpacker's refusals are complete messages; other failures are said in terms of `what`.
export const unpackError = (result: UnpackResult, what: string): CliError | undefined => {
  switch (result.failure) {
    case undefined:
      return undefined;
    case 'refuse':
    case 'range':
      return new CliError('EUNPACK', result.message!);
    default:
      return new CliError('EUNPACK', `cannot unpack ${what}: ${result.message}`);
  }
};

// Unpacks an uncompressed tar stream into `target` (an existing, empty directory, or a descriptor of one).
export const unpackLayer = async (tarStream: Readable, target: string | number, options: UnpackOptions): Promise<UnpackResult> => {
  const result = await unpackStream(tarStream, target, options);
  const error = unpackError(result, typeof target === 'string' ? `into ${target}` : 'into the target');
  if (error) throw error;
  return result;
};
