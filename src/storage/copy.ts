// Copies a tree from one descriptor into a directory: packed on this side, unpacked by the native
// unpacker, which creates everything relative to `target` and never through a symlink (one already
// there is replaced, one put there meanwhile stops the copy). cp uses it both ways, and volumes to
// take an image's content in. Loaded only when a copy starts (its callers import it lazily): with
// pack and unpack it brings node:stream, which `ps` and `images` are spared (~1.5 ms).
import { PassThrough } from 'node:stream';
import { unpackError, unpackStream } from './unpack.js';
import { type PackOptions, packTree } from './pack.js';

export const copyTree = async (
  source: number,
  target: number | string,
  options: { prefix: string; chown: boolean | [number, number] } & Pick<PackOptions, 'filter' | 'mode'>,
): Promise<void> => {
  const pipe = new PassThrough();
  const packing = packTree(source, pipe, { prefix: options.prefix, filter: options.filter, mode: options.mode });
  packing.catch(() => undefined);
  const result = await unpackStream(pipe, target, { chown: options.chown, plain: true });
  const error = unpackError(result, 'the copy');
  if (error) throw error;
  await packing;
};
