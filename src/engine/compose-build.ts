// `compose build` and the builds `up` makes: a service's build: section (context, dockerfile, args,
// target, labels, network) on skiff's own build engine (builds.ts), the image tagged with the
// service's image: or PROJECT-SERVICE as docker compose names it.
import { isAbsolute, resolve } from 'node:path';
import { CliError } from '../errors.js';
import type { BuildEvent, BuildOptions, BuildReport } from './builds.js';
import { imageName } from './compose-create.js';
import type { Engine } from './index.js';
import type { Project, ServiceConfig } from '../compose/model.js';

export interface ComposeBuildOptions {
  noCache?: boolean;
  /** --pull: always look for a newer base image. */
  pull?: boolean;
  /** --build-arg KEY[=VALUE] (over the file's args; a bare KEY takes the environment's value). */
  buildArgs?: Record<string, string | null>;
  /** -m: the RUN steps' memory limit. */
  memory?: string;
  /** The environment bare args take their values from. */
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export type ServiceBuildEvent = { service: string; build: BuildEvent };

// The image a service runs: its image:, else the one compose builds for it, PROJECT-SERVICE.
export const imageOf = (
  project: Project,
  service: string,
  config: ServiceConfig | undefined = project.services[service] ?? project.disabled?.[service],
): string => config?.image ?? imageName(project, service);

// What builds.ts takes for a service's build: section (paths from the project directory).
export const buildOptionsOf = (project: Project, service: string, options: ComposeBuildOptions = {}): BuildOptions => {
  const s = project.services[service];
  const b = s?.build;
  if (!b) throw new CliError('EUSAGE', `service "${service}" has no build: section`);
  const context = isAbsolute(b.context) ? b.context : resolve(project.workingDir, b.context);
  const env = options.env ?? process.env;
  const buildArgs: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...(b.args ?? {}), ...(options.buildArgs ?? {}) })) {
    const value = v ?? env[k];
    if (value !== undefined) buildArgs[k] = value;
  }
  return {
    context,
    ...(b.dockerfile ? { file: isAbsolute(b.dockerfile) ? b.dockerfile : resolve(context, b.dockerfile) } : {}),
    tags: [imageOf(project, service)],
    buildArgs,
    ...(b.target ? { target: b.target } : {}),
    ...(b.labels ? { labels: b.labels } : {}),
    ...(b.network ? { network: b.network } : {}),
    ...(options.noCache || b.no_cache ? { noCache: true } : {}),
    ...(options.pull || b.pull ? { pull: 'always' as const } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.memory ? { run: { memory: options.memory } } : {}),
  };
};

// Builds one service's image; its steps go to onEvent.
export const buildService = async (
  engine: Engine,
  project: Project,
  service: string,
  options: ComposeBuildOptions,
  onEvent: (e: ServiceBuildEvent) => void,
): Promise<BuildReport> => {
  const buildOptions = buildOptionsOf(project, service, options);
  await engine.enterUserNamespace();
  const builds = await engine.builds();
  return builds.build(buildOptions, (build) => onEvent({ service, build }));
};

// `compose build [SVC…]`: the services with a build: section among those named (all by default), one
// after another; a named service without one is refused.
export const buildServices = async (
  engine: Engine,
  project: Project,
  services: string[],
  options: ComposeBuildOptions,
  onEvent: (e: ServiceBuildEvent) => void,
): Promise<{ service: string; image: string; id: string }[]> => {
  for (const s of services) if (!(s in project.services)) throw new CliError('EUSAGE', `no such service: ${s}`);
  const chosen = (services.length ? services : Object.keys(project.services)).filter((s) => project.services[s].build);
  const out: { service: string; image: string; id: string }[] = [];
  for (const service of chosen) {
    const report = await buildService(engine, project, service, options, onEvent);
    out.push({ service, image: imageOf(project, service), id: report.id });
  }
  return out;
};
