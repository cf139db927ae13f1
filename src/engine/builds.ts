// `skiff build`: a Dockerfile's stages built into images in the store, rootless and without a daemon.
// Each step that changes files runs in a build container of its own (a RUN its command, a COPY its
// copy into the mounted root) whose changes become one layer and an intermediate image, the step's
// cache entry; metadata steps only change the config. Stages that do not need each other build at
// the same time. The engine reports steps as events and never prints.
import { readBoundedFile, tooLargeError } from '../util/bounded-read.js';
import { DOCKERFILE_MAX, IGNORE_FILE_MAX } from '../util/limits.js';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { BuildCache } from '../build/cache.js';
import { BuildContext } from '../build/context.js';
import { FileHashes } from '../build/file-hashes.js';
import { type Dockerfile, type Instruction, parseDockerfile } from '../build/dockerfile.js';
import { ignoreMatcher, parseIgnore } from '../build/ignore.js';
import { type Step, splitStages, stageDependencies, stagesFor, typeInstruction } from '../build/instructions.js';
import { CliError, messageOf } from '../errors.js';
import { log } from '../util/log.js';
import { localName } from '../image/reference.js';
import { subordinateMap } from '../util/idmap.js';
import { BuildRun, type StageResult } from './build-run.js';
import { type PlatformRequest, platformArgs, targetPlatform } from './build-platform.js';
import type { CreateOptions } from './container-config.js';
import type { ContainersEngine } from './containers.js';
import type { EngineContext } from './context.js';
import type { ImagesEngine, PullImageOptions } from './images.js';
import type { ContainerLogs } from './logs.js';

/** --output: the result's files, as a directory or a tar (a file, or a stream such as stdout). */
export type BuildOutput = { type: 'local'; dest: string } | { type: 'tar'; dest: string | NodeJS.WritableStream };

export interface BuildOptions extends PlatformRequest {
  context: string;
  /** The Dockerfile's path (default: Containerfile or Dockerfile in the context), or its text (`-f -`). */
  file?: string;
  text?: string;
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache?: boolean;
  pull?: 'always' | 'missing' | 'never';
  labels?: Record<string, string>;
  network?: string;
  /** Keep each step's image as the cache (Podman's --layers, the default). */
  layers?: boolean;
  /** Seconds since the epoch for every created time: the same inputs give the same image id. */
  timestamp?: number;
  jobs?: number;
  ignoreFile?: string;
  /** --build-context NAME=DIR|docker-image://REF: what FROM NAME and COPY --from=NAME take (before stages and images). */
  contexts?: Record<string, { dir: string } | { image: string }>;
  /** The result's manifest format (docker by default); OCI's takes --annotation. */
  format?: 'docker' | 'oci';
  annotations?: Record<string, string>;
  /** The platform to build for (os/arch[/variant]), or its parts (os, arch, variant): FROM takes its image. */
  platform?: string;
  /** --from: the image the first FROM takes instead of its own. */
  from?: string;
  /** --env: set in each stage after its FROM, and in the result over the Dockerfile's own ENV. */
  env?: Record<string, string>;
  /** --identity-label (true by default): the result is labelled io.skiff.version. */
  identityLabel?: boolean;
  /** --omit-history: the result has no history. */
  omitHistory?: boolean;
  /** How FROM and COPY --from reach registries: --tls-verify, --creds, --authfile, --cert-dir, --retry, --retry-delay. */
  remote?: Omit<PullImageOptions, 'platform'>;
  /** --output: the result's root filesystem written out too. */
  output?: BuildOutput;
  /** --stdin: what RUN steps read on their standard input. */
  stdin?: NodeJS.ReadableStream;
  /** --disable-compression=false: new layers are stored gzipped (not only on push). */
  compress?: boolean;
  /** --cache-from/--cache-to: a registry repository whose tags are step cache keys (with --layers). */
  cacheFrom?: string;
  cacheTo?: string;
  /** --userns-uid-map-user/--userns-gid-map-group: RUN steps' maps from this name's /etc/subuid and /etc/subgid ranges. */
  subuidName?: string;
  subgidName?: string;
  /** --cpp-flag: more flags for cpp, which a Containerfile named *.in goes through first. */
  cppFlags?: string[];
  /** Cached steps older than this are run again (ms; 0: none is used). */
  cacheTtlMs?: number;
  /** One layer for the result: all of it (squash-all) or what this build added on its base (squash). */
  squash?: 'new' | 'all';
  /** What every RUN container gets besides (-v, --add-host, --cap-add, --dns, --ulimit, …), as `run` takes them. */
  run?: Pick<
    CreateOptions,
    | 'addHosts'
    | 'capAdd'
    | 'capDrop'
    | 'device'
    | 'dns'
    | 'dnsOptions'
    | 'dnsSearch'
    | 'runtime'
    | 'securityOpt'
    | 'ulimit'
    | 'volume'
    | 'memory'
    | 'memorySwap'
    | 'cpuPeriod'
    | 'cpuQuota'
    | 'cpuShares'
    | 'cpusetCpus'
    | 'cpusetMems'
    | 'shmSize'
    | 'hosts'
    | 'ipc'
    | 'pid'
    | 'uts'
    | 'unsetenv'
    | 'httpProxy'
    | 'cgroupParent'
    | 'cgroupns'
    | 'userns'
    | 'uidmap'
    | 'gidmap'
  >;
  /** --secret id=ID,src=FILE: what RUN --mount=type=secret mounts. */
  secrets?: Record<string, string>;
  /** Aborted: the running step's container is killed and the build stops (Ctrl-C). */
  signal?: AbortSignal;
}

export type BuildEvent =
  | { kind: 'step'; stage: number; stages: number; step: number; steps: number; text: string }
  | { kind: 'cache'; id: string }
  | { kind: 'layer'; id: string }
  | { kind: 'output'; text: string }
  | { kind: 'commit'; stage: number; stages: number }
  | { kind: 'warning'; message: string };

export interface BuildReport {
  id: string;
  names: string[];
}

// A step refused up front: flags skiff does not carry out yet, RUN --mount specs it cannot mount,
// a bad --chmod. (Errors that depend on variables come when the step runs.)
const checkInstruction = (ins: Instruction, df: Dockerfile): void => {
  let step: Step;
  try {
    step = typeInstruction(ins, () => undefined, df.escape, df.file);
  } catch {
    return;
  }
  const at = (what: string) => new CliError('EUSAGE', `${df.file}:${ins.line}: ${what}`);
  if (step.kind === 'run') {
    for (const m of step.mounts) {
      if (m.type === 'ssh') throw at('RUN --mount=type=ssh is not supported yet');
      if (m.type !== 'secret' && !m.target) throw at(`RUN --mount=type=${m.type} needs a target`);
    }
  }
  if (step.kind === 'copy' || step.kind === 'add') {
    if (step.chmod !== undefined && !/^[0-7]{1,4}$/.test(step.chmod)) throw at(`--chmod=${step.chmod}: use octal permission bits, e.g. 755`);
    for (const h of step.heredocs) if (h.name.includes('/') || h.name === '.' || h.name === '..') throw at(`a heredoc named ${h.name} cannot be a file name`);
  }
};

export class Builds {
  constructor(
    private readonly ctx: EngineContext,
    private readonly containers: ContainersEngine,
    private readonly images: ImagesEngine,
    private readonly logs: ContainerLogs,
  ) {}

  // The platform a build of `options` is for (--logsplit names its log by it).
  platformOf(options: BuildOptions): { os: string; architecture: string } {
    return targetPlatform(options);
  }

  // The Dockerfile and .dockerignore (both size-bounded), then every needed stage, then the image.
  async build(options: BuildOptions, onEvent: (event: BuildEvent) => void): Promise<BuildReport> {
    log.debug('build: start');
    const target = targetPlatform(options);
    if ((options.cacheFrom || options.cacheTo) && options.layers === false)
      throw new CliError('EUSAGE', '--cache-from and --cache-to keep steps as layers: they cannot be used with --layers=false');
    options = { ...options, run: { ...options.run, ...this.subordinateMaps(options) } };
    const contextDir = resolve(options.context);
    const { df, path } = await this.readDockerfile(options, contextDir);
    const ignoreText = this.readIgnore(options, contextDir, path);
    const hashes = new FileHashes(join(this.ctx.paths.data, 'build-cache'), contextDir);
    const context = new BuildContext(contextDir, ignoreMatcher(parseIgnore(ignoreText)), undefined, hashes);
    const { globalArgs, stages } = splitStages(df, { ...platformArgs(target), ...options.buildArgs });
    // --from: the first FROM's image (a later stage that names the first still builds on it).
    if (options.from && stages.length) stages[0].base = options.from;
    const order = stagesFor(stages, options.target);
    // What can be refused from the Dockerfile alone is refused before any step runs.
    for (const index of order) for (const ins of stages[index].instructions) checkInstruction(ins, df);
    const deps = stageDependencies(stages);
    const names = options.tags.map((t) => localName(t));
    const cache = new BuildCache(join(this.ctx.paths.data, 'build-cache'));
    const run = new BuildRun(
      { ctx: this.ctx, containers: this.containers, images: this.images, logs: this.logs },
      options,
      onEvent,
      context,
      cache,
      df,
      globalArgs,
      stages,
      order.length,
    );
    const results = new Map<number, Promise<StageResult>>();
    const slots = new Semaphore(Math.max(1, options.jobs ?? availableParallelism()));
    for (const [position, index] of order.entries())
      results.set(
        index,
        (async () => {
          await Promise.all(deps[index].map((d) => results.get(d)!));
          return slots.run(() => run.stage(stages[index], position, (ref) => results.get(ref)));
        })().catch((error: unknown) => {
          run.stop();
          throw error;
        }),
      );
    // Every stage settles before the build does: a failed one stops the rest at their next step.
    const settled = await Promise.allSettled([...results.values()]);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const last = await results.get(order[order.length - 1])!;
    onEvent({ kind: 'commit', stage: order.length, stages: order.length });
    const report = await run.finish(last, names);
    hashes.save();
    if (options.output) {
      const { exportRoot } = await import('./build-output.js');
      await run.withImageRoot(report.id, (root) => exportRoot(root, options.output!));
    }
    return report;
  }

  // --userns-uid-map-user NAME, --userns-gid-map-group NAME: the maps of NAME's subordinate ranges
  // (one given alone serves for both, as in Podman).
  private subordinateMaps(options: BuildOptions): Pick<CreateOptions, 'uidmap' | 'gidmap'> {
    const user = options.subuidName ?? options.subgidName;
    const group = options.subgidName ?? options.subuidName;
    if (!user || !group) return {};
    if (options.run?.uidmap?.length || options.run?.gidmap?.length)
      throw new CliError('EUSAGE', '--userns-uid-map-user and --userns-gid-map-group cannot be used with --userns-uid-map or --userns-gid-map');
    const text = (ranges: { inner: number; outer: number; count: number }[]) => ranges.map((r) => `${r.inner}:${r.outer}:${r.count}`);
    return {
      uidmap: text(subordinateMap('/etc/subuid', '/proc/self/uid_map', user, '--userns-uid-map-user')),
      gidmap: text(subordinateMap('/etc/subgid', '/proc/self/gid_map', group, '--userns-gid-map-group')),
    };
  }

  private async readDockerfile(options: BuildOptions, contextDir: string): Promise<{ df: Dockerfile; path?: string }> {
    if (options.text !== undefined) {
      if (Buffer.byteLength(options.text) > DOCKERFILE_MAX) throw tooLargeError({ what: 'the Dockerfile', limit: DOCKERFILE_MAX, code: 'EUSAGE' });
      return { df: parseDockerfile(options.text, 'Dockerfile') };
    }
    const candidates = options.file ? [resolve(options.file)] : ['Containerfile', 'Dockerfile'].map((n) => join(contextDir, n));
    for (const path of candidates) {
      let text = readCapped(path, DOCKERFILE_MAX, !options.file);
      if (text === undefined) continue;
      // Buildah's rule: a Containerfile named *.in goes through the C preprocessor (#include, #define).
      if (path.endsWith('.in')) text = await preprocess(text, path, contextDir, options.cppFlags ?? []);
      return { df: parseDockerfile(text, basename(path)), path };
    }
    throw new CliError('EUSAGE', `no Containerfile or Dockerfile in ${contextDir}: name one with -f`);
  }

  // --ignorefile, else the Dockerfile's own NAME.dockerignore beside it (BuildKit's), else the
  // context's .containerignore or .dockerignore.
  private readIgnore(options: BuildOptions, contextDir: string, dockerfile: string | undefined): string {
    const candidates = options.ignoreFile
      ? [resolve(options.ignoreFile)]
      : [
          ...(dockerfile ? [`${dockerfile}.containerignore`, `${dockerfile}.dockerignore`] : []),
          ...['.containerignore', '.dockerignore'].map((n) => join(contextDir, n)),
        ];
    for (const path of candidates) {
      const text = readCapped(path, IGNORE_FILE_MAX, !options.ignoreFile);
      if (text !== undefined) return text;
    }
    return '';
  }
}

// A Containerfile.in through cpp as Buildah runs it (quoted includes from the context); what cpp
// says on standard error is left out, as Buildah does when it still wrote a Containerfile.
const preprocess = async (text: string, path: string, contextDir: string, flags: string[]): Promise<string> => {
  const { findHelperBinary, runHelper, HelperError } = await import('../util/exec.js');
  const cpp = findHelperBinary('cpp');
  if (!cpp)
    throw new CliError('EUSAGE', `${basename(path)}: a Containerfile named *.in goes through cpp, which is not installed (Debian: apt-get install cpp)`);
  let out: string;
  try {
    out = (await runHelper(cpp, ['-E', '-iquote', contextDir, '-traditional', '-undef', ...flags, '-'], { input: text })).stdout;
  } catch (error) {
    if (!(error instanceof HelperError) || !error.stderr) throw error;
    throw new CliError('EUSAGE', `preprocessing ${basename(path)}: ${error.stderr.trim().split('\n')[0]}`);
  }
  if (Buffer.byteLength(out) > DOCKERFILE_MAX) throw tooLargeError({ what: `${basename(path)} after cpp`, limit: DOCKERFILE_MAX, code: 'EUSAGE' });
  return out;
};

// A file read whole to a cap (the size checked before a byte is read); undefined when it is
// missing and `optional`.
const readCapped = (path: string, limit: number, optional: boolean): string | undefined => {
  try {
    return readBoundedFile(path, { what: path, limit, code: 'EUSAGE' }).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && optional) return undefined;
    if (error instanceof CliError) throw error;
    throw new CliError('EUSAGE', `cannot read ${path}: ${messageOf(error)}`);
  }
};

// At most `n` stages at work at once.
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
