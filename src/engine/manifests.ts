// Manifest lists (podman manifest): a list is an image in the store whose manifest is an index,
// with the source of each entry kept in its record. Edits hold images.lock; whatever is fetched
// from a registry is fetched before the lock is taken.
import { randomBytes } from 'node:crypto';
import { CliError, messageOf } from '../errors.js';
import type { ImageConfig } from '../image-format.js';
import {
  emptyList,
  findEntry,
  overrideEntry,
  parseAnnotations,
  parseList,
  removeEntry,
  serializeList,
  upsertEntry,
  type EntryOverrides,
  type ListFormat,
  type ManifestList,
} from '../image/manifest-list.js';
import type { SourcedEntry } from '../image/manifest-list-remote.js';
import type { ListPushReport } from '../image/manifest-list-push.js';
import type { PullEvent } from '../image/pull.js';
import { localName, parseReference, withRegistry, type ImageReference } from '../image/reference.js';
import type { ImageRecord } from '../storage/image-store.js';
import { sha256Digest } from '../util/digest.js';
import { withLock } from '../util/lock.js';
import { withStoreLock, type EngineContext } from './context.js';
import { findImageMatch } from './image-lookup.js';
import type { ImagesEngine, PullImageOptions } from './images.js';
import { entryImage, isManifestList, listInstance } from './list-lookup.js';

// The entry flags of add and annotate, as given.
export interface EntryFlags extends Omit<EntryOverrides, 'annotations'> {
  /** KEY=VALUE each. */
  annotation?: string[];
}

const toOverrides = (flags: EntryFlags): EntryOverrides => ({
  arch: flags.arch,
  os: flags.os,
  variant: flags.variant,
  osVersion: flags.osVersion,
  features: flags.features,
  osFeatures: flags.osFeatures,
  annotations: parseAnnotations(flags.annotation),
});

export interface ManifestAddOptions extends PullImageOptions, EntryFlags {
  /** An image that is a list adds all of its entries. */
  all?: boolean;
}

export interface ManifestPushOptions extends PullImageOptions {
  all: boolean;
  format?: ListFormat;
  /** --compression-format gzip. */
  gzipOnly?: boolean;
  /** Remove the local list once it is pushed. */
  rm?: boolean;
}

export interface ManifestRemoveReport {
  input: string;
  id?: string;
  untagged: string[];
  error?: CliError;
}

const OTHER_TRANSPORT = /^(oci-archive|oci|dir|docker-archive|docker-daemon|sif|tarball):/;

const notAList = (input: string): CliError =>
  new CliError('ESTATE', `${input}: image is not a manifest list: make one with \`skiff manifest create LIST ${input}\``);

// A local image's entry: its stored manifest, its platform from its config.
const localEntry = (ctx: EngineContext, image: ImageRecord): SourcedEntry => {
  const bytes = ctx.images.manifestBytes(image.id);
  const c = ctx.images.config(image.id) as ImageConfig & { 'os.version'?: string; 'os.features'?: string[] };
  const platform = {
    architecture: c.architecture ?? image.architecture,
    os: c.os ?? image.os,
    ...(c.variant ? { variant: c.variant } : {}),
    ...(c['os.version'] ? { 'os.version': c['os.version'] } : {}),
    ...(c['os.features']?.length ? { 'os.features': c['os.features'] } : {}),
  };
  return { entry: { mediaType: image.manifestMediaType, size: bytes.length, digest: sha256Digest(bytes), platform }, source: `containers-storage:${image.id}` };
};

export class ManifestsEngine {
  constructor(
    private readonly ctx: EngineContext,
    private readonly images: ImagesEngine,
  ) {}

  // The list `input` names; ENOIMAGE when nothing does, ESTATE for an image that is no list.
  private findList(input: string): { record: ImageRecord; list: ManifestList } {
    const { image } = findImageMatch(this.ctx.images.list(), input);
    if (!isManifestList(image)) throw notAList(input);
    return { record: image, list: parseList(this.ctx.images.manifestBytes(image.id)) };
  }

  exists(input: string): boolean {
    try {
      this.findList(input);
      return true;
    } catch (error) {
      if (error instanceof CliError && (error.code === 'ENOIMAGE' || error.code === 'EREFERENCE')) return false;
      throw error;
    }
  }

  // What `inputs` add to a list: local images (containers-storage:, or any name stored here) and
  // registry images (docker://, or a name not stored here), fetched before any lock is taken.
  private async resolveEntries(inputs: string[], options: ManifestAddOptions): Promise<SourcedEntry[]> {
    const out: SourcedEntry[] = [];
    for (const input of inputs) {
      if (OTHER_TRANSPORT.test(input))
        throw new CliError('EUSAGE', `${input}: skiff adds local images (containers-storage:NAME) and registry images (docker://NAME) to manifest lists`);
      const remote = input.startsWith('docker://');
      const name = input.replace(/^(docker:\/\/|containers-storage:)/, '');
      if (!remote) {
        const local = this.localEntries(name, options.all === true, !input.startsWith('containers-storage:'));
        if (local) {
          out.push(...local);
          continue;
        }
      }
      out.push(...(await this.remoteEntries(name, options)));
    }
    return out;
  }

  // A stored image's entry, or a stored list's (its entry for this machine, or all with `all`);
  // undefined when nothing here has that name and `orRemote` lets the registry be asked.
  private localEntries(name: string, all: boolean, orRemote: boolean): SourcedEntry[] | undefined {
    let image: ImageRecord;
    try {
      image = findImageMatch(this.ctx.images.list(), name).image;
    } catch (error) {
      if (orRemote && error instanceof CliError && error.code === 'ENOIMAGE') return undefined;
      throw error;
    }
    if (!isManifestList(image)) return [localEntry(this.ctx, image)];
    if (!all) return [localEntry(this.ctx, listInstance(this.ctx.images, image, name))];
    return parseList(this.ctx.images.manifestBytes(image.id)).manifests.map((entry) => {
      const stored = entryImage(this.ctx.images, image, entry.digest);
      return { entry, source: image.listSources?.[entry.digest] ?? (stored ? `containers-storage:${stored.id}` : '') };
    });
  }

  // A registry image's entries; a short name is looked for in each search registry in turn.
  private async remoteEntries(name: string, options: ManifestAddOptions): Promise<SourcedEntry[]> {
    const { fetchListEntries, parseCredsFlag } = await import('./lazy.js');
    const ref = parseReference(name);
    const remote = {
      tlsVerify: options.tlsVerify,
      credentials: options.creds ? parseCredsFlag(options.creds) : undefined,
      authFile: options.authfile,
      certDir: options.certDir,
    };
    const candidates: ImageReference[] = ref.qualified ? [ref] : this.ctx.config.unqualifiedSearchRegistries.map((r) => withRegistry(ref, r));
    if (candidates.length === 0)
      throw new CliError('EREFERENCE', `${name}: no such local image, and no unqualified-search-registries to look for it in: use a full name`);
    let first: unknown;
    for (const candidate of candidates) {
      try {
        return await fetchListEntries(this.ctx, candidate, remote, options.all === true);
      } catch (error) {
        if (!(error instanceof CliError && (error.code === 'ENOIMAGE' || error.code === 'EUNREACHABLE'))) throw error;
        first ??= error;
      }
    }
    throw first;
  }

  // Applies `entries` to the list (under images.lock); returns the list's id.
  private async edit(input: string, entries: SourcedEntry[], overrides: EntryOverrides): Promise<string> {
    return withLock(this.ctx.images.lockPath(), async () => {
      const { record, list } = this.findList(input);
      this.writeLocked(record, entries, list, overrides);
      return record.id;
    });
  }

  private writeLocked(record: ImageRecord, entries: SourcedEntry[], list: ManifestList, overrides: EntryOverrides): void {
    let next = list;
    const sources = { ...record.listSources };
    for (const { entry, source } of entries) {
      next = upsertEntry(next, overrideEntry(entry, overrides));
      if (source) sources[entry.digest] = source;
    }
    this.rewriteLocked(record, next, sources);
  }

  private rewriteLocked(record: ImageRecord, list: ManifestList, sources: Record<string, string>): void {
    const bytes = serializeList(list, 'stored');
    const kept = Object.fromEntries(Object.entries(sources).filter(([digest]) => list.manifests.some((e) => e.digest === digest)));
    const manifestMediaType = (JSON.parse(bytes.toString('utf8')) as ManifestList).mediaType;
    this.ctx.images.rewriteLocked({ ...record, digest: sha256Digest(bytes), manifestMediaType, size: bytes.length, listSources: kept }, bytes);
  }

  // manifest create: a new list named `name` (or, with `amend`, the list of that name) with `inputs` in it.
  async create(name: string, inputs: string[], options: ManifestAddOptions & { amend?: boolean }): Promise<string> {
    if (parseReference(name).digest) throw new CliError('EUSAGE', `${name}: a list's name takes a tag, not a digest`);
    const full = localName(name);
    const entries = await this.resolveEntries(inputs, options);
    return withLock(this.ctx.images.lockPath(), async () => {
      const taken = this.ctx.images.list().find((i) => i.names.includes(full));
      if (taken) {
        if (!options.amend)
          throw new CliError(
            'ESTATE',
            `${full} is already the name of image ${taken.id.slice(7, 19)}: choose another name, or use --amend to change that list`,
          );
        if (!isManifestList(taken)) throw notAList(full);
        this.writeLocked(taken, entries, parseList(this.ctx.images.manifestBytes(taken.id)), {});
        return taken.id;
      }
      const bytes = serializeList(emptyList(), 'stored');
      const now = new Date().toISOString();
      const record: ImageRecord = {
        id: `sha256:${randomBytes(32).toString('hex')}`,
        names: [full],
        repoDigests: [],
        digest: sha256Digest(bytes),
        manifestMediaType: emptyList().mediaType,
        layers: [],
        size: bytes.length,
        created: now,
        stored: now,
        architecture: '',
        os: '',
        listSources: {},
      };
      const stored = this.ctx.images.putLocked(record, bytes, Buffer.from('{}'));
      if (entries.length) this.writeLocked(stored, entries, emptyList(), {});
      return stored.id;
    });
  }

  async add(input: string, images: string[], options: ManifestAddOptions): Promise<string> {
    const overrides = toOverrides(options);
    this.findList(input);
    return this.edit(input, await this.resolveEntries(images, options), overrides);
  }

  // manifest annotate: `target` is an entry's digest, or a local image in the list.
  async annotate(input: string, target: string, flags: EntryFlags): Promise<string> {
    const overrides = toOverrides(flags);
    return withLock(this.ctx.images.lockPath(), async () => {
      const { record, list } = this.findList(input);
      const digest = target.startsWith('sha256:') ? target : localEntry(this.ctx, this.images.resolve(target)).entry.digest;
      const entry = findEntry(list, digest, input);
      this.rewriteLocked(record, upsertEntry(list, overrideEntry(entry, overrides)), { ...record.listSources });
      return record.id;
    });
  }

  // manifest remove: drops the entry with `digest`.
  async removeEntry(input: string, digest: string): Promise<string> {
    return withLock(this.ctx.images.lockPath(), async () => {
      const { record, list } = this.findList(input);
      this.rewriteLocked(record, removeEntry(list, digest, input), { ...record.listSources });
      return record.id;
    });
  }

  // manifest inspect: a local list's index, else what the registry serves for `input`.
  async inspect(input: string, options: PullImageOptions): Promise<unknown> {
    try {
      return parseList(this.ctx.images.manifestBytes(this.findList(input).record.id));
    } catch (error) {
      if (!(error instanceof CliError && (error.code === 'ENOIMAGE' || error.code === 'ESTATE' || error.code === 'EREFERENCE'))) throw error;
    }
    return this.images.inspectRemote(input.replace(/^docker:\/\//, ''), options);
  }

  // manifest push: the list's images (with `all`) and the list, to `destination` or its own name.
  async push(input: string, destination: string | undefined, options: ManifestPushOptions, onEvent?: (event: PullEvent) => void): Promise<ListPushReport> {
    const { pushManifestList, parseCredsFlag } = await import('./lazy.js');
    const { record, list } = this.findList(input);
    if (destination && OTHER_TRANSPORT.test(destination))
      throw new CliError('EUSAGE', `${destination}: skiff pushes manifest lists to registries only (docker://NAME)`);
    const dest = parseReference((destination ?? record.names[0] ?? '').replace(/^docker:\/\//, '') || input);
    if (dest.digest) throw new CliError('EUSAGE', `push destination "${destination}" must be a tag, not a digest`);
    const remote = {
      tlsVerify: options.tlsVerify,
      credentials: options.creds ? parseCredsFlag(options.creds) : undefined,
      authFile: options.authfile,
      certDir: options.certDir,
    };
    const report = await withStoreLock(this.ctx, false, () =>
      pushManifestList(this.ctx, record, list, dest, { ...remote, all: options.all, format: options.format, gzipOnly: options.gzipOnly }, onEvent),
    );
    if (options.rm) await this.rm([record.id]);
    return report;
  }

  // manifest rm: the lists go (their images stay).
  async rm(inputs: string[]): Promise<ManifestRemoveReport[]> {
    return withLock(this.ctx.images.lockPath(), async () =>
      inputs.map((input) => {
        const report: ManifestRemoveReport = { input, untagged: [] };
        try {
          const { record } = this.findList(input);
          report.id = record.id;
          report.untagged = record.names;
          this.ctx.images.removeLocked(record.id);
        } catch (error) {
          report.error = error instanceof CliError ? error : new CliError('EINTERNAL', messageOf(error), { cause: error });
          // Podman's exit code for a list that is not there.
          if (report.error.code === 'ENOIMAGE') report.error = new CliError('ENOIMAGE', report.error.message, { exitCode: 1 });
        }
        return report;
      }),
    );
  }
}
