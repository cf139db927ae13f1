// The container half of the engine (containers, their files, networks), in a module of its own:
// image and system commands never load it.
import type { EngineContext } from './context.js';
import { ContainerFiles } from './container-files.js';
import { ContainersEngine } from './containers.js';
import type { ImagesEngine } from './images.js';
import { NetworksEngine } from './networks.js';

export interface ContainerParts {
  containers: ContainersEngine;
  files: ContainerFiles;
  networks: NetworksEngine;
}

export const containerParts = (ctx: EngineContext, images: ImagesEngine): ContainerParts => {
  const containers = new ContainersEngine(ctx, images);
  return { containers, files: new ContainerFiles(ctx, containers), networks: new NetworksEngine(ctx, containers) };
};
