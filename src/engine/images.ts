// The image half of the engine: typed options in, typed reports out; never prints. One method per
// image verb, hence over 400 lines; their parts live beside it (image-registry, image-layouts,
// image-filters, image-tree, image-mounts, image-lookup).
export type { LoginOptions, PullImageOptions } from './image-registry.js';
import type { Readable } from 'node:stream';
import { CliError, messageOf } from '../errors.js';
import { hostPlatform, parsePlatform } from '../image/manifest.js';
import type { ImageConfig } from '../image-format.js';
import type { PullEvent, PullReport } from '../image/pull.js';
import type { PushReport } from '../image/push.js';
import type { ArchiveFormat, LoadedImage } from '../image/archive.js';
import type { ExportOptions, ManifestKind } from '../image/layer-blobs.js';
import { formatReference, normalizeName, parseReference, splitTaggedName } from '../image/reference.js';
import { formatTransport, isLayout, parseTransport, type LayoutReference } from '../image/transport.js';
import type { ImageRecord } from '../storage/image-store.js';
import { withLock } from '../util/lock.js';
import { withStoreLock, type EngineContext } from './context.js';
import { imageFilter } from './image-filters.js';
import { layoutPush, layoutSource, saveItems } from './image-layouts.js';
import { ImageRegistry, type PullImageOptions } from './image-registry.js';
import { findImage, findImageMatch } from './image-lookup.js';
import { isManifestList, listInstance } from './list-lookup.js';
import { aliasedName } from '../image/short-names.js';
import type { ImageMountReport, ImageMounts } from './image-mounts.js';
import { LayerTree, type ImageTreeReport } from './image-tree.js';
import { imageHistory, type HistoryEntry } from './image-history.js';
import { imageScp, type ScpReport } from './image-scp.js';
import type { LayerChange } from '../storage/layer-diff.js';

export interface PushImageOptions extends PullImageOptions {
  /** The manifest format written: oci or v2s2 (Docker schema 2); default: the stored one. */
  format?: 'oci' | 'v2s2';
  /** Layer compression for the destination: gzip (default for a registry) or zstd. */
  compressionFormat?: 'gzip' | 'zstd';
  /** dir: destination: gzip its layers (default: as stored). */
  compress?: boolean;
}

export interface SaveImagesOptions {
  /** Every argument is an image (docker-archive only); otherwise the first is the image and the rest its extra names. */
  multiImage?: boolean;
  compress?: boolean;
  uncompressed?: boolean;
}

export interface ImageSummary {
  id: string;
  repository: string;
  tag: string;
  names: string[];
  digest: string;
  repoDigests: string[];
  created: string;
  size: number;
  dangling: boolean;
  /** Every name the image has had, the latest first. */
  history: string[];
}

export interface ListImagesOptions {
  all?: boolean;
  filters?: string[];
}

export interface RemoveImageReport {
  input: string;
  id?: string;
  untagged: string[];
  deleted: boolean;
  error?: CliError;
}

export interface ImageInspectReport {
  record: ImageRecord;
  config: ImageConfig;
}

// The registry side (remote inspection, search, tags, login) is ImageRegistry's (image-registry.ts).
export class ImagesEngine extends ImageRegistry {
  constructor(
    ctx: EngineContext,
    /** Removes a container by id (rmi --force takes the image's containers with it). */
    private readonly removeContainer: (id: string) => Promise<unknown> = async () => undefined,
  ) {
    super(ctx);
  }

  // Pulls an image into the store: from a registry, or copied in from an archive or a directory
  // layout (docker-archive:, oci-archive:, oci:, dir:); containers-storage: names a local image.
  // Caller has joined the rootless user namespace.
  async pull(input: string, options: PullImageOptions, onEvent?: (event: PullEvent) => void): Promise<PullReport> {
    const transport = parseTransport(input);
    if (transport?.transport === 'containers-storage') {
      const image = this.resolve(transport.name);
      return { image, reference: input, layersPulled: 0, layersExisting: image.layers.length };
    }
    if (isLayout(transport)) {
      const [first] = await this.importLayout(transport, options);
      return { image: first.image, reference: formatTransport(transport), layersPulled: first.image.layers.length, layersExisting: 0 };
    }
    const ref = parseReference(transport?.transport === 'docker' ? transport.name : input);
    const platform = this.platform(options);
    const { pullImage } = await import('./lazy.js');
    const remote = await this.remoteOptions(options);
    return this.installing((installed) => pullImage(this.ctx, ref, { ...remote, platform, chown: this.chown(), installed }, onEvent));
  }

  // pull --all-tags: every tag of the repository (a registry reference without tag or digest).
  async pullAllTags(input: string, options: PullImageOptions, onEvent?: (event: PullEvent) => void): Promise<PullReport[]> {
    const transport = parseTransport(input);
    if (transport && transport.transport !== 'docker')
      throw new CliError('EUSAGE', `pulling all tags is not supported for the ${transport.transport} transport: name a registry repository`);
    const name = transport?.transport === 'docker' ? transport.name : input;
    const ref = parseReference(name);
    if (ref.digest || /:[\w][\w.-]*$/.test(name.slice(name.lastIndexOf('/') + 1)))
      throw new CliError('EUSAGE', `pull --all-tags takes a repository without a tag or digest, not "${input}"`);
    const { tags } = await this.listTags(name, options);
    const reports: PullReport[] = [];
    for (const tag of tags) reports.push(await this.pull(`${ref.registry}/${ref.repository}:${tag}`, options, onEvent));
    return reports;
  }

  // Copies the image a layout reference names into the store.
  private async importLayout(ref: LayoutReference, options: { platform?: string; variant?: string } = {}): Promise<LoadedImage[]> {
    const { importLayout } = await import('./lazy.js');
    const { source, selection } = layoutSource(ref, this.platform(options));
    return this.installing((installed) => importLayout(this.ctx, source, selection, { chown: this.chown(), installed }));
  }

  private platform(options: { platform?: string; variant?: string }) {
    const platform = options.platform ? parsePlatform(options.platform) : undefined;
    if (!options.variant) return platform;
    return { ...(platform ?? hostPlatform()), variant: platform?.variant ?? options.variant };
  }

  // Loads a docker-archive or oci-archive (a path, or a stream such as stdin). Caller has joined
  // the rootless user namespace.
  async load(input: string | Readable): Promise<LoadedImage[]> {
    const { loadImages } = await import('./lazy.js');
    return this.installing((installed) => loadImages(this.ctx, input, { chown: this.chown(), installed }));
  }

  // Saves images into an archive file (or stream) or a directory layout. Without `multiImage` the
  // first input is the image and the others are more names for it in the archive (Podman's); with
  // it each is an image. A name the user gave is kept; an id saves all of the image's names.
  async save(inputs: string[], format: ArchiveFormat, output: string | NodeJS.WritableStream, options: SaveImagesOptions = {}): Promise<void> {
    if (options.compress && format !== 'docker-dir') throw new CliError('EUSAGE', "--compress can only be set when --format is 'docker-dir'");
    if (options.multiImage && format !== 'docker-archive')
      throw new CliError('EUSAGE', `unsupported format "${format}" for saving multiple images (only docker-archive)`);
    const { saveImages } = await import('./lazy.js');
    const lists = inputs.filter((input) => {
      try {
        return isManifestList(this.find(input));
      } catch {
        return false;
      }
    });
    if (lists.length) throw new CliError('EUSAGE', `${lists[0]} is a manifest list: save one of its images, or push the list with \`skiff manifest push\``);
    const items = saveItems(this.ctx.images.list(), inputs, format, options.multiImage === true);
    await withStoreLock(this.ctx, false, () => saveImages(this.ctx, items, format, output, { compress: options.compress, uncompressed: options.uncompressed }));
  }

  private chown(): boolean {
    return this.ctx.config.storage.userns !== 'single';
  }

  // Runs something that installs layers under the shared store lock; when it fails, the layers it
  // installed and no image uses are dropped again, so a failure stores nothing.
  private async installing<T>(fn: (installed: string[]) => Promise<T>): Promise<T> {
    this.ctx.layers.sweepTemps();
    const installed: string[] = [];
    try {
      return await withStoreLock(this.ctx, false, () => fn(installed));
    } catch (error) {
      if (installed.length) await this.dropOrphans(installed);
      throw error;
    }
  }

  // After a failed pull: deletes the layers it installed that no image uses. Needs the store lock
  // exclusively; when another pull holds it, the layers stay for `image prune` to collect.
  private async dropOrphans(chainIds: string[]): Promise<void> {
    try {
      await withStoreLock(
        this.ctx,
        true,
        async () => {
          const used = new Set(this.ctx.images.list().flatMap((i) => i.layers));
          for (const id of chainIds) if (!used.has(id)) this.ctx.layers.remove(id);
        },
        2000,
      );
    } catch {
      /* best effort: the failure being reported matters more */
    }
  }

  list(options: ListImagesOptions = {}): ImageSummary[] {
    const matches = this.filter(options.filters ?? []);
    const out: ImageSummary[] = [];
    // Plain comparisons: localeCompare would load ICU's collator, a few ms on every listing.
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    const images = this.ctx.images.list().sort((a, b) => cmp(b.created, a.created) || cmp(a.id, b.id));
    for (const image of images) {
      if ((image.intermediate && !options.all) || !matches(image)) continue;
      const base = {
        id: image.id,
        names: image.names,
        digest: image.digest,
        repoDigests: image.repoDigests,
        created: image.created,
        size: image.size,
        dangling: image.names.length === 0,
        history: image.namesHistory ?? image.names,
      };
      if (image.names.length === 0) out.push({ ...base, repository: '<none>', tag: '<none>' });
      for (const name of image.names) out.push({ ...base, ...splitTaggedName(name) });
    }
    return out;
  }

  // The local image `input` names: a name or id, or docker://NAME and containers-storage:NAME. An
  // archive or directory layout is no local image: pull, create and run copy it in. A short name
  // with an alias (registries.conf) is the image the alias names, as pulled; a manifest list
  // stands for its local image for this platform.
  private filter(filters: string[]): (image: ImageRecord) => boolean {
    return imageFilter(filters, { images: this.ctx.images.list(), config: (id) => this.ctx.images.config(id) });
  }

  resolve(input: string): ImageRecord {
    const record = this.find(input);
    return isManifestList(record) ? listInstance(this.ctx.images, record, input) : record;
  }

  // The stored image `input` names, a manifest list as itself (tag, untag, rmi act on the list).
  private find(input: string): ImageRecord {
    const transport = parseTransport(input);
    if (isLayout(transport)) throw new CliError('ENOIMAGE', `${input}: an image in an archive or directory is not in local storage (pull copies it in)`);
    const name = transport ? transport.name : input;
    const images = this.ctx.images.list();
    try {
      return findImage(images, name);
    } catch (error) {
      const alias = error instanceof CliError && error.code === 'ENOIMAGE' ? aliasedName(this.ctx.config, name) : undefined;
      if (!alias) throw error;
      return findImage(images, alias);
    }
  }

  exists(input: string): boolean {
    try {
      this.find(input);
      return true;
    } catch (error) {
      if (error instanceof CliError && (error.code === 'ENOIMAGE' || error.code === 'EREFERENCE')) return false;
      throw error;
    }
  }

  inspect(input: string): ImageInspectReport {
    const record = this.resolve(input);
    return { record, config: this.ctx.images.config(record.id) };
  }

  // `history`: the image's history entries, newest first, with their layers' sizes (image-history.ts).
  history(input: string): HistoryEntry[] {
    const record = this.resolve(input);
    return imageHistory(record, this.ctx.images.config(record.id), (id) => this.ctx.layers.get(id), this.ctx.images.list());
  }

  // Copies an image to or from another host over ssh (image-scp.ts).
  scp(source: string, destination?: string): Promise<ScpReport> {
    return imageScp(this.ctx, this, source, destination);
  }

  // Adds names to an image (each name moves off any image that had it).
  async tag(input: string, targets: string[]): Promise<ImageRecord> {
    const names = targets.map((t) => {
      const ref = parseReference(t);
      if (ref.digest) throw new CliError('EUSAGE', `cannot tag with a digest: "${t}"`);
      return formatReference(ref);
    });
    return withLock(this.ctx.images.lockPath(), async () => {
      const record = this.find(input);
      return this.ctx.images.setNamesLocked(record.id, [...new Set([...record.names, ...names])]);
    });
  }

  // Removes names from an image: the given ones, or all of them.
  async untag(input: string, targets: string[]): Promise<ImageRecord> {
    return withLock(this.ctx.images.lockPath(), async () => {
      const record = this.find(input);
      let remove = record.names;
      if (targets.length > 0) {
        remove = targets.map((t) => normalizeName(t));
        for (const name of remove)
          if (!record.names.includes(name)) throw new CliError('ENOIMAGE', `${name}: tag not known on image ${record.id.slice(7, 19)}`);
      }
      return this.ctx.images.setNamesLocked(
        record.id,
        record.names.filter((n) => !remove.includes(n)),
      );
    });
  }

  // Removes images (podman rmi): a name untags, and the image goes when no name is left or with
  // force; a mounted image is unmounted first. Then, unless `noPrune`, the dangling parents it
  // leaves (no name, no other child, no container) go too, as Podman's do. Caller has joined the
  // rootless user namespace (layers hold files of mapped uids).
  async remove(inputs: string[], options: { force?: boolean; all?: boolean; noPrune?: boolean } = {}): Promise<RemoveImageReport[]> {
    if (options.force) {
      // Containers go first (outside the store lock: removing one takes its own locks).
      const doomed = new Set(options.all ? this.ctx.images.list().map((i) => i.id) : inputs.flatMap((i) => (this.exists(i) ? [this.find(i).id] : [])));
      for (const c of this.ctx.containers.list()) if (doomed.has(c.imageId)) await this.removeContainer(c.id);
    }
    const mounts = await this.mounts();
    return withStoreLock(this.ctx, true, () =>
      withLock(this.ctx.images.lockPath(), async () => {
        const reports: RemoveImageReport[] = [];
        const targets = options.all ? this.ctx.images.list().map((i) => i.id) : inputs;
        const deleteImage = async (record: ImageRecord) => {
          await mounts.unmount(record, true);
          this.ctx.images.removeLocked(record.id);
        };
        for (const input of targets) {
          const report: RemoveImageReport = { input, untagged: [], deleted: false };
          reports.push(report);
          try {
            const { image: record, name: byName } = findImageMatch(this.ctx.images.list(), input);
            report.id = record.id;
            if (byName && record.names.length > 1 && !options.force) {
              this.ctx.images.setNamesLocked(
                record.id,
                record.names.filter((n) => n !== byName),
              );
              report.untagged.push(byName);
              continue;
            }
            const users = this.ctx.containers.list().filter((c) => c.imageId === record.id);
            if (users.length)
              throw new CliError(
                'ESTATE',
                `image ${record.id.slice(7, 19)} is in use by container ${users[0].name}: remove the container first, or use --force to remove both`,
              );
            const tree = options.noPrune ? undefined : this.layerTree();
            report.untagged.push(...record.names);
            await deleteImage(record);
            report.deleted = true;
            // Its dangling parents, while nothing else holds them.
            for (let parent = tree?.parent(record); parent; ) {
              const left = this.ctx.images.list();
              const inUse = this.ctx.containers.list().some((c) => c.imageId === parent!.id);
              if (parent.names.length || inUse || !left.some((i) => i.id === parent!.id) || tree!.hasChildren(parent, left)) break;
              const next = tree!.parent(parent);
              await deleteImage(parent);
              reports.push({ input: parent.id, id: parent.id, untagged: [], deleted: true });
              parent = next;
            }
          } catch (error) {
            report.error = error instanceof CliError ? error : new CliError('EINTERNAL', messageOf(error), { cause: error });
          }
        }
        this.collectLayersLocked();
        return reports;
      }),
    );
  }

  private layerTree(): LayerTree {
    return new LayerTree(this.ctx.images.list(), this.ctx.layers.list(), (i) => this.ctx.images.config(i.id).history?.length ?? 0);
  }

  private async mounts(): Promise<ImageMounts> {
    const { ImageMounts } = await import('./image-mounts.js');
    return new ImageMounts(this.ctx);
  }

  // image mount IMAGE...: mounts each read-only; the paths (valid in skiff's namespace). Caller
  // has joined the rootless user namespace.
  async mount(inputs: string[], options: { all?: boolean } = {}): Promise<ImageMountReport[]> {
    if (options.all && inputs.length) throw new CliError('EUSAGE', 'when using the --all switch, you may not pass any image names or IDs');
    const mounts = await this.mounts();
    const images = options.all ? this.ctx.images.list() : inputs.map((i) => this.resolve(i));
    const reports: ImageMountReport[] = [];
    for (const image of images) reports.push({ id: image.id, digest: image.digest, names: image.names, path: await mounts.mount(image) });
    return reports;
  }

  // image mount with no image: the images mounted now.
  async mounted(): Promise<ImageMountReport[]> {
    return (await this.mounts()).mounted(this.ctx.images.list());
  }

  // image unmount: one use of each image's mount (all with `force`); the ids of those that were mounted.
  async unmount(inputs: string[], options: { all?: boolean; force?: boolean } = {}): Promise<{ id: string; error?: CliError }[]> {
    if (options.all && inputs.length) throw new CliError('EUSAGE', 'when using the --all switch, you may not pass any image names or IDs');
    const mounts = await this.mounts();
    const out: { id: string; error?: CliError }[] = [];
    const images = options.all ? mounts.mounted(this.ctx.images.list()).map((m) => this.ctx.images.get(m.id)!) : inputs;
    for (const item of images) {
      try {
        const image = typeof item === 'string' ? this.resolve(item) : item;
        if (await mounts.unmount(image, options.force)) out.push({ id: image.id });
      } catch (error) {
        out.push({ id: String(item), error: error instanceof CliError ? error : new CliError('EINTERNAL', messageOf(error), { cause: error }) });
      }
    }
    return out;
  }

  // image tree: the image's layers (or, with `whatRequires`, every layer above its top one) and the images on them.
  tree(input: string, whatRequires = false): ImageTreeReport {
    return this.layerTree().report(this.resolve(input), whatRequires);
  }

  // image diff: what `input` changed against its parent image (its layers but the top one), or against `other`.
  async diff(input: string, other?: string): Promise<LayerChange[]> {
    const { diffLayers } = await import('../storage/layer-diff.js');
    const image = this.resolve(input);
    const paths = (layers: string[]) => layers.map((l) => this.ctx.layers.diffPath(l));
    const base = other ? this.resolve(other).layers : image.layers.slice(0, -1);
    return diffLayers(paths(base), paths(image.layers));
  }

  // Runs a commit under the store lock, dropping its new layer again if it fails.
  committing(fn: (installed: string[]) => Promise<ImageRecord>): Promise<ImageRecord> {
    return this.installing(fn);
  }

  // Makes a one-layer image from a root filesystem tarball (plain or gzipped; a path or a stream).
  // Caller has joined the rootless user namespace.
  async import(
    input: string | Readable,
    options: { names: string[]; changes: string[]; message?: string; platform?: { architecture?: string; os?: string; variant?: string } },
  ): Promise<ImageRecord> {
    const { createImageFromTar } = await import('../image/commit.js');
    const { createReadStream, existsSync } = await import('node:fs');
    const { createGunzip } = await import('node:zlib');
    const { pipeline } = await import('node:stream/promises');
    if (typeof input === 'string' && !existsSync(input)) throw new CliError('EUSAGE', `${input}: no such file`);
    const names = options.names.map((n) => normalizeName(n));
    return this.installing(async (installed) => {
      const tar = typeof input === 'string' ? createReadStream(input) : input;
      const first = await new Promise<Buffer>((resolve, reject) => {
        tar.once('readable', () => resolve((tar.read(2) as Buffer | null) ?? Buffer.alloc(0)));
        tar.once('error', reject);
      });
      tar.unshift(first);
      const plain = first[0] === 0x1f && first[1] === 0x8b ? tar.pipe(createGunzip()) : tar;
      return createImageFromTar(this.ctx, (out) => pipeline(plain, out, { end: false }), {
        names,
        changes: options.changes,
        message: options.message,
        createdBy: `skiff import ${typeof input === 'string' ? input : '-'}`,
        platform: options.platform,
        chown: this.chown(),
        installed,
      });
    });
  }

  // Removes dangling images (all unused ones with `all`) that match `filters` (and `match`: system
  // prune --filter); images that containers use stay (skiff's build containers are containers
  // too: none are "external").
  async prune(
    options: { all?: boolean; filters?: string[]; match?: (image: { created: string; labels: Record<string, string> }) => boolean } = {},
  ): Promise<RemoveImageReport[]> {
    const matches = this.filter(options.filters ?? []);
    const selected = (i: { id: string; created: string }) =>
      !options.match || options.match({ created: i.created, labels: this.ctx.images.config(i.id).config?.Labels ?? {} });
    const inUse = new Set(this.ctx.containers.list().map((c) => c.imageId));
    const victims = this.ctx.images.list().filter((i) => (options.all || i.names.length === 0) && !inUse.has(i.id) && matches(i) && selected(i));
    // (A victim that went as another's dangling parent is no error.)
    return (await this.remove(victims.map((i) => i.id))).filter((r) => r.error?.code !== 'ENOIMAGE');
  }

  // Pushes a local image to `destination` (default: its own name): a registry, or an archive or
  // directory layout (docker-archive:, oci-archive:, oci:, dir:); containers-storage:NAME tags it.
  // Reads only: no namespace needed.
  async push(input: string, destination: string | undefined, options: PushImageOptions, onEvent?: (event: PullEvent) => void): Promise<PushReport> {
    const record = this.resolve(input);
    const target = destination ?? record.names[0] ?? input;
    const transport = parseTransport(target);
    const kind: ManifestKind | undefined = options.format === 'oci' ? 'oci' : options.format === 'v2s2' ? 'docker' : undefined;
    if (options.compressionFormat === 'zstd' && kind === 'docker')
      throw new CliError('EUSAGE', 'zstd-compressed layers need an OCI manifest: use --format oci');
    if (transport?.transport === 'containers-storage') {
      const image = await this.tag(record.id, [transport.name]);
      return { digest: image.digest, reference: target, blobsPushed: 0, blobsExisting: image.layers.length };
    }
    if (isLayout(transport)) return this.pushToLayout(record, transport, options, kind);
    const dest = parseReference(transport?.transport === 'docker' ? transport.name : target);
    if (dest.digest) throw new CliError('EUSAGE', `push destination "${target}" must be a tag, not a digest`);
    const { pushImage } = await import('./lazy.js');
    const remote = await this.remoteOptions(options);
    // zstd layers are pushed as OCI (Docker's manifest has no type for them).
    const form: ExportOptions = {
      form: options.compressionFormat ?? 'stored',
      compressUncompressed: true,
      kind: options.compressionFormat === 'zstd' ? 'oci' : kind,
    };
    return withStoreLock(this.ctx, false, () => pushImage(this.ctx, record, dest, remote, onEvent, form));
  }

  private async pushToLayout(record: ImageRecord, ref: LayoutReference, options: PushImageOptions, kind: ManifestKind | undefined): Promise<PushReport> {
    const { saveImages } = await import('./lazy.js');
    const { format, item, exportOptions } = layoutPush(record, ref, options, kind);
    const [digest] = await withStoreLock(this.ctx, false, () => saveImages(this.ctx, [item], format, ref.path, { export: exportOptions }));
    return { digest, reference: formatTransport(ref), blobsPushed: record.layers.length, blobsExisting: 0 };
  }

  // Deletes layers no image references. Caller holds the store lock exclusively.
  private collectLayersLocked(): void {
    const used = new Set([...this.ctx.images.list(), ...this.ctx.containers.list()].flatMap((i) => i.layers));
    for (const layer of this.ctx.layers.list()) if (!used.has(layer.chainId)) this.ctx.layers.remove(layer.chainId);
  }
}
