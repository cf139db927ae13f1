// One build's run through its stages (see builds.ts): FROM and its ONBUILD triggers, each step in
// order (metadata into the config; RUN, COPY and ADD in build containers whose changes become a layer
// and an intermediate image, the step's cache entry), and the result as a named image.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildCache, stepKey } from '../build/cache.js';
import { BuildContext } from '../build/context.js';
import { type Dockerfile, type Instruction, parseTrigger } from '../build/dockerfile.js';
import { ignoreMatcher } from '../build/ignore.js';
import { applyMetadata, commandOf, DEFAULT_SHELL, envValue, scratchConfig, withEnv } from '../build/image-config.js';
import type { Platform } from '../image-format.js';
import { VERSION } from '../version.js';
import { type Stage, type Step, typeInstruction } from '../build/instructions.js';
import { CliError } from '../errors.js';
import { log } from '../util/log.js';
import type { ImageConfig } from '../image-format.js';
import { formatPlatform, hostPlatform, parsePlatform } from '../image/manifest.js';
import { toInner } from '../util/idmap.js';
import { runAttached } from './build-attach.js';
import { RemoteCache } from './build-cache-remote.js';
import { applyPlatform, checkRunnable, configMatches, type TargetPlatform, targetPlatform } from './build-platform.js';
import { copyIntoRoot, downloadSource, mergeLayer, mountsKey, mountTargets, planCopy, type RunMounts, runMounts, withLayer } from './build-steps.js';
import { closeQuietly, mkdirInRoot, openInRootIfExists } from '../util/in-root.js';
import { O_PATH } from '../util/native.js';
import type { ContainersEngine } from './containers.js';
import type { EngineContext } from './context.js';
import type { ImagesEngine } from './images.js';
import type { ContainerLogs } from './logs.js';
import type { BuildEvent, BuildOptions, BuildReport } from './builds.js';

/** The engine's parts a build works with. */
export interface BuildEngine {
  ctx: EngineContext;
  containers: ContainersEngine;
  images: ImagesEngine;
  logs: ContainerLogs;
}

export interface StageResult {
  imageId?: string;
  config: ImageConfig;
  key: string;
  /** How many of its layers the stage's base had (what --squash keeps). */
  baseLayers?: number;
  /** The platform of the base's binaries (what RUN steps run), whatever the config is set to say. */
  binaries?: Platform;
}

// One stage's progress: the config so far, the last image stored (what a build container starts
// from) and the cache key of everything up to here.
interface StageState extends StageResult {
  args: Map<string, string | undefined>;
  /** The config changed since imageId was stored. */
  pending: boolean;
  /** This stage set a CMD (an ENTRYPOINT keeps it; it drops the base image's). */
  cmdSet: boolean;
}

/** The label a build's result carries unless --identity-label=false (Podman's io.buildah.version). */
const IDENTITY_LABEL = 'io.skiff.version';

const PROXY_ARGS = new Set(['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((k) => [k, k.toLowerCase()]));

// One build's run through its stages.
export class BuildRun {
  private failed = false;
  private readonly created: string;
  /** The platform the build is for (FROM's pick, the config's platform). */
  readonly target: TargetPlatform;
  private readonly remoteCache?: RemoteCache;

  constructor(
    private readonly engine: BuildEngine,
    private readonly options: BuildOptions,
    private readonly onEvent: (event: BuildEvent) => void,
    private readonly context: BuildContext,
    private readonly cache: BuildCache,
    private readonly df: Dockerfile,
    private readonly globalArgs: Record<string, string | undefined>,
    private readonly stages: Stage[],
    private readonly stageCount: number,
  ) {
    this.created = options.timestamp !== undefined ? new Date(options.timestamp * 1000).toISOString() : new Date().toISOString();
    this.target = targetPlatform(options);
    if (options.cacheFrom || options.cacheTo) this.remoteCache = new RemoteCache(engine.images, options, onEvent);
  }

  // The root of image `id`, mounted for the time of `fn` (--output).
  async withImageRoot<T>(id: string, fn: (root: string) => Promise<T>): Promise<T> {
    const container = await this.newContainer(this.imageState(id), ['true']);
    try {
      return await this.engine.containers.withRootfs(container, (root) => fn(root));
    } finally {
      await this.removeContainer(container);
    }
  }

  // A scratch directory in the store (the same file system as its layers).
  private tempDir(prefix: string): string {
    const tmp = join(this.engine.ctx.paths.data, 'tmp');
    mkdirSync(tmp, { recursive: true });
    return mkdtempSync(join(tmp, prefix));
  }

  // Ctrl-C (SIGINT, SIGTERM): the build stops at the next step.
  checkAborted(): void {
    if (this.options.signal?.aborted) throw new CliError('EUSAGE', 'the build was interrupted', { exitCode: 130 });
  }

  // A stage failed: the others stop at their next step.
  stop(): void {
    this.failed = true;
  }

  // Builds one stage: FROM, its ONBUILD triggers, then its steps in order.
  async stage(stage: Stage, position: number, resultOf: (index: number) => Promise<StageResult> | undefined): Promise<StageResult> {
    const steps = stage.instructions.length + 1;
    const event = (step: number, text: string) => this.onEvent({ kind: 'step', stage: position + 1, stages: this.stageCount, step, steps, text });
    event(1, `FROM ${stage.base}${stage.name ? ` AS ${stage.name}` : ''}`);
    const state = await this.from(stage, resultOf);
    const triggers = state.config.config?.OnBuild ?? [];
    if (triggers.length) {
      delete state.config.config!.OnBuild;
      for (const text of triggers) await this.step(state, parseTrigger(text), resultOf);
    }
    for (const [i, ins] of stage.instructions.entries()) {
      this.checkAborted();
      if (this.failed) throw new CliError('EUSAGE', 'the build stopped: another stage failed');
      event(i + 2, ins.text);
      await this.step(state, ins, resultOf);
    }
    return state;
  }

  // The result as an image named `names`: a step of its own in the cache (the final config, the labels).
  async finish(last: StageResult, names: string[]): Promise<BuildReport> {
    this.checkAborted();
    const { ctx } = this.engine;
    const labels = { ...(this.options.identityLabel === false ? {} : { [IDENTITY_LABEL]: VERSION }), ...this.options.labels };
    const key = stepKey(
      last.key,
      'result',
      JSON.stringify(labels),
      this.options.squash ?? '',
      JSON.stringify(this.resultFormat()),
      ...(this.options.env ? [`env:${JSON.stringify(this.options.env)}`] : []),
      ...(this.options.omitHistory ? ['omit-history'] : []),
    );
    const cached = this.cached(key);
    if (cached) {
      const record = await this.engine.images.tag(cached, names).catch(() => undefined);
      if (record || !names.length) return { id: cached, names };
    }
    const config = structuredClone(last.config);
    config.created = this.created;
    if (Object.keys(labels).length) config.config = { ...config.config, Labels: { ...(config.config?.Labels ?? {}), ...labels } };
    if (this.options.env) config.config = { ...config.config, Env: withEnv(config.config?.Env, this.options.env) };
    if (this.options.omitHistory) delete config.history;
    const { storeImage } = await import('../image/commit.js');
    const layers = last.imageId ? (ctx.images.get(last.imageId)?.layers ?? []) : [];
    const record = this.options.squash
      ? await this.squashed(config, layers, last.baseLayers ?? 0, names)
      : await storeImage(ctx, config, layers, names, this.resultFormat());
    if (this.options.layers !== false) this.cache.put(key, record.id);
    return { id: record.id, names };
  }

  // The result's manifest: docker's, or OCI's with the annotations.
  private resultFormat(): { format: 'docker' | 'oci'; annotations?: Record<string, string> } {
    return { format: this.options.format ?? 'docker', ...(this.options.annotations ? { annotations: this.options.annotations } : {}) };
  }

  // --squash-all: the result's whole root as one layer. --squash: the layers this build added on
  // the final stage's base merged into one (their whiteouts and opaque directories applied in
  // order), on the base's layers.
  private async squashed(config: ImageConfig, layers: string[], baseLayers: number, names: string[]) {
    const { ctx, images } = this.engine;
    const { layerFromTar, storeImage } = await import('../image/commit.js');
    const { packTree } = await import('../storage/pack.js');
    const all = this.options.squash === 'all';
    const kept = all ? [] : layers.slice(0, baseLayers);
    const added = layers.slice(kept.length);
    const keptDiffIds = config.rootfs.diff_ids.slice(0, kept.length);
    const mtime = this.options.timestamp !== undefined ? new Date(this.options.timestamp * 1000) : undefined;
    if (!added.length) return storeImage(ctx, config, layers, names, this.resultFormat());
    const history = (config.history ?? []).filter((h) => h.empty_layer);
    const createdBy = `/bin/sh -c #(nop) squashed ${added.length} layers`;
    return images.committing(async (installed) => {
      const merged = this.tempDir('squash-');
      try {
        for (const id of all ? layers : added) await mergeLayer(ctx.layers.diffPath(id), merged, ctx.config.storage.userns !== 'single');
        const layer = await layerFromTar(ctx, (out) => packTree(merged, out, { layer: !all, mtime }), keptDiffIds, {
          createdBy,
          chown: ctx.config.storage.userns !== 'single',
          installed,
          compress: this.options.compress === true,
        });
        const squashedConfig: ImageConfig = {
          ...config,
          rootfs: { type: 'layers', diff_ids: [...keptDiffIds, layer.diffId] },
          ...(this.options.omitHistory
            ? {}
            : {
                history: [
                  ...(config.history ?? []).filter((h) => !h.empty_layer).slice(0, kept.length),
                  ...history,
                  { created: this.created, created_by: createdBy },
                ],
              }),
        };
        return storeImage(ctx, squashedConfig, layer.chains, names, this.resultFormat());
      } finally {
        const { removeTree } = await import('../storage/layer-store.js');
        removeTree(merged);
      }
    });
  }

  private async from(stage: Stage, resultOf: (index: number) => Promise<StageResult> | undefined): Promise<StageState> {
    const args = new Map<string, string | undefined>();
    const named = this.options.contexts?.[stage.base];
    if (named && 'dir' in named)
      throw new CliError('EUSAGE', `FROM ${stage.base}: the build context ${stage.base} is a directory; FROM takes an image (docker-image://REF)`);
    const base = named ? named.image : stage.base;
    const ref = named ? -1 : this.stages.findIndex((s) => s.name !== undefined && s.name === base.toLowerCase() && s.index < stage.index);
    if (ref >= 0) {
      const result = await resultOf(ref)!;
      return { ...result, config: structuredClone(result.config), args, pending: false, cmdSet: false };
    }
    const stamp = String(this.options.timestamp ?? '');
    // What the build sets besides the base's own is part of the key: a platform the config did
    // not say, --env.
    const platformOf = (c: ImageConfig) => JSON.stringify([c.os, c.architecture, c.variant, c['os.version'], c['os.features']]);
    const settle = (config: ImageConfig): { config: ImageConfig; extra: string[] } => {
      const before = platformOf(config);
      applyPlatform(config, this.target);
      if (this.options.env) config.config = { ...config.config, Env: withEnv(config.config?.Env, this.options.env) };
      const after = platformOf(config);
      return { config, extra: [...(after !== before ? [`platform:${after}`] : []), ...(this.options.env ? [`env:${JSON.stringify(this.options.env)}`] : [])] };
    };
    if (base === 'scratch') {
      const binaries = { os: this.target.os, architecture: this.target.architecture, ...(this.target.variant ? { variant: this.target.variant } : {}) };
      const { config, extra } = settle(scratchConfig(hostPlatform().architecture));
      return { config, key: stepKey('scratch', stamp, ...extra), args, pending: true, cmdSet: false, binaries };
    }
    const platform = stage.platform ?? (this.target.explicit ? formatPlatform(this.target) : undefined);
    const id = await this.baseOf(base, platform);
    const image = structuredClone(this.engine.ctx.images.config(id));
    const binaries = { os: image.os ?? 'linux', architecture: image.architecture ?? hostPlatform().architecture };
    const { config, extra } = settle(image);
    return {
      imageId: id,
      config,
      key: stepKey('image', id, stamp, ...extra),
      args,
      pending: false,
      cmdSet: false,
      baseLayers: config.rootfs.diff_ids.length,
      binaries,
    };
  }

  // A base image for `platform` (the host's when undefined): the store's (unless --pull=always) when
  // it is for that platform, else pulled (the platform's entry of an index).
  private async baseOf(base: string, platform: string | undefined): Promise<string> {
    const { images, ctx } = this.engine;
    const local = this.options.pull !== 'always' && images.exists(base) ? images.resolve(base).id : undefined;
    const wanted = platform ? parsePlatform(platform) : undefined;
    if (local && (!wanted || configMatches(ctx.images.config(local), wanted))) return local;
    if (this.options.pull === 'never')
      throw new CliError(
        'ENOIMAGE',
        local ? `${base}: the store's image is not for ${platform}, and --pull=never` : `${base}: no such image in the store, and --pull=never`,
      );
    const id = (await images.pull(base, { ...this.options.remote, ...(platform ? { platform } : {}) })).image.id;
    // A single image (no index to choose from) for another platform is taken, as Podman does, with a word.
    const config = ctx.images.config(id);
    if (wanted && !configMatches(config, wanted))
      this.onEvent({
        kind: 'warning',
        message: `${base} is for ${config.os ?? 'linux'}/${config.architecture}, not ${platform}: its binaries are what RUN steps run`,
      });
    return id;
  }

  // A variable as an instruction sees it: ENV first, then the stage's ARGs.
  private lookup(state: StageState): (name: string) => string | undefined {
    return (name) => envValue(state.config.config?.Env, name) ?? state.args.get(name);
  }

  private async step(state: StageState, ins: Instruction, resultOf: (index: number) => Promise<StageResult> | undefined): Promise<void> {
    const step: Step = typeInstruction(ins, this.lookup(state), this.df.escape);
    const inner = (state.config.config ??= {});
    if (step.kind === 'arg') {
      for (const arg of step.args) {
        const value = this.options.buildArgs[arg.name] ?? (arg.default !== undefined ? arg.default : this.globalArgs[arg.name]);
        state.args.set(arg.name, value);
        state.key = stepKey(state.key, 'ARG', arg.name, value ?? '\0unset');
      }
      return;
    }
    const cmd = inner.Cmd;
    if (applyMetadata(inner, step)) {
      if (step.kind === 'cmd') state.cmdSet = true;
      if (step.kind === 'entrypoint' && state.cmdSet && cmd) inner.Cmd = cmd;
      if (step.kind === 'maintainer') state.config.author = step.name;
      state.config.history = [...(state.config.history ?? []), { created: this.created, created_by: `/bin/sh -c #(nop) ${ins.text}`, empty_layer: true }];
      state.key = stepKey(state.key, ins.text, JSON.stringify(step));
      state.pending = true;
      if (step.kind === 'workdir') await this.makeWorkdir(state, ins);
      return;
    }
    if (step.kind === 'run') return this.run(state, step, ins, resultOf);
    if (step.kind === 'copy' || step.kind === 'add') return this.copy(state, step, ins, resultOf);
    throw new CliError('EINTERNAL', `${ins.keyword} is not handled`);
  }

  // WORKDIR makes its directory (root's, 0755) when the image has none: a layer of its own.
  private async makeWorkdir(state: StageState, ins: Instruction): Promise<void> {
    const path = state.config.config?.WorkingDir ?? '/';
    const key = stepKey(state.key, 'mkdir');
    const hit = await this.cachedOrRemote(key);
    if (hit) return this.useCached(state, hit, key);
    const unchanged = stepKey(key, 'unchanged');
    if (!this.options.noCache && this.cache.marked(unchanged)) return;
    const id = await this.newContainer(state, ['true']);
    try {
      const made = await this.engine.containers.withRootfs(id, async (root) => {
        const there = openInRootIfExists(root, path, O_PATH);
        if (there !== undefined) {
          closeQuietly(there);
          return false;
        }
        closeQuietly(mkdirInRoot(root, path));
        return true;
      });
      if (made) await this.commit(state, id, key, `/bin/sh -c #(nop) ${ins.text}`);
      else if (this.options.layers !== false) this.cache.mark(unchanged);
    } finally {
      await this.removeContainer(id);
    }
  }

  // The env a RUN sees: the image's, and the stage's ARGs that ENV does not set.
  private runEnv(state: StageState): string[] {
    const env = state.config.config?.Env ?? [];
    const args = [...state.args].filter(([k, v]) => v !== undefined && envValue(env, k) === undefined).map(([k, v]) => `${k}=${v}`);
    return [...env, ...args];
  }

  // Docker's predefined proxy args: a RUN sees them when given with --build-arg, without an ARG,
  // and they stay out of the cache key and the image (a proxy is the host's, not the image's).
  private proxyEnv(state: StageState): string[] {
    const env = state.config.config?.Env ?? [];
    return Object.entries(this.options.buildArgs)
      .filter(([k]) => PROXY_ARGS.has(k) && !state.args.has(k) && envValue(env, k) === undefined)
      .map(([k, v]) => `${k}=${v}`);
  }

  // A step's cached image: the store's, else (--cache-from) one a registry has under the key.
  private async cachedOrRemote(key: string): Promise<string | undefined> {
    const hit = this.cached(key);
    if (hit || !this.options.cacheFrom || this.options.noCache || this.options.cacheTtlMs === 0) return hit;
    const id = await this.remoteCache?.pull(key);
    if (id && this.options.layers !== false) this.cache.put(key, id);
    return id;
  }

  private cached(key: string): string | undefined {
    if (this.options.noCache || this.options.cacheTtlMs === 0) return undefined;
    const { ctx } = this.engine;
    const ttl = this.options.cacheTtlMs;
    return this.cache.get(key, (id) => {
      const record = ctx.images.get(id);
      return record !== undefined && (ttl === undefined || Date.now() - Date.parse(record.stored) <= ttl);
    });
  }

  private useCached(state: StageState, id: string, key: string): void {
    this.onEvent({ kind: 'cache', id });
    state.imageId = id;
    state.config = structuredClone(this.engine.ctx.images.config(id));
    state.key = key;
    state.pending = false;
  }

  // The image a build container starts from: the last one stored (its files are what matter:
  // the container gets the stage's env, user and workdir itself), or FROM scratch's empty one.
  private async baseImage(state: StageState): Promise<string> {
    if (state.imageId) return state.imageId;
    const { storeImage } = await import('../image/commit.js');
    const config = { ...scratchConfig(state.config.architecture ?? hostPlatform().architecture), created: new Date(0).toISOString() };
    const record = await storeImage(this.engine.ctx, config, [], [], { intermediate: true });
    return record.id;
  }

  private async newContainer(
    state: StageState,
    command: string[],
    extra: { network?: string; volumes?: string[]; tmpfs?: string[]; env?: string[]; run?: boolean } = {},
  ): Promise<string> {
    const inner = state.config.config ?? {};
    const network = extra.network ?? this.options.network;
    // A user namespace of its own is a RUN's: the others' roots are read or written from here,
    // in the image's own ids.
    const { userns, uidmap, gidmap, ...run } = this.options.run ?? {};
    const record = await this.engine.containers.create({
      image: await this.baseImage(state),
      command,
      entrypoint: '',
      env: [...this.runEnv(state), ...this.proxyEnv(state), ...(extra.env ?? [])],
      workdir: inner.WorkingDir || '/',
      ...(inner.User ? { user: inner.User } : {}),
      ...(network ? { network } : {}),
      // (A RUN step's USER gets no /etc/passwd entry: the image's files are what the step left.)
      passwd: false,
      pull: 'never',
      labels: ['io.skiff.build=1'],
      ...run,
      ...(extra.run ? { userns, uidmap, gidmap } : {}),
      ...(extra.run && this.options.stdin ? { interactive: true } : {}),
      ...(extra.volumes?.length || this.options.run?.volume ? { volume: [...(this.options.run?.volume ?? []), ...(extra.volumes ?? [])] } : {}),
      ...(extra.tmpfs?.length ? { tmpfs: extra.tmpfs } : {}),
    });
    return record.id;
  }

  private async removeContainer(id: string): Promise<void> {
    await this.engine.containers.remove(id, { force: true }).catch(() => undefined);
  }

  // A build container's changes (its upper directory, less the runtime's mount points) as the step's layer.
  private async commit(state: StageState, container: string, key: string, createdBy: string): Promise<void> {
    const { ctx, containers } = this.engine;
    const { packTree } = await import('../storage/pack.js');
    const targets = mountTargets(ctx.containers.containerDir(container));
    await containers.withRootfs(container, async (_rootfs, record, upper) => {
      if (!upper) throw new CliError('ESTATE', 'build steps need an overlay root filesystem (this store uses copies)');
      const filter = (name: string, isDirectory: boolean) => !targets.has(name.replace(/\/$/, '')) || (isDirectory ? 'descend' : false);
      // A RUN with a user namespace of its own (--userns, --userns-uid-map) wrote its ids shifted: the layer has the container's.
      const m = record.config.idMappings;
      const owners = m && { uid: (id: number) => toInner(m.uid, id), gid: (id: number) => toInner(m.gid, id) };
      await this.commitTar(state, key, createdBy, (out, mtime) => packTree(upper, out, { layer: true, filter, mtime, ...(owners ? { owners } : {}) }));
    });
  }

  // The tar `produce` writes as the step's layer and intermediate image, the step's cache entry.
  private async commitTar(
    state: StageState,
    key: string,
    createdBy: string,
    produce: (out: NodeJS.WritableStream, mtime: Date | undefined) => Promise<void>,
  ): Promise<void> {
    const { ctx, images } = this.engine;
    const { layerFromTar, storeImage } = await import('../image/commit.js');
    const mtime = this.options.timestamp !== undefined ? new Date(this.options.timestamp * 1000) : undefined;
    const record = await images.committing(async (installed) => {
      const layer = await layerFromTar(ctx, (out) => produce(out, mtime), state.config.rootfs.diff_ids, {
        createdBy,
        chown: ctx.config.storage.userns !== 'single',
        installed,
        compress: this.options.compress === true,
      });
      return storeImage(ctx, withLayer(state.config, layer.diffId, createdBy, this.created), layer.chains, [], { intermediate: true });
    });
    log.debug('build: committed');
    this.onEvent({ kind: 'layer', id: record.id });
    if (this.options.layers !== false) this.cache.put(key, record.id);
    await this.remoteCache?.push(key, record.id);
    state.imageId = record.id;
    state.config = structuredClone(ctx.images.config(record.id));
    state.key = key;
    state.pending = false;
  }

  private async run(
    state: StageState,
    step: Extract<Step, { kind: 'run' }>,
    ins: Instruction,
    resultOf: (index: number) => Promise<StageResult> | undefined,
  ): Promise<void> {
    const workdir = state.config.config?.WorkingDir || '/';
    // Binds from= a stage or an image: its id is the key; its root is mounted only if the step runs.
    const froms = [...new Set(step.mounts.flatMap((m) => (m.type === 'bind' && m.from ? [m.from] : [])))];
    const images: Record<string, string> = {};
    for (const from of froms) images[from] = await this.sourceImage(from, resultOf);
    const key = stepKey(
      state.key,
      ins.text,
      step.text,
      JSON.stringify(step.script ?? null),
      JSON.stringify(this.runEnv(state)),
      mountsKey(step.mounts, this.context, images, this.options.secrets ?? {}),
    );
    const hit = await this.cachedOrRemote(key);
    if (hit) return this.useCached(state, hit, key);
    return this.withImageRoots(froms, images, {}, async (roots) => {
      const scratch: string[] = [];
      const scratchDir = () => {
        const dir = this.tempDir('bind-');
        scratch.push(dir);
        return dir;
      };
      try {
        const mounts = runMounts(step.mounts, {
          workdir,
          context: this.context,
          cacheDir: join(this.engine.ctx.paths.data, 'build-mounts'),
          secrets: this.options.secrets ?? {},
          roots,
          scratch: scratchDir,
        });
        const { copyTree } = await import('../storage/copy.js');
        for (const c of mounts.copies) {
          try {
            await copyTree(c.fd, c.dir, { prefix: '', chown: true });
          } finally {
            closeQuietly(c.fd);
          }
        }
        await this.runStep(state, step, ins, key, mounts);
      } finally {
        for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  // A state whose only part that matters is its image: a container of it, to read its root.
  private imageState(imageId: string): StageState {
    return { imageId, config: { rootfs: { type: 'layers', diff_ids: [] } }, key: '', args: new Map(), pending: false, cmdSet: false };
  }

  // Mounts the roots of the images of `froms` for the time of `fn`, which gets them by name.
  private async withImageRoots<T>(
    froms: string[],
    images: Record<string, string>,
    roots: Record<string, BuildContext>,
    fn: (roots: Record<string, BuildContext>) => Promise<T>,
  ): Promise<T> {
    const [from, ...rest] = froms;
    if (from === undefined) return fn(roots);
    const id = await this.newContainer(this.imageState(images[from]), ['true']);
    try {
      return await this.engine.containers.withRootfs(id, (root) =>
        this.withImageRoots(rest, images, { ...roots, [from]: new BuildContext(root, ignoreMatcher([])) }, fn),
      );
    } finally {
      await this.removeContainer(id);
    }
  }

  private async runStep(state: StageState, step: Extract<Step, { kind: 'run' }>, ins: Instruction, key: string, mounts: RunMounts): Promise<void> {
    const shell = state.config.config?.Shell ?? DEFAULT_SHELL;
    const command = step.command ?? commandOf([step.text], true, shell);
    const { containers, logs } = this.engine;
    // A heredoc script (#!) is a file of its own, mounted read-only where the step runs it.
    let scriptDir: string | undefined;
    if (step.script) {
      scriptDir = this.tempDir('script-');
      writeFileSync(join(scriptDir, 'script'), step.script.content, { mode: 0o755 });
      mounts.volumes.push(`${join(scriptDir, 'script')}:${step.script.path}:ro`);
    }
    const network = step.network === 'default' ? undefined : step.network;
    let id: string;
    try {
      checkRunnable(state.binaries ?? hostPlatform(), ins.text);
      id = await this.newContainer(state, command, { network, volumes: mounts.volumes, tmpfs: mounts.tmpfs, env: mounts.env, run: true });
    } catch (error) {
      if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
      throw error;
    }
    try {
      const abort = () => void containers.kill(id).catch(() => undefined);
      this.options.signal?.addEventListener('abort', abort);
      try {
        let code: number;
        if (this.options.stdin) code = await runAttached(containers, id, this.options.stdin, (text) => this.onEvent({ kind: 'output', text }));
        else {
          await containers.start(id);
          // Looked at often: most steps take milliseconds, and each poll's wait is the step's.
          for await (const entry of logs.read(id, { follow: true, pollMs: 10 })) this.onEvent({ kind: 'output', text: entry.text });
          code = await containers.wait(id, ['stopped'], 10);
        }
        if (this.options.signal?.aborted) throw new CliError('EUSAGE', 'the build was interrupted', { exitCode: 130 });
        if (code !== 0) throw new CliError('EHELPER', `building at STEP "${ins.text}": the command exited with ${code}`, { exitCode: code });
      } finally {
        this.options.signal?.removeEventListener('abort', abort);
      }
      await this.commit(state, id, key, ins.text.replace(/^RUN\s+/i, '/bin/sh -c '));
    } finally {
      await this.removeContainer(id);
      if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
    }
  }

  private async copy(
    state: StageState,
    step: Extract<Step, { kind: 'copy' | 'add' }>,
    ins: Instruction,
    resultOf: (index: number) => Promise<StageResult> | undefined,
  ): Promise<void> {
    const inner = state.config.config ?? {};
    // COPY --exclude: more patterns, as .dockerignore's, on whatever the sources are read from.
    const excluding = (c: BuildContext): BuildContext => (step.excludes.length ? c.excluding(step.excludes) : c);
    let heredocDir: string | undefined;
    let sourceContainer: string | undefined;
    try {
      let from = this.context;
      let sources: string[];
      let content: string;
      const urls = step.kind === 'add' ? step.sources.filter((s) => /^https?:\/\//i.test(s)) : [];
      if (urls.length && urls.length !== step.sources.length) throw new CliError('EUSAGE', `ADD takes URLs or context files, not both at once (${ins.text})`);
      if (step.heredocs.length || urls.length) {
        // Heredocs and downloads are files of a temp dir the copy reads like a context.
        heredocDir = this.tempDir('sources-');
        for (const h of step.heredocs) writeFileSync(join(heredocDir, h.name), h.content);
        const downloads = [];
        for (const url of urls) downloads.push(await downloadSource(url, heredocDir, step.checksum, this.options.signal));
        from = new BuildContext(heredocDir, ignoreMatcher([]));
        sources = urls.length ? downloads.map((d) => d.name) : step.heredocs.map((h) => h.name);
        content = urls.length ? JSON.stringify(downloads) : JSON.stringify(step.heredocs);
      } else if (step.from !== undefined && this.options.contexts?.[step.from] && 'dir' in this.options.contexts[step.from]) {
        // A named context that is a directory: read in place, as the build's own (without its ignore file).
        const named = this.options.contexts[step.from] as { dir: string };
        from = excluding(new BuildContext(named.dir, ignoreMatcher([])));
        sources = step.sources.flatMap((s) => from.expand(s));
        content = `context:${step.from}:${from.digest(sources)}`;
      } else if (step.from !== undefined) {
        const named = this.options.contexts?.[step.from];
        const image = await this.sourceImage(named && 'image' in named ? named.image : step.from, resultOf, Boolean(named));
        sourceContainer = await this.newContainer(this.imageState(image), ['true']);
        content = `from:${image}`;
        sources = step.sources;
      } else {
        from = excluding(this.context);
        sources = step.sources.flatMap((s) => from.expand(s));
        content = from.digest(sources);
        log.debug('build: sources digested');
      }
      const key = stepKey(state.key, ins.text, content, inner.WorkingDir ?? '/');
      const hit = await this.cachedOrRemote(key);
      if (hit) return this.useCached(state, hit, key);
      const createdBy = `/bin/sh -c #(nop) ${ins.text}`;
      const copyInto = async (source: BuildContext, names: string[]): Promise<void> => {
        const request = {
          from: source,
          sources: names,
          dest: step.dest,
          workdir: inner.WorkingDir || '/',
          chown: step.chown,
          chmod: step.chmod,
          extract: step.kind === 'add' && !urls.length && !step.heredocs.length,
          parents: step.parents,
          link: step.link,
        };
        const id = await this.newContainer(state, ['true']);
        try {
          // ADD of local files may unpack archives: into the container's root, then its changes.
          // COPY's layer is packed straight from the sources (the root only read, for placement).
          if (request.extract) {
            await this.engine.containers.withRootfs(id, (root) => copyIntoRoot(root, request));
            await this.commit(state, id, key, createdBy);
            return;
          }
          const { packTrees } = await import('../storage/pack.js');
          await this.engine.containers.withRootfs(id, async (root) => {
            const plan = planCopy(root, request);
            try {
              await this.commitTar(state, key, createdBy, (out, mtime) => packTrees(plan.sources, out, { mtime }));
            } finally {
              plan.close();
            }
          });
        } finally {
          await this.removeContainer(id);
        }
      };
      if (sourceContainer) {
        await this.engine.containers.withRootfs(sourceContainer, async (root) => {
          const source = excluding(new BuildContext(root, ignoreMatcher([])));
          await copyInto(
            source,
            step.sources.flatMap((s) => source.expand(s)),
          );
        });
      } else await copyInto(from, sources);
    } finally {
      if (heredocDir) rmSync(heredocDir, { recursive: true, force: true });
      if (sourceContainer) await this.removeContainer(sourceContainer);
    }
  }

  // COPY --from's image: a stage by name or index, else an image (pulled if missing).
  private async sourceImage(from: string, resultOf: (index: number) => Promise<StageResult> | undefined, imageOnly = false): Promise<string> {
    const byName = imageOnly ? undefined : this.stages.find((s) => s.name === from.toLowerCase() || String(s.index) === from);
    if (byName) {
      const result = await resultOf(byName.index);
      if (!result) throw new CliError('EINTERNAL', `stage ${from} was not built`);
      // (COPY --from needs the stage's files: its last stored image has them.)
      return result.imageId ?? this.storeResult(result);
    }
    return this.baseOf(from, this.target.explicit ? formatPlatform(this.target) : undefined);
  }

  private async storeResult(result: StageResult): Promise<string> {
    const { storeImage } = await import('../image/commit.js');
    const { ctx } = this.engine;
    const layers = result.imageId ? (ctx.images.get(result.imageId)?.layers ?? []) : [];
    return (await storeImage(ctx, { ...result.config, created: new Date(0).toISOString() }, layers, [], { intermediate: true })).id;
  }
}
