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
import { hostPlatform, parsePlatform } from '../image/manifest.js';
import { BuildRun, type StageResult } from './build-run.js';
import type { CreateOptions } from './container-config.js';
import type { ContainersEngine } from './containers.js';
import type { EngineContext } from './context.js';
import type { ImagesEngine } from './images.js';
import type { ContainerLogs } from './logs.js';

export interface BuildOptions {
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
  /** The platform to build for: only this host's (there is no emulation for RUN steps). */
  platform?: string;
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

// Building for another platform would need its binaries run under emulation: refused, in one line.
const checkPlatform = (wanted: string | undefined): void => {
  if (!wanted) return;
  const host = hostPlatform();
  for (const one of wanted.split(',')) {
    const p = parsePlatform(one.trim());
    if (p.os !== host.os || p.architecture !== host.architecture)
      throw new CliError(
        'EUSAGE',
        `--platform ${one}: this host is ${host.os}/${host.architecture}, and skiff builds only for it (RUN steps would need emulation)`,
      );
  }
};

// BuildKit's automatic platform args: the build runs on this host's platform, for it.
const platformArgs = (): Record<string, string> => {
  const { os, architecture } = hostPlatform();
  const all = { PLATFORM: `${os}/${architecture}`, OS: os, ARCH: architecture, VARIANT: '' };
  return Object.fromEntries(
    Object.entries(all).flatMap(([k, v]) => [
      [`BUILD${k}`, v],
      [`TARGET${k}`, v],
    ]),
  );
};

export class Builds {
  constructor(
    private readonly ctx: EngineContext,
    private readonly containers: ContainersEngine,
    private readonly images: ImagesEngine,
    private readonly logs: ContainerLogs,
  ) {}

  // The Dockerfile and .dockerignore (both size-bounded), then every needed stage, then the image.
  async build(options: BuildOptions, onEvent: (event: BuildEvent) => void): Promise<BuildReport> {
    log.debug('build: start');
    checkPlatform(options.platform);
    const contextDir = resolve(options.context);
    const { df, path } = this.readDockerfile(options, contextDir);
    const ignoreText = this.readIgnore(options, contextDir, path);
    const hashes = new FileHashes(join(this.ctx.paths.data, 'build-cache'), contextDir);
    const context = new BuildContext(contextDir, ignoreMatcher(parseIgnore(ignoreText)), undefined, hashes);
    const { globalArgs, stages } = splitStages(df, { ...platformArgs(), ...options.buildArgs });
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
    return report;
  }

  private readDockerfile(options: BuildOptions, contextDir: string): { df: Dockerfile; path?: string } {
    if (options.text !== undefined) {
      if (Buffer.byteLength(options.text) > DOCKERFILE_MAX) throw tooLargeError({ what: 'the Dockerfile', limit: DOCKERFILE_MAX, code: 'EUSAGE' });
      return { df: parseDockerfile(options.text, 'Dockerfile') };
    }
    const candidates = options.file ? [resolve(options.file)] : ['Containerfile', 'Dockerfile'].map((n) => join(contextDir, n));
    for (const path of candidates) {
      const text = readCapped(path, DOCKERFILE_MAX, !options.file);
      if (text !== undefined) return { df: parseDockerfile(text, basename(path)), path };
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
