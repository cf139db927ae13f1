// Images as a tree of layers (Podman's layer tree): which images sit on which layer, an image's
// parent (rmi prunes dangling parents; image diff compares with it) and `image tree` reports.
import type { ImageRecord } from '../storage/image-store.js';
import { layerTarSize, type LayerRecord } from '../storage/layer-store.js';

export interface LayerNode {
  /** The layer's chain id. */
  id: string;
  size: number;
  /** Names of the images whose top layer this is. */
  topOf: string[];
  children: LayerNode[];
}

export interface ImageTreeReport {
  id: string;
  names: string[];
  size: number;
  /** The image's layers, bottom first (no `children`), or with --whatrequires its top layer with every layer above it. */
  layers: LayerNode[];
  whatRequires: boolean;
}

const top = (image: ImageRecord): string | undefined => image.layers.at(-1);

export class LayerTree {
  private readonly records = new Map<string, LayerRecord>();
  private readonly children = new Map<string, string[]>();
  private readonly imagesOn = new Map<string, ImageRecord[]>();
  private readonly histories = new Map<string, number>();

  // `historyLength` is asked once per image, here: the tree stays usable while images are removed.
  constructor(images: ImageRecord[], layers: LayerRecord[], historyLength: (image: ImageRecord) => number) {
    for (const image of images) this.histories.set(image.id, historyLength(image));
    for (const l of layers) {
      this.records.set(l.chainId, l);
      if (l.parent) this.children.set(l.parent, [...(this.children.get(l.parent) ?? []), l.chainId]);
    }
    // Newest first: a parent is looked for among the newest images first (Podman's order).
    for (const image of [...images].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0))) {
      const t = top(image);
      if (t) this.imagesOn.set(t, [...(this.imagesOn.get(t) ?? []), image]);
    }
  }

  private node(id: string, withChildren: boolean): LayerNode {
    const record = this.records.get(id);
    const topOf = (this.imagesOn.get(id) ?? []).flatMap((i) => i.names);
    const children = withChildren ? (this.children.get(id) ?? []).map((c) => this.node(c, true)) : [];
    return { id, size: layerTarSize(record), topOf, children };
  }

  private historyLength(image: ImageRecord): number {
    return this.histories.get(image.id) ?? 0;
  }

  // The image `child` was made from: one on the same top layer with a shorter history (a step that
  // added no layer), else one whose top layer is the parent of the child's top layer.
  parent(child: ImageRecord): ImageRecord | undefined {
    const t = top(child);
    if (!t) return undefined;
    const length = this.historyLength(child);
    // (A build's last step and its result share their layers and history: the result differs by its
    // identity label only, and the step, an intermediate image, is its parent.)
    const same = (this.imagesOn.get(t) ?? []).find(
      (i) => i.id !== child.id && (this.historyLength(i) < length || (this.historyLength(i) === length && i.intermediate && !child.intermediate)),
    );
    if (same) return same;
    const below = child.layers.at(-2);
    return below ? (this.imagesOn.get(below) ?? []).find((i) => i.id !== child.id) : undefined;
  }

  // Whether another image was made from `image` (so it is no dangling leaf to prune).
  hasChildren(image: ImageRecord, images: ImageRecord[]): boolean {
    return images.some((i) => i.id !== image.id && this.parent(i)?.id === image.id);
  }

  report(image: ImageRecord, whatRequires: boolean): ImageTreeReport {
    const t = top(image);
    const layers = whatRequires ? (t ? [this.node(t, true)] : []) : image.layers.map((id) => this.node(id, false));
    return { id: image.id, names: image.names, size: image.size, layers, whatRequires };
  }
}
