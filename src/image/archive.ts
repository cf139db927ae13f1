// Image archives as `save` and `load` know them: docker-archive and oci-archive files (or
// standard output and input), and the directory layouts save also writes (oci-dir, docker-dir).
// The formats themselves are read in layout-read.ts and written in layout-write.ts.
import type { Readable } from 'node:stream';
import type { ImageContext } from './context.js';
import { importLayout, type LoadedImage } from './layout-read.js';
import { writeLayout, type SaveFormat, type SaveItem, type SaveOptions } from './layout-write.js';

export type { LoadedImage, SaveItem, SaveOptions };
export type ArchiveFormat = SaveFormat;

// Writes images to `output` (atomically: a temp file or directory renamed into place) or to a
// stream; the digests of the manifests written.
export const saveImages = (
  ctx: ImageContext,
  items: SaveItem[],
  format: ArchiveFormat,
  output: string | NodeJS.WritableStream,
  options: SaveOptions = {},
): Promise<string[]> => writeLayout(ctx, items, format, output, options);

// Loads every image of an archive file (or stream); unpacks layers like a pull does.
export const loadImages = (ctx: ImageContext, input: string | Readable, options: { chown: boolean; installed: string[] }): Promise<LoadedImage[]> =>
  importLayout(ctx, { input, kind: 'archive' }, { all: true }, options);
