// The registry side of the image engine: a remote manifest or its digest, a catalog search, a
// repository's tags, and credentials (login, logout). ImagesEngine extends it.
import { CliError } from '../errors.js';
import { parseReference } from '../image/reference.js';
import type { SearchResult } from '../image/remote.js';
import type { EngineContext } from './context.js';

export interface PullImageOptions {
  platform?: string;
  /** The platform's variant (pull --variant), when `platform` does not give one. */
  variant?: string;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
  /** A certs.d-style directory: *.crt CAs, *.cert/*.key client pairs (--cert-dir). */
  certDir?: string;
  /** Attempts after the first (--retry), and the wait between them in ms (--retry-delay). */
  retry?: number;
  retryDelayMs?: number;
}

export interface LoginOptions {
  username: string;
  password: string;
  tlsVerify?: boolean;
  authfile?: string;
  certDir?: string;
}

// search --filter: stars=N (at least N), is-official=BOOL, is-automated=BOOL; all must hold.
const searchFilter = (filters: string[]): ((r: SearchResult) => boolean) => {
  const tests = filters.map((filter): ((r: SearchResult) => boolean) => {
    const [, key, value] = /^([a-z-]+)=(.*)$/.exec(filter) ?? [];
    const bool = (v: string) => {
      if (v !== 'true' && v !== 'false') throw new CliError('EUSAGE', `invalid filter "${filter}": ${key} takes true or false`);
      return v === 'true';
    };
    if (key === 'stars') {
      if (!/^\d+$/.test(value)) throw new CliError('EUSAGE', `invalid filter "${filter}": stars takes a number`);
      return (r) => r.stars >= Number(value);
    }
    if (key === 'is-official')
      return (
        (want) => (r: SearchResult) =>
          r.official === want
      )(bool(value));
    if (key === 'is-automated')
      return (
        (want) => (r: SearchResult) =>
          r.automated === want
      )(bool(value));
    throw new CliError('EUSAGE', `invalid filter "${filter}": search takes stars=N, is-official=true|false and is-automated=true|false`);
  });
  return (r) => tests.every((t) => t(r));
};

export class ImageRegistry {
  constructor(protected readonly ctx: EngineContext) {}

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

  // image sign: a simple signature of each docker:// image's manifest (with `all`, of an index's
  // every instance too), made with the user's gpg key `signBy`, written to `directory` or the
  // lookaside store registries.d names for writing. Returns the files written.
  async sign(inputs: string[], options: PullImageOptions & { signBy: string; directory?: string; all?: boolean }): Promise<string[]> {
    const { remoteManifestDigest, inspectRemoteManifest, lookasideFor, writeSignature } = await import('./lazy.js');
    const remote = await this.remoteOptions(options);
    const written: string[] = [];
    for (const input of inputs) {
      if (!input.startsWith('docker://'))
        throw new CliError('EUSAGE', `invalid image name "${input}": skiff signs images in a registry, name them as docker://REFERENCE`);
      const ref = parseReference(input.slice('docker://'.length));
      const name = `${ref.registry}/${ref.repository}`;
      let dir = options.directory;
      if (!dir) {
        const store = lookasideFor(name, true);
        if (!store.startsWith('file://'))
          throw new CliError('EUSAGE', `the lookaside store for ${name} is ${store}, which skiff cannot write to: use --directory`);
        dir = store.slice('file://'.length);
      }
      const reference = `${name}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
      const digests = [await remoteManifestDigest(this.ctx, ref, remote)];
      if (options.all) {
        const top = (await inspectRemoteManifest(this.ctx, ref, remote)) as { manifests?: { digest?: string }[] };
        for (const m of top.manifests ?? []) if (m.digest) digests.push(m.digest);
      }
      for (const manifestDigest of digests)
        written.push(await writeSignature(dir, { name, repository: ref.repository, reference, manifestDigest }, options.signBy));
    }
    return written;
  }

  // Searches a registry's catalog: "host/term", or a term in each search registry.
  async search(input: string, options: PullImageOptions & { limit?: number; filters?: string[] }): Promise<SearchResult[]> {
    const matches = searchFilter(options.filters ?? []);
    const { searchCatalog } = await import('./lazy.js');
    const slash = input.indexOf('/');
    const first = slash > 0 ? input.slice(0, slash) : '';
    const qualified = first.includes('.') || first.includes(':') || first === 'localhost';
    const registries = qualified ? [first] : this.ctx.config.unqualifiedSearchRegistries;
    const term = qualified ? input.slice(slash + 1) : input;
    const results: SearchResult[] = [];
    for (const registry of registries) results.push(...(await searchCatalog(this.ctx, registry, term, options.limit ?? 25, await this.remoteOptions(options))));
    return results.filter(matches);
  }

  async listTags(input: string, options: PullImageOptions): Promise<{ name: string; tags: string[] }> {
    const { listTags } = await import('./lazy.js');
    const ref = parseReference(input);
    return { name: `${ref.registry}/${ref.repository}`, tags: await listTags(this.ctx, ref, await this.remoteOptions(options)) };
  }

  // Flags shared by every command that talks to a registry, as the registry code takes them.
  protected async remoteOptions(options: PullImageOptions) {
    const { parseCredsFlag } = await import('./lazy.js');
    return {
      tlsVerify: options.tlsVerify,
      credentials: options.creds ? parseCredsFlag(options.creds) : undefined,
      authFile: options.authfile,
      certDir: options.certDir,
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    };
  }

  // Checks credentials against the registry, then stores them (auth file mode 0600).
  async login(registry: string, options: LoginOptions): Promise<string> {
    const { withRegistryClient, storeCredentials } = await import('./lazy.js');
    const host = registry.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const credentials = { username: options.username, password: options.password };
    await withRegistryClient(
      this.ctx,
      { registry: host, name: host, attempts: 2 },
      { tlsVerify: options.tlsVerify, credentials, certDir: options.certDir },
      async (client) => {
        const res = await client.request('/v2/', { scope: '' });
        await res.body.dump();
      },
    );
    const file = options.authfile ?? this.ctx.paths.authFile;
    storeCredentials(host, file, credentials);
    return file;
  }

  // login --get-login: the user name stored for the registry (the auth file, then Docker's).
  async loginUser(registry: string, options: { authfile?: string }): Promise<string> {
    const { lookupCredentials } = await import('./lazy.js');
    const host = registry.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const creds = lookupCredentials(host, options.authfile ?? this.ctx.paths.authFile);
    if (!creds) throw new CliError('EUSAGE', `not logged into ${host}`);
    return creds.username;
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
}
