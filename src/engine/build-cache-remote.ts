// --cache-from and --cache-to: a registry repository as a build cache shared between machines, as
// Buildah's. A step's image is pushed (--cache-to) under its cache key as the tag; a step the local
// cache misses is looked up there (--cache-from) and pulled instead of run. The key covers the
// base image's id and everything the step takes, so a tag names one result.
import { CliError, messageOf } from '../errors.js';
import { formatPlatform } from '../image/manifest.js';
import { parseReference } from '../image/reference.js';
import type { BuildEvent, BuildOptions } from './builds.js';
import { targetPlatform } from './build-platform.js';
import type { ImagesEngine } from './images.js';

// A repository without tag or digest: the cache's tags are its own.
const repository = (value: string, flag: string): string => {
  const ref = parseReference(value);
  if (ref.digest || /:[^/]*$/.test(value)) throw new CliError('EUSAGE', `${flag} ${value}: name a repository, without a tag or digest`);
  return `${ref.registry}/${ref.repository}`;
};

export class RemoteCache {
  private readonly from?: string;
  private readonly to?: string;
  private warned = false;

  constructor(
    private readonly images: ImagesEngine,
    private readonly options: BuildOptions,
    private readonly onEvent: (event: BuildEvent) => void,
  ) {
    if (options.cacheFrom) this.from = repository(options.cacheFrom, '--cache-from');
    if (options.cacheTo) this.to = repository(options.cacheTo, '--cache-to');
  }

  // The image the registry has for `key`, pulled (and left without the tag's name); undefined when
  // it has none. A registry that cannot be reached is a miss, said once.
  async pull(key: string): Promise<string | undefined> {
    if (!this.from) return undefined;
    const name = `${this.from}:${key}`;
    const target = targetPlatform(this.options);
    try {
      const report = await this.images.pull(name, { ...this.options.remote, ...(target.explicit ? { platform: formatPlatform(target) } : {}) });
      await this.images.untag(report.image.id, [name]).catch(() => undefined);
      return report.image.id;
    } catch (error) {
      if (error instanceof CliError && error.code === 'ENOIMAGE') return undefined;
      this.warn(`--cache-from ${this.options.cacheFrom}: ${messageOf(error)}; the step runs here`);
      return undefined;
    }
  }

  // Pushes a step's image under its key. A failure is said and the build goes on (Buildah's rule).
  async push(key: string, id: string): Promise<void> {
    if (!this.to) return;
    try {
      await this.images.push(id, `${this.to}:${key}`, this.options.remote ?? {});
    } catch (error) {
      this.warn(`--cache-to ${this.options.cacheTo}: ${messageOf(error)}`);
    }
  }

  private warn(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.onEvent({ kind: 'warning', message });
  }
}
