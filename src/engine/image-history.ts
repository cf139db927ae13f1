// `history`: an image's history entries as Podman's libimage reports them, newest first, each
// with the layer it made (its uncompressed tar's size) and the local image whose top layer it is.
import type { ImageConfig } from '../image-format.js';
import type { ImageRecord } from '../storage/image-store.js';
import { layerTarSize, type LayerRecord } from '../storage/layer-store.js';

export interface HistoryEntry {
  /** The id of an image whose top layer the entry's layer is, once per image; else "<missing>". */
  id: string;
  created: string;
  createdBy: string;
  size: number;
  comment: string;
}

// Walks the history from the newest entry down the layers, as libimage's History does: an entry
// that is not an empty layer takes the current layer's size and then steps to its parent; an
// entry on a layer that is an image's top (the image itself first) names that image, once.
export const imageHistory = (
  image: ImageRecord,
  config: ImageConfig,
  layer: (chainId: string) => LayerRecord | undefined,
  images: ImageRecord[],
): HistoryEntry[] => {
  const history = config.history ?? [];
  const used = new Set<string>();
  const entries: HistoryEntry[] = [];
  let index = image.layers.length - 1;
  for (let x = history.length - 1; x >= 0; x--) {
    const h = history[x];
    const entry: HistoryEntry = { id: '<missing>', created: h.created ?? '', createdBy: h.created_by ?? '', size: 0, comment: h.comment ?? '' };
    const chainId = image.layers[index];
    if (chainId !== undefined) {
      if (!h.empty_layer) entry.size = layerTarSize(layer(chainId));
      const owner = [image, ...images].find((i) => i.layers.at(-1) === chainId);
      if (owner && !used.has(owner.id)) {
        used.add(owner.id);
        entry.id = owner.id;
      }
      if (!h.empty_layer && index > 0) index--;
    }
    entries.push(entry);
  }
  return entries;
};
