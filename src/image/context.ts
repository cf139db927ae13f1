// What image work (pull, push, archives, commit/import, registry sessions) is done against: the
// user's paths and configuration and the image and layer stores. The engine's context is one.
import type { SkiffConfig } from '../config/config.js';
import type { Paths } from '../config/paths.js';
import type { ImageStore } from '../storage/image-store.js';
import type { LayerStore } from '../storage/layer-store.js';

export interface ImageContext {
  paths: Paths;
  config: SkiffConfig;
  images: ImageStore;
  layers: LayerStore;
}
