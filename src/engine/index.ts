// The engine's front door: the CLI opens one per command and calls its parts.
import { followParent } from '../rootless/enter.js';
import { inUserNamespace } from '../rootless/rootful.js';
import { type ContextOverrides, createContext, type EngineContext } from './context.js';
import type { Builds } from './builds.js';
import { ContainerFiles } from './container-files.js';
import { ContainerReports } from './container-reports.js';
import { ContainerMounts } from './container-user-mounts.js';
import { ContainerRunlabel } from './container-runlabel.js';
import { ContainersEngine } from './containers.js';
import { collectStats, type StatsRow } from './container-stats.js';
import type { AutoUpdater } from './auto-update.js';
import type { ManifestsEngine } from './manifests.js';
import type { CgroupSample } from '../cgroups/stats.js';
import { EventsEngine } from './events.js';
import { ImagesEngine } from './images.js';
import { ContainerLogs } from './logs.js';
import { NetworksEngine } from './networks.js';
import { SystemEngine } from './system.js';
import { VolumesEngine } from './volumes.js';
import { SecretsEngine } from './secrets.js';

export class Engine {
  readonly images: ImagesEngine;
  readonly system: SystemEngine;
  readonly containers: ContainersEngine;
  readonly files: ContainerFiles;
  /** `container runlabel` (container-runlabel.ts). */
  readonly runlabel: ContainerRunlabel;
  /** `mount` and `unmount` (container-user-mounts.ts). */
  readonly mounts: ContainerMounts;
  readonly reports: ContainerReports;
  readonly logs: ContainerLogs;
  readonly events: EventsEngine;
  readonly networks: NetworksEngine;
  readonly volumes: VolumesEngine;
  readonly secrets: SecretsEngine;

  constructor(readonly ctx: EngineContext) {
    this.images = new ImagesEngine(ctx, (id) => this.containers.remove(id, { force: true }));
    this.containers = new ContainersEngine(ctx, this.images);
    this.files = new ContainerFiles(ctx, this.containers);
    this.mounts = new ContainerMounts(ctx, this.containers);
    this.runlabel = new ContainerRunlabel(this.images, this.containers);
    this.reports = new ContainerReports(ctx, this.containers);
    this.logs = new ContainerLogs(this.containers);
    this.events = new EventsEngine(this.containers);
    this.networks = new NetworksEngine(ctx, this.containers);
    this.volumes = new VolumesEngine(ctx, async (id, timeout) => {
      await this.containers.stop(id, timeout);
      await this.containers.remove(id, { force: true });
    });
    this.secrets = new SecretsEngine(ctx);
    this.system = new SystemEngine(ctx);
  }

  // Re-runs the current command inside the rootless user namespace unless already there; commands
  // that write files owned by mapped ids (pull, rmi, load, prune) call this first.
  // One round of `stats` (see container-stats.ts); `previous` carries each container's last sample.
  stats(inputs: string[], previous: Map<string, CgroupSample>): { rows: StatsRow[]; errors: Error[] } {
    return collectStats(this.containers.stats(inputs), previous);
  }

  // `build`'s engine, loaded only by the command that builds (the parser and the steps are a lot of
  // module to start for every other command).
  async builds(): Promise<Builds> {
    const { Builds } = await import('./builds.js');
    return new Builds(this.ctx, this.containers, this.images, this.logs);
  }

  // `auto-update`'s engine (auto-update.ts).
  async autoUpdater(): Promise<AutoUpdater> {
    const { AutoUpdater } = await import('./auto-update.js');
    return new AutoUpdater(this.containers, this.images);
  }

  // `manifest`'s engine (manifests.ts).
  async manifests(): Promise<ManifestsEngine> {
    const { ManifestsEngine } = await import('./manifests.js');
    return new ManifestsEngine(this.ctx, this.images);
  }

  async enterUserNamespace(): Promise<void> {
    // Already inside (re-executed): nothing heavy to load, just keep following the parent CLI.
    if (inUserNamespace()) return followParent();
    const { joinUserNamespace } = await import('./lazy.js');
    await joinUserNamespace(this.ctx.paths.run, this.ctx.config.storage.userns);
  }
}

export const openEngine = async (overrides: ContextOverrides = {}): Promise<Engine> => new Engine(await createContext(overrides));

export type { CreateOptions } from './container-config.js';
export type { AutoUpdateOptions, AutoUpdateReport } from './auto-update.js';
export type { BuildEvent, BuildOptions, BuildReport } from './builds.js';
export type { LimitFlags } from '../cgroups/limits.js';
export type { StatsRow } from './container-stats.js';
export type { StartHooks } from './containers.js';
export type { ExecOptions } from './container-exec.js';
export type { CommitOptions, DiffReport } from './container-files.js';
export type { LogEntry, LogsQuery } from './logs.js';
export type { EventsQuery, SkiffEvent } from './events.js';
export type { MountReport } from './container-user-mounts.js';
export type { RunlabelOptions } from './container-runlabel.js';
export type { ContainerRow, PsEntry, PsOptions, SelectOptions } from './container-reports.js';
export type { NetworkSummary } from './networks.js';
export type { VolumeSummary } from './volumes.js';
export type { SecretCreateOptions, SecretSource } from './secrets.js';
export type { SecretRecord } from '../storage/secrets.js';
export type { ImageSummary, RemoveImageReport, ImageInspectReport } from './images.js';
export type { ImageTreeReport, LayerNode } from './image-tree.js';
export type { ImageMountReport } from './image-mounts.js';
export type { LayerChange } from '../storage/layer-diff.js';
export type { PullEvent, PullReport } from '../image/pull.js';
export type { PushReport } from '../image/push.js';
export type { ManifestAddOptions, ManifestPushOptions, ManifestRemoveReport } from './manifests.js';
export type { ListPushReport } from '../image/manifest-list-push.js';
export type { SearchResult } from '../image/remote.js';
export type { ArchiveFormat, LoadedImage } from '../image/archive.js';
