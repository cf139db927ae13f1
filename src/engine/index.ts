// The engine's front door: the CLI opens one per command and calls its parts.
import type { PathOverrides } from '../config/paths.js';
import { followParent } from '../rootless/enter.js';
import { inUserNamespace } from '../rootless/rootful.js';
import type { ContainerParts } from './container-parts.js';
import { createContext, type EngineContext } from './context.js';
import { ImagesEngine } from './images.js';
import { SystemEngine } from './system.js';

// Images and system are always there; the container parts (containers, files, networks) are
// loaded by openEngine unless the command said it needs images only.
export class Engine {
  readonly images: ImagesEngine;
  readonly system: SystemEngine;
  private parts?: ContainerParts;

  constructor(readonly ctx: EngineContext) {
    this.images = new ImagesEngine(ctx, async (id) => (await this.loadContainerParts()).containers.remove(id, { force: true }));
    this.system = new SystemEngine(ctx);
  }

  async loadContainerParts(): Promise<ContainerParts> {
    if (!this.parts) this.parts = (await import('./container-parts.js')).containerParts(this.ctx, this.images);
    return this.parts;
  }

  private loaded(): ContainerParts {
    if (!this.parts) throw new Error('internal error: the engine was opened for images only');
    return this.parts;
  }

  get containers() {
    return this.loaded().containers;
  }

  get files() {
    return this.loaded().files;
  }

  get networks() {
    return this.loaded().networks;
  }

  // Re-runs the current command inside the rootless user namespace unless already there; commands
  // that write files owned by mapped ids (pull, rmi, load, prune) call this first.
  async enterUserNamespace(): Promise<void> {
    // Already inside (re-executed): nothing heavy to load, just keep following the parent CLI.
    if (inUserNamespace()) return followParent();
    const { joinUserNamespace } = await import('./lazy.js');
    await joinUserNamespace(this.ctx.paths.run, this.ctx.config.storage.userns);
  }
}

// `imagesOnly`: the command uses images and system only (it loads less code).
export const openEngine = async (overrides: PathOverrides = {}, imagesOnly = false): Promise<Engine> => {
  const engine = new Engine(await createContext(overrides));
  if (!imagesOnly) await engine.loadContainerParts();
  return engine;
};

export type { CreateOptions } from './container-config.js';
export type { ExecOptions, StartHooks } from './containers.js';
export type { CommitOptions, DiffReport } from './container-files.js';
export type { NetworkSummary } from './networks.js';
export type { ImageSummary, RemoveImageReport, ImageInspectReport } from './images.js';
export type { PullEvent, PullReport } from '../image/pull.js';
export type { PushReport } from '../image/push.js';
export type { SearchResult } from '../image/remote.js';
export type { ArchiveFormat, LoadedImage } from '../image/archive.js';
