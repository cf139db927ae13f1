// The image half of the engine: typed options in, typed reports out; never prints.
import type { Readable } from 'node:stream';
import { CliError, messageOf } from '../errors.js';
import { parsePlatform } from '../image/manifest.js';
import type { ImageConfig } from '../image-format.js';
import type { PullEvent, PullReport } from '../image/pull.js';
import type { PushReport } from '../image/push.js';
import type { SearchResult } from '../image/remote.js';
import type { ArchiveFormat, LoadedImage } from '../image/archive.js';
import { formatReference, normalizeName, parseReference, splitTaggedName } from '../image/reference.js';
import type { ImageRecord } from '../storage/image-store.js';
import { withLock } from '../util/lock.js';
import { withStoreLock, type EngineContext } from './context.js';
import { findImage, findImageMatch } from './image-lookup.js';
import { isManifestList, listInstance } from './list-lookup.js';
import { aliasedName } from '../image/short-names.js';

export interface PullImageOptions {
  platform?: string;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
  certDir?: string;
  /** Attempts after the first (--retry), and the wait between them in ms (--retry-delay). */
  retry?: number;
  retryDelayMs?: number;
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

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

// Podman's reference filter: the pattern may name the full name, the repository, or its tail.
const matchesReference = (name: string, pattern: string): boolean => {
  const re = globToRegExp(pattern.includes(':') || pattern.includes('*') ? pattern : `${pattern}:*`);
  const { repository, tag } = splitTaggedName(name);
  const forms = [name, repository];
  const parts = repository.split('/');
  for (let i = 1; i < parts.length; i++) {
    forms.push(`${parts.slice(i).join('/')}:${tag}`, parts.slice(i).join('/'));
  }
  return forms.some((f) => re.test(f));
};

const parseFilters = (filters: string[] = []): ((image: ImageRecord) => boolean)[] =>
  filters.map((filter) => {
    const eq = filter.indexOf('=');
    const key = eq > 0 ? filter.slice(0, eq) : filter;
    const value = eq > 0 ? filter.slice(eq + 1) : '';
    switch (key) {
      case 'dangling':
        if (value !== 'true' && value !== 'false') throw new CliError('EUSAGE', `invalid filter "${filter}": dangling takes true or false`);
        return (i) => (i.names.length === 0) === (value === 'true');
      case 'reference':
        if (!value) throw new CliError('EUSAGE', `invalid filter "${filter}": reference needs a pattern`);
        return (i) => i.names.some((n) => matchesReference(n, value));
      case 'id':
        return (i) => i.id.slice(7).startsWith(value.replace(/^sha256:/, ''));
      case 'before':
      case 'since': {
        return (i) => {
          throw new CliError('EUSAGE', `filter ${key} is not supported yet (image ${i.id.slice(7, 19)})`);
        };
      }
      default:
        throw new CliError('EUSAGE', `invalid filter "${filter}": supported filters are dangling=true|false, reference=PATTERN, id=ID`);
    }
  });

export class ImagesEngine {
  constructor(
    private readonly ctx: EngineContext,
    /** Removes a container by id (rmi --force takes the image's containers with it). */
    private readonly removeContainer: (id: string) => Promise<unknown> = async () => undefined,
  ) {}

  // Pulls an image into the store. Caller has joined the rootless user namespace.
  async pull(input: string, options: PullImageOptions, onEvent?: (event: PullEvent) => void): Promise<PullReport> {
    const ref = parseReference(input);
    const platform = options.platform ? parsePlatform(options.platform) : undefined;
    const { pullImage } = await import('./lazy.js');
    const remote = await this.remoteOptions(options);
    return this.installing((installed) => pullImage(this.ctx, ref, { ...remote, platform, chown: this.chown(), installed }, onEvent));
  }

  // Loads a docker-archive or oci-archive (a path, or a stream such as stdin). Caller has joined
  // the rootless user namespace.
  async load(input: string | Readable): Promise<LoadedImage[]> {
    const { loadImages } = await import('./lazy.js');
    return this.installing((installed) => loadImages(this.ctx, input, { chown: this.chown(), installed }));
  }

  // Saves images into an archive file (or stream). A name the user gave is kept; an id saves all names.
  async save(inputs: string[], format: ArchiveFormat, output: string | NodeJS.WritableStream): Promise<void> {
    const { saveImages } = await import('./lazy.js');
    const images = this.ctx.images.list();
    const items = inputs.map((input) => {
      const { image, name } = findImageMatch(images, input);
      if (isManifestList(image))
        throw new CliError('EUSAGE', `${input} is a manifest list: save one of its images, or push the list with \`skiff manifest push\``);
      return { image, names: name ? [name] : image.names };
    });
    await withStoreLock(this.ctx, false, () => saveImages(this.ctx, items, format, output));
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
    const predicates = parseFilters(options.filters);
    const out: ImageSummary[] = [];
    // Plain comparisons: localeCompare would load ICU's collator, a few ms on every listing.
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    const images = this.ctx.images.list().sort((a, b) => cmp(b.created, a.created) || cmp(a.id, b.id));
    for (const image of images) {
      if ((image.intermediate && !options.all) || !predicates.every((p) => p(image))) continue;
      const base = {
        id: image.id,
        names: image.names,
        digest: image.digest,
        repoDigests: image.repoDigests,
        created: image.created,
        size: image.size,
        dangling: image.names.length === 0,
      };
      if (image.names.length === 0) out.push({ ...base, repository: '<none>', tag: '<none>' });
      for (const name of image.names) out.push({ ...base, ...splitTaggedName(name) });
    }
    return out;
  }

  // The image `input` names; a manifest list stands for its local image for this platform.
  resolve(input: string): ImageRecord {
    const images = this.ctx.images.list();
    let record: ImageRecord;
    try {
      record = findImage(images, input);
    } catch (error) {
      // A short name with an alias (registries.conf) is the image the alias names, as pulled.
      const alias = error instanceof CliError && error.code === 'ENOIMAGE' ? aliasedName(this.ctx.config, input) : undefined;
      if (!alias) throw error;
      record = findImage(images, alias);
    }
    return isManifestList(record) ? listInstance(this.ctx.images, record, input) : record;
  }

  // The stored image `input` names, a manifest list as itself (tag, untag, rmi act on the list).
  private find(input: string): ImageRecord {
    return findImage(this.ctx.images.list(), input);
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
  // force. Caller has joined the rootless user namespace (layers hold files of mapped uids).
  async remove(inputs: string[], options: { force?: boolean; all?: boolean } = {}): Promise<RemoveImageReport[]> {
    if (options.force) {
      // Containers go first (outside the store lock: removing one takes its own locks).
      const doomed = new Set(options.all ? this.ctx.images.list().map((i) => i.id) : inputs.flatMap((i) => (this.exists(i) ? [this.find(i).id] : [])));
      for (const c of this.ctx.containers.list()) if (doomed.has(c.imageId)) await this.removeContainer(c.id);
    }
    return withStoreLock(this.ctx, true, () =>
      withLock(this.ctx.images.lockPath(), async () => {
        const reports: RemoveImageReport[] = [];
        const targets = options.all ? this.ctx.images.list().map((i) => i.id) : inputs;
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
            report.untagged.push(...record.names);
            this.ctx.images.removeLocked(record.id);
            report.deleted = true;
          } catch (error) {
            report.error = error instanceof CliError ? error : new CliError('EINTERNAL', messageOf(error), { cause: error });
          }
        }
        this.collectLayersLocked();
        return reports;
      }),
    );
  }

  // Runs a commit under the store lock, dropping its new layer again if it fails.
  committing(fn: (installed: string[]) => Promise<ImageRecord>): Promise<ImageRecord> {
    return this.installing(fn);
  }

  // Makes a one-layer image from a root filesystem tarball (plain or gzipped; a path or a stream).
  // Caller has joined the rootless user namespace.
  async import(input: string | Readable, options: { names: string[]; changes: string[]; message?: string }): Promise<ImageRecord> {
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
        chown: this.chown(),
        installed,
      });
    });
  }

  // Removes dangling images (all unused ones with `all`); images that containers use stay.
  // `match`: only the images it selects (system prune --filter).
  async prune(options: { all?: boolean; match?: (image: { created: string; labels: Record<string, string> }) => boolean } = {}): Promise<RemoveImageReport[]> {
    const inUse = new Set(this.ctx.containers.list().map((c) => c.imageId));
    const selected = (i: { id: string; created: string }) =>
      !options.match || options.match({ created: i.created, labels: this.ctx.images.config(i.id).config?.Labels ?? {} });
    const victims = this.ctx.images.list().filter((i) => (options.all || i.names.length === 0) && !inUse.has(i.id) && selected(i));
    return this.remove(victims.map((i) => i.id));
  }

  // Pushes a local image to `destination` (default: its own name). Reads only: no namespace needed.
  async push(input: string, destination: string | undefined, options: PullImageOptions, onEvent?: (event: PullEvent) => void): Promise<PushReport> {
    const { pushImage } = await import('./lazy.js');
    const record = this.resolve(input);
    const dest = parseReference(destination ?? record.names[0] ?? input);
    if (dest.digest) throw new CliError('EUSAGE', `push destination "${destination}" must be a tag, not a digest`);
    const remote = await this.remoteOptions(options);
    return withStoreLock(this.ctx, false, () => pushImage(this.ctx, record, dest, remote, onEvent));
  }

  // The manifest or index a remote reference names, as the registry serves it.
  async inspectRemote(input: string, options: PullImageOptions): Promise<unknown> {
    const { inspectRemoteManifest } = await import('./lazy.js');
    return inspectRemoteManifest(this.ctx, parseReference(input), await this.remoteOptions(options));
  }

  // The digest of the manifest a remote reference names now (auto-update).
  async remoteDigest(input: string, options: PullImageOptions): Promise<string> {
    const { remoteManifestDigest } = await import('./lazy.js');
    return remoteManifestDigest(this.ctx, parseReference(input), await this.remoteOptions(options));
  }

  // Searches a registry's catalog: "host/term", or a term in each search registry.
  async search(input: string, options: PullImageOptions & { limit?: number }): Promise<SearchResult[]> {
    const { searchCatalog } = await import('./lazy.js');
    const slash = input.indexOf('/');
    const first = slash > 0 ? input.slice(0, slash) : '';
    const qualified = first.includes('.') || first.includes(':') || first === 'localhost';
    const registries = qualified ? [first] : this.ctx.config.unqualifiedSearchRegistries;
    const term = qualified ? input.slice(slash + 1) : input;
    const results: SearchResult[] = [];
    for (const registry of registries) results.push(...(await searchCatalog(this.ctx, registry, term, options.limit ?? 25, await this.remoteOptions(options))));
    return results;
  }

  async listTags(input: string, options: PullImageOptions): Promise<{ name: string; tags: string[] }> {
    const { listTags } = await import('./lazy.js');
    const ref = parseReference(input);
    return { name: `${ref.registry}/${ref.repository}`, tags: await listTags(this.ctx, ref, await this.remoteOptions(options)) };
  }

  // Flags shared by every command that talks to a registry, as the registry code takes them.
  private async remoteOptions(options: PullImageOptions) {
    const { parseCredsFlag } = await import('./lazy.js');
    return {
      tlsVerify: options.tlsVerify,
      credentials: options.creds ? parseCredsFlag(options.creds) : undefined,
      authFile: options.authfile,
      ...(options.certDir !== undefined ? { certDir: options.certDir } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    };
  }

  // Checks credentials against the registry, then stores them (auth file mode 0600).
  async login(registry: string, options: LoginOptions): Promise<string> {
    const { withRegistryClient, storeCredentials } = await import('./lazy.js');
    const host = registry.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const credentials = { username: options.username, password: options.password };
    await withRegistryClient(this.ctx, { registry: host, name: host, attempts: 2 }, { tlsVerify: options.tlsVerify, credentials }, async (client) => {
      const res = await client.request('/v2/', { scope: '' });
      await res.body.dump();
    });
    const file = options.authfile ?? this.ctx.paths.authFile;
    storeCredentials(host, file, credentials);
    return file;
  }

  // logout --all: every registry's credentials in the auth file go; the registries there were.
  async logoutAll(options: { authfile?: string }): Promise<string[]> {
    const { removeAllCredentials } = await import('./lazy.js');
    return removeAllCredentials(options.authfile ?? this.ctx.paths.authFile);
  }

  async logout(registry: string, options: { authfile?: string }): Promise<boolean> {
    const { removeCredentials } = await import('./lazy.js');
    return removeCredentials(registry.replace(/^https?:\/\//, ''), options.authfile ?? this.ctx.paths.authFile);
  }

  // Deletes layers no image references. Caller holds the store lock exclusively.
  private collectLayersLocked(): void {
    const used = new Set([...this.ctx.images.list(), ...this.ctx.containers.list()].flatMap((i) => i.layers));
    for (const layer of this.ctx.layers.list()) if (!used.has(layer.chainId)) this.ctx.layers.remove(layer.chainId);
  }
}

export interface LoginOptions {
  username: string;
  password: string;
  tlsVerify?: boolean;
  authfile?: string;
}
