// How the image engine names its work on layouts (archives and directories): what a pull from
// one selects and names, which images and names a save writes, and how a push into one is written.
import { CliError } from '../errors.js';
import type { ArchiveFormat } from '../image/archive.js';
import type { ExportOptions, LayerForm, ManifestKind } from '../image/layer-blobs.js';
import type { LayoutSelection, LayoutSource } from '../image/layout-read.js';
import type { SaveItem } from '../image/layout-write.js';
import { normalizeName } from '../image/reference.js';
import { formatTransport, localNameForPath, type LayoutReference } from '../image/transport.js';
import type { Platform } from '../image-format.js';
import type { ImageRecord } from '../storage/image-store.js';
import { findImageMatch } from './image-lookup.js';

// pull from a layout: the image the reference names; oci: and dir: images are named localhost/PATH
// (Podman's), archives keep the names they record.
export const layoutSource = (ref: LayoutReference, platform: Platform | undefined): { source: LayoutSource; selection: LayoutSelection } => {
  const kind = ref.transport === 'oci' ? 'oci' : ref.transport === 'dir' ? 'dir' : 'archive';
  const local = kind !== 'archive' ? localNameForPath(ref.path) : undefined;
  return {
    source: { input: ref.path, kind },
    selection: {
      name: 'name' in ref ? ref.name : undefined,
      index: 'index' in ref ? ref.index : undefined,
      names: kind !== 'archive' ? (local ? [local] : []) : undefined,
      platform,
    },
  };
};

// save: without `multiImage` the first input is the image and the others more names for it in a
// docker-archive (Podman's); with it each is an image. A name the user gave is kept; an id saves
// all of the image's names; a directory layout records one.
export const saveItems = (images: ImageRecord[], inputs: string[], format: ArchiveFormat, multiImage: boolean): SaveItem[] => {
  const [first, ...rest] = inputs;
  const items = (multiImage ? inputs : [first]).map((input) => {
    const { image, name } = findImageMatch(images, input);
    return { image, names: name ? [name] : image.names };
  });
  if (!multiImage && rest.length && format === 'docker-archive') items[0].names = [...new Set([...rest.map((n) => normalizeName(n)), ...items[0].names])];
  if (format === 'docker-dir' || format === 'oci-dir') items[0].names = items[0].names.slice(0, 1);
  return items;
};

// push into a layout: its format, the name it records, and the layers' form (--compression-format;
// --compress for dir:; an OCI layout's uncompressed layers gzipped, as Podman writes them).
export const layoutPush = (
  record: ImageRecord,
  ref: LayoutReference,
  options: { compressionFormat?: 'gzip' | 'zstd'; compress?: boolean },
  kind: ManifestKind | undefined,
): { format: ArchiveFormat; item: SaveItem; exportOptions?: ExportOptions } => {
  const format: ArchiveFormat =
    ref.transport === 'oci' ? 'oci-dir' : ref.transport === 'dir' ? 'docker-dir' : ref.transport === 'docker-archive' ? 'docker-archive' : 'oci-archive';
  if (format === 'docker-archive' && (kind === 'oci' || options.compressionFormat))
    throw new CliError('EUSAGE', 'a docker-archive holds uncompressed Docker layers: --format oci and --compression-format do not apply to it');
  if ('index' in ref && ref.index !== undefined)
    throw new CliError('EUSAGE', `push to ${formatTransport(ref)}: name the image in the archive by a tag, not @N`);
  const name = 'name' in ref ? ref.name : undefined;
  const names = name ? [name] : format === 'docker-archive' ? record.names.slice(0, 1) : [];
  const form: LayerForm = options.compressionFormat ?? (format === 'docker-dir' && options.compress ? 'gzip' : 'stored');
  const exportOptions: ExportOptions | undefined =
    format === 'docker-archive'
      ? undefined
      : { form, compressUncompressed: format !== 'docker-dir', kind: kind ?? (format === 'docker-dir' ? undefined : 'oci') };
  return { format, item: { image: record, names }, exportOptions };
};
