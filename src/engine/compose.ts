// Runs a resolved project on the engine: its network, volumes and containers (one per replica of each
// service), all labelled as Docker Compose labels them, so a later `up` changes only what changed and
// `down` removes exactly what the project made. Services start in dependency order, independent ones
// side by side.
import { createHash } from 'node:crypto';
import { CliError, messageOf } from '../errors.js';
import { buildService, type ComposeBuildOptions, imageOf, type ServiceBuildEvent } from './compose-build.js';
import { createOptions, HASH_LABEL, labelsOf, NUMBER_LABEL, networkOptions, PROJECT_LABEL, SERVICE_LABEL } from './compose-create.js';
import type { ContainerRow } from './container-reports.js';
import { isAlive } from '../state/liveness.js';
import { shouldRestart } from './exit-policy.js';
import { signalQuietly } from '../util/exec.js';
import type { Engine } from './index.js';
import { enableServices, secondsOf, type Project, type ServiceConfig } from '../compose/model.js';
import { ComposeFileError } from '../compose/source.js';
export { containerName, HASH_LABEL, NUMBER_LABEL, PROJECT_LABEL, SERVICE_LABEL } from './compose-create.js';

export type ProgressEvent = {
  object: 'Network' | 'Volume' | 'Container' | 'Image';
  name: string;
  action: 'Created' | 'Started' | 'Running' | 'Recreated' | 'Healthy' | 'Exited' | 'Stopped' | 'Removed' | 'Built' | 'Pulled' | 'Waiting';
};
// What up tells as it goes: progress, warnings (orphans), build steps. (UpEvent: progress alone, the
// short form's, as compose run and create take it.)
export type UpNotice = ProgressEvent | { warning: string } | ServiceBuildEvent;
export type UpEvent = { object: 'Network' | 'Volume' | 'Container'; name: string; action: ProgressEvent['action'] };
export type DownEvent = ProgressEvent | { warning: string };

// A service that did not start: its name, its exit code (when it ran) and its last log lines.
export class ServiceFailure extends CliError {
  constructor(
    readonly service: string,
    message: string,
    readonly lines: string[] = [],
    readonly serviceExitCode?: number,
    // (An engine error keeps its exit code, 125 for skiff's own; a service that ran and failed: 1, as docker compose.)
    cause?: unknown,
  ) {
    super(cause instanceof CliError ? cause.code : 'ESTATE', message, { exitCode: cause instanceof CliError ? cause.exitCode : 1, cause });
  }
}

export interface UpOptions {
  /** `up SVC…`: these and (unless noDeps) what they depend on. */
  services?: string[];
  noDeps?: boolean;
  /** --scale SVC=N, over scale: and deploy.replicas. */
  scale?: Record<string, number>;
  /** diverged (the default): recreate what changed; force: everything; never: nothing. */
  recreate?: 'diverged' | 'force' | 'never';
  /** The same for services up starts only as dependencies of those named (--always-recreate-deps: force). */
  recreateDependencies?: 'diverged' | 'force' | 'never';
  removeOrphans?: boolean;
  /** --pull, over each service's pull_policy. */
  pull?: 'always' | 'missing' | 'never';
  /** auto: build missing images of services with build:; force (--build): build them all; never (--no-build). */
  build?: 'auto' | 'force' | 'never';
  buildOptions?: ComposeBuildOptions;
  noStart?: boolean;
  /** Seconds a container being recreated or scaled away gets to stop. */
  timeout?: number;
  /** No orphan warning or removal (`project` holds only some of the services). */
  ignoreOrphans?: boolean;
}

// The containers `up` left: each with whether this run started it (its whole log is new).
export interface UpReport {
  containers: { name: string; id: string; service: string; fresh: boolean }[];
}

// The services `up`, `ps` and `logs` act on: the model keeps those of inactive profiles in
// Project.disabled (`up SVC…` enables the ones it names: enableServices).
export const activeServices = (project: Project): Record<string, ServiceConfig> => project.services;

// A hash of the service's resolved configuration (and the names it refers to): a change recreates it.
export const configHash = (project: Project, service: string): string => {
  const s = project.services[service];
  const networks = Object.keys(s.networks ?? {}).map((n) => project.networks[n]?.name);
  return createHash('sha256').update(JSON.stringify({ s, networks })).digest('hex');
};

// Services in an order that starts each after the ones it depends on; cycles are refused.
// (Depth-first with a stack of its own: a long depends_on chain neither overflows nor copies chains.)
export const startOrder = (project: Project, services = project.services): string[] => {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const depsOf = (name: string) => Object.keys(services[name].depends_on ?? {}).filter((d) => Object.hasOwn(services, d));
  for (const root of Object.keys(services)) {
    if (state.has(root)) continue;
    const stack: { name: string; next: number; deps: string[] }[] = [{ name: root, next: 0, deps: depsOf(root) }];
    state.set(root, 'visiting');
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next === top.deps.length) {
        stack.pop();
        state.set(top.name, 'done');
        order.push(top.name);
        continue;
      }
      const d = top.deps[top.next++];
      if (state.get(d) === 'done') continue;
      if (state.get(d) === 'visiting') {
        const chain = stack.slice(stack.findIndex((f) => f.name === d)).map((f) => f.name);
        throw new CliError('ECONFIG', `depends_on has a cycle: ${[...chain, d].join(' → ')}`);
      }
      state.set(d, 'visiting');
      stack.push({ name: d, next: 0, deps: depsOf(d) });
    }
  }
  return order;
};

// `up SVC…`: the named services and, unless noDeps, everything they depend on.
export const selectServices = (project: Project, names: string[] | undefined, noDeps = false): string[] => {
  const active = activeServices(project);
  if (!names?.length) return Object.keys(active);
  const out = new Set<string>();
  const add = (name: string) => {
    if (out.has(name)) return;
    if (!(name in active)) {
      if (project.disabled && name in project.disabled)
        throw new CliError('EUSAGE', `service "${name}" is not active: enable one of its profiles with --profile`);
      throw new CliError('EUSAGE', `no such service: ${name}`);
    }
    out.add(name);
    if (!noDeps) for (const d of Object.keys(active[name].depends_on ?? {})) if (d in active) add(d);
  };
  for (const n of names) add(n);
  return Object.keys(active).filter((n) => out.has(n));
};

const enableNamed = (project: Project, names: string[]): Project => {
  try {
    return enableServices(project, names);
  } catch (e) {
    if (e instanceof ComposeFileError) throw new CliError('EUSAGE', e.message);
    throw e;
  }
};

// How many containers a service runs: --scale, then scale:, then deploy.replicas, else 1.
export const replicasOf = (project: Project, service: string, scale: Record<string, number> = {}): number => {
  const s = project.services[service];
  return scale[service] ?? s.scale ?? s.deploy?.replicas ?? 1;
};

// The project's containers, by label; one-off `run` containers too unless oneOff is false (up and
// logs leave them out, ps and down take them, as docker compose's).
export const projectContainers = (engine: Engine, project: string, oneOff = true): ContainerRow[] =>
  engine.containers
    .list()
    .filter((r) => r.record.config.labels[PROJECT_LABEL] === project && (oneOff || r.record.config.labels['com.docker.compose.oneoff'] !== 'True'))
    .sort((a, b) => a.record.name.localeCompare(b.record.name, 'en', { numeric: true }));

// Containers of the project whose service the files no longer have (nor keep behind a profile).
export const orphansOf = (project: Project, rows: ContainerRow[]): ContainerRow[] =>
  rows.filter((r) => {
    const s = r.record.config.labels[SERVICE_LABEL];
    return !(s in project.services) && !(project.disabled && s in project.disabled);
  });

export const orphanWarning = (project: Project, orphans: ContainerRow[]): string =>
  `Found orphan containers ([${orphans.map((r) => r.record.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live = (row: ContainerRow) => row.state.status === 'running' || row.state.status === 'stopping';

// A container's last lines of output (what a failure report shows).
export const lastLines = async (engine: Engine, id: string, n = 10): Promise<string[]> => {
  const lines: string[] = [];
  try {
    for await (const e of engine.logs.read(id, { tail: n })) lines.push(e.text.replace(/\n$/, ''));
  } catch {
    // (No log: nothing to show.)
  }
  return lines;
};

const failure = async (engine: Engine, service: string, row: ContainerRow, what: string): Promise<ServiceFailure> => {
  const code = row.state.exitCode ?? 0;
  return new ServiceFailure(
    service,
    `service "${service}" ${what}: container ${row.record.name} exited with code ${code}`,
    await lastLines(engine, row.record.id),
    code,
  );
};

const rowOf = (engine: Engine, id: string): ContainerRow => engine.containers.row(engine.containers.find(id));

// Waits for what a dependent's depends_on condition asks of each of `service`'s containers
// (`up`, and `start`/`restart` in compose-ops.ts).
export const waitFor = async (
  engine: Engine,
  project: Project,
  service: string,
  ids: string[],
  condition: string,
  notify: (e: UpNotice) => void,
): Promise<void> => {
  for (const id of ids) {
    const name = engine.containers.find(id).name;
    if (condition === 'service_completed_successfully') {
      const code = await engine.containers.wait(id);
      if (code !== 0) throw await failure(engine, service, rowOf(engine, id), "didn't complete successfully");
      notify({ object: 'Container', name, action: 'Exited' });
      continue;
    }
    if (condition !== 'service_healthy') {
      // service_started: a container that already failed does not count as started.
      const row = rowOf(engine, id);
      if (row.state.status === 'exited' && (row.state.exitCode ?? 0) !== 0) throw await failure(engine, service, row, 'failed to start');
      continue;
    }
    notify({ object: 'Container', name, action: 'Waiting' });
    await waitHealthy(engine, project, service, id, notify);
  }
};

const waitHealthy = async (engine: Engine, project: Project, service: string, id: string, notify: (e: UpNotice) => void, deadline?: number): Promise<void> => {
  const check = project.services[service].healthcheck;
  const limit =
    deadline ?? Date.now() + Math.max(60, secondsOf(check?.start_period ?? '0s') + secondsOf(check?.interval ?? '30s') * ((check?.retries ?? 3) + 1)) * 1000;
  for (;;) {
    const row = rowOf(engine, id);
    if (!row.health && row.record.config.healthcheck === undefined)
      throw new CliError('ECONFIG', `service "${service}" has no healthcheck: service_healthy cannot be met (add one, or use service_started)`);
    if (!live(row)) throw await failure(engine, service, row, 'exited before it was healthy');
    if (row.health?.Status === 'healthy') return notify({ object: 'Container', name: row.record.name, action: 'Healthy' });
    if (row.health?.Status === 'unhealthy')
      throw new ServiceFailure(service, `dependency failed to start: container ${row.record.name} is unhealthy`, await lastLines(engine, id));
    if (Date.now() > limit) throw new ServiceFailure(service, `container ${row.record.name} was not healthy in time`, await lastLines(engine, id));
    await sleep(100);
  }
};

// The project's networks and volumes, made when missing.
export const ensureResources = async (engine: Engine, project: Project, notify: (e: UpNotice) => void): Promise<void> => {
  const networks = new Map(engine.networks.list().map((n) => [n.name, n.labels]));
  for (const [key, n] of Object.entries(project.networks)) {
    const name = n.name as string;
    const labels = networks.get(name);
    if (labels && !n.external) {
      // As docker compose: a network made for another project, or not by compose, is warned of;
      // one made for another key of a compose file is refused (it may be another project's).
      const owner = labels[PROJECT_LABEL];
      if (owner === undefined)
        notify({ warning: `a network with name ${name} exists but was not created by compose: set \`external: true\` to use an existing network` });
      else if (owner !== project.name)
        notify({
          warning: `a network with name ${name} exists but was not created for project "${project.name}": set \`external: true\` to use an existing network`,
        });
      if (owner !== undefined && labels['com.docker.compose.network'] !== key)
        throw new CliError(
          'ECONFIG',
          `network ${name} was found but has incorrect label com.docker.compose.network set to "${labels['com.docker.compose.network'] ?? ''}"`,
        );
    }
    if (labels) continue;
    if (n.external) throw new CliError('ENONETWORK', `network ${name} declared as external, but could not be found: create it with skiff network create`);
    await engine.networks.create(name, networkOptions(project, key));
    notify({ object: 'Network', name, action: 'Created' });
  }
  const volumes = new Map(engine.volumes.list().map((v) => [v.Name, v.Labels]));
  for (const [key, v] of Object.entries(project.volumes)) {
    const name = v.name as string;
    const labels = volumes.get(name);
    if (labels && !v.external) {
      const owner = labels[PROJECT_LABEL];
      if (owner === undefined)
        notify({ warning: `volume "${name}" already exists but was not created by Docker Compose: use \`external: true\` to use an existing volume` });
      else if (owner !== project.name || labels['com.docker.compose.volume'] !== key)
        notify({
          warning: `volume "${name}" already exists but was created for project "${owner}" (expected "${project.name}"): use \`external: true\` to use an existing volume`,
        });
    }
    if (labels) continue;
    if (v.external) throw new CliError('ENOVOLUME', `external volume "${name}" not found: create it with skiff volume create`);
    await engine.volumes.create(name, { labels: [...labelsOf(v.labels), `${PROJECT_LABEL}=${project.name}`, `com.docker.compose.volume=${key}`] });
    notify({ object: 'Volume', name, action: 'Created' });
  }
};

const PULL_POLICIES: Record<string, 'always' | 'missing' | 'never' | 'build'> = {
  always: 'always',
  missing: 'missing',
  if_not_present: 'missing',
  never: 'never',
  build: 'build',
  daily: 'missing',
  weekly: 'missing',
};

// The image a service runs, built first when it has build: and the image is missing (or --build).
const prepareImage = async (
  engine: Engine,
  project: Project,
  service: string,
  options: UpOptions,
  notify: (e: UpNotice) => void,
): Promise<'always' | 'missing' | 'never'> => {
  const s = project.services[service];
  const policy = options.pull ?? PULL_POLICIES[s.pull_policy ?? 'missing'] ?? 'missing';
  if (!s.build) {
    if (policy === 'build') throw new CliError('ECONFIG', `service "${service}": pull_policy build needs a build: section`);
    if (policy !== 'always') return policy;
    // Pulled before anything is compared: a newer image recreates the service's containers.
    try {
      await engine.images.pull(s.image as string, {});
    } catch (e) {
      throw new ServiceFailure(service, `service "${service}": ${messageOf(e)}`, [], undefined, e);
    }
    notify({ object: 'Image', name: s.image as string, action: 'Pulled' });
    return 'never';
  }
  const image = imageOf(project, service);
  const wanted = options.build === 'force' || (policy === 'build' && options.build !== 'never') || !engine.images.exists(image);
  if (!wanted) return 'never';
  if (options.build === 'never')
    throw new CliError('ENOIMAGE', `service "${service}": image ${image} not found and --no-build was given: build it with compose build`);
  await buildService(engine, project, service, options.buildOptions ?? {}, notify);
  notify({ object: 'Image', name: image, action: 'Built' });
  return 'never';
};

const removeContainer = async (engine: Engine, row: ContainerRow, timeout: number | undefined, notify: (e: UpNotice | DownEvent) => void): Promise<void> => {
  if (live(rowOf(engine, row.record.id))) {
    await engine.containers.stop(row.record.id, timeout);
    notify({ object: 'Container', name: row.record.name, action: 'Stopped' });
  }
  // (Its anonymous volumes go with it: a recreated container gets new ones, as docker compose's -V.)
  await engine.containers.remove(row.record.id, { force: true, volumes: true });
  notify({ object: 'Container', name: row.record.name, action: 'Removed' });
};

// `compose up`: networks, volumes, then each service once its dependencies meet their conditions;
// a container whose config hash is unchanged is left alone (started if it is not running).
// (The short form up(engine, project, notify), as compose run and create call it for dependencies:
// the services of `project` as given, no orphan check, progress events only.)
export const up = async (engine: Engine, project: Project, options: UpOptions | ((e: UpEvent) => void), onEvent?: (e: UpNotice) => void): Promise<UpReport> => {
  if (typeof options === 'function') {
    const progress = options;
    return up(engine, project, { ignoreOrphans: true }, (e) => 'object' in e && e.object !== 'Image' && progress(e as UpEvent));
  }
  const notify = onEvent ?? (() => undefined);
  // A service named on the command line runs whatever its profiles, and what it depends on with it.
  if (options.services?.length) project = enableNamed(project, options.services);
  await engine.enterUserNamespace();
  const selected = selectServices(project, options.services, options.noDeps);
  const services = Object.fromEntries(selected.map((n) => [n, project.services[n]]));
  startOrder(project, services);
  for (const [svc, n] of Object.entries(options.scale ?? {}))
    if (!(svc in project.services)) throw new CliError('EUSAGE', `--scale ${svc}=${n}: no such service`);
  for (const svc of selected)
    if (project.services[svc].container_name && replicasOf(project, svc, options.scale) > 1)
      throw new CliError('ECONFIG', `service "${svc}" has container_name set: it cannot be scaled to more than one container`);
  const all = projectContainers(engine, project.name, false);
  const orphans = options.ignoreOrphans ? [] : orphansOf(project, all);
  if (orphans.length) {
    if (options.removeOrphans) for (const r of orphans) await removeContainer(engine, r, options.timeout, notify);
    else notify({ warning: orphanWarning(project, orphans) });
  }
  // Every service's options are made (and so checked: secret sources, names, mounts) before
  // anything is created: a bad one leaves nothing behind.
  for (const svc of selected) createOptions(project, svc, '', 1);
  await ensureResources(engine, project, notify);
  const report: UpReport = { containers: [] };
  const done = new Map<string, Promise<string[]>>();
  const run = async (service: string): Promise<string[]> => {
    const s = project.services[service];
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      if (!(dep in services)) {
        // (up --no-deps SVC: what it depends on is waited for only when it is there.)
        const ids = projectContainers(engine, project.name, false)
          .filter((r) => r.record.config.labels[SERVICE_LABEL] === dep)
          .map((r) => r.record.id);
        if (ids.length) await waitFor(engine, project, dep, ids, d.condition, notify);
        continue;
      }
      const ids = await done.get(dep)!;
      if (!options.noStart) await waitFor(engine, project, dep, ids, d.condition, notify);
    }
    return upService(engine, project, service, options, report, notify);
  };
  for (const service of startOrder(project, services)) done.set(service, run(service));
  // Every service settles before up does; the first failure (in start order) is the one reported.
  const settled = await Promise.allSettled(done.values());
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return report;
};

// One service's containers: numbers 1..N created or kept, higher numbers removed.
const upService = async (
  engine: Engine,
  project: Project,
  service: string,
  options: UpOptions,
  report: UpReport,
  notify: (e: UpNotice) => void,
): Promise<string[]> => {
  const pull = await prepareImage(engine, project, service, options, notify);
  const replicas = replicasOf(project, service, options.scale);
  const hash = configHash(project, service);
  const dependency = options.services?.length && !options.services.includes(service);
  const recreate = (dependency ? options.recreateDependencies : undefined) ?? options.recreate ?? 'diverged';
  const mine = projectContainers(engine, project.name, false).filter((r) => r.record.config.labels[SERVICE_LABEL] === service);
  const numberOf = (r: ContainerRow) => Number(r.record.config.labels[NUMBER_LABEL] ?? 1);
  // Scaled down: the highest numbers go (and any duplicate of a number).
  const byNumber = new Map<number, ContainerRow>();
  for (const r of mine.sort((a, b) => numberOf(b) - numberOf(a))) {
    const n = numberOf(r);
    if (n > replicas || byNumber.has(n)) await removeContainer(engine, r, options.timeout, notify);
    else byNumber.set(n, r);
  }
  // A container of an older image than the one its service names now (rebuilt, pulled) diverged too.
  const image = imageOf(project, service);
  const imageId = engine.images.exists(image) ? engine.images.resolve(image).id : undefined;
  const same = (r: ContainerRow) => r.record.config.labels[HASH_LABEL] === hash && (imageId === undefined || r.record.imageId === imageId);
  const ids: string[] = [];
  for (let n = 1; n <= replicas; n++) {
    const row = byNumber.get(n);
    const keep = row && (recreate === 'never' || (recreate !== 'force' && same(row)));
    if (row && keep) {
      ids.push(row.record.id);
      const fresh = !live(row);
      report.containers.push({ name: row.record.name, id: row.record.id, service, fresh });
      if (options.noStart) continue;
      if (!fresh) notify({ object: 'Container', name: row.record.name, action: 'Running' });
      else {
        await start(engine, service, row.record.id);
        notify({ object: 'Container', name: row.record.name, action: 'Started' });
      }
      continue;
    }
    if (row) await removeContainer(engine, row, options.timeout, () => undefined);
    const create = { ...createOptions(project, service, hash, n), pull, ...(project.services[service].build ? { image } : {}) };
    let record: Awaited<ReturnType<typeof engine.containers.create>>;
    try {
      record = await engine.containers.create(create);
    } catch (e) {
      throw new ServiceFailure(service, `service "${service}": ${messageOf(e)}`, [], undefined, e);
    }
    ids.push(record.id);
    report.containers.push({ name: record.name, id: record.id, service, fresh: true });
    notify({ object: 'Container', name: record.name, action: row ? 'Recreated' : 'Created' });
    if (options.noStart) continue;
    await start(engine, service, record.id);
    notify({ object: 'Container', name: record.name, action: 'Started' });
  }
  return ids;
};

const start = async (engine: Engine, service: string, id: string): Promise<void> => {
  try {
    await engine.containers.start(id);
  } catch (e) {
    throw new ServiceFailure(service, `service "${service}" failed to start: ${messageOf(e)}`, await lastLines(engine, id), undefined, e);
  }
};

// `up --wait`: every container of the services running (and healthy when it has a healthcheck);
// one that exited with a non-zero code, or went unhealthy, fails it.
export const waitRunning = async (
  engine: Engine,
  project: Project,
  report: UpReport,
  timeoutSeconds: number | undefined,
  notify: (e: UpNotice) => void,
): Promise<void> => {
  const deadline = timeoutSeconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutSeconds * 1000;
  await Promise.all(
    report.containers.map(async (c) => {
      notify({ object: 'Container', name: c.name, action: 'Waiting' });
      for (;;) {
        const row = rowOf(engine, c.id);
        if (row.state.status === 'exited') {
          if ((row.state.exitCode ?? 0) !== 0) throw await failure(engine, c.service, row, 'exited');
          return notify({ object: 'Container', name: c.name, action: 'Exited' });
        }
        if (live(row) && row.record.config.healthcheck === undefined && !row.health) return notify({ object: 'Container', name: c.name, action: 'Running' });
        if (live(row) && row.health?.Status === 'healthy') return notify({ object: 'Container', name: c.name, action: 'Healthy' });
        if (row.health?.Status === 'unhealthy') throw new ServiceFailure(c.service, `container ${c.name} is unhealthy`, await lastLines(engine, c.id));
        if (Date.now() > deadline)
          throw new ServiceFailure(c.service, `container ${c.name} was not running and healthy within ${timeoutSeconds}s (--wait-timeout)`);
        await sleep(100);
      }
    }),
  );
};

// Stops containers, dependents before what they depend on, each level side by side.
export const stopContainers = async (
  engine: Engine,
  project: Project,
  rows: ContainerRow[],
  timeout: number | undefined,
  notify: (e: DownEvent) => void,
): Promise<void> => {
  const services = { ...(project.disabled ?? {}), ...project.services };
  startOrder(project, services);
  // Each service's containers stop once those of the services that depend on it have stopped;
  // the rest (orphans, one-offs) first, all side by side.
  const serviceOf = (r: ContainerRow) => r.record.config.labels[SERVICE_LABEL];
  const stopAll = (list: ContainerRow[]) =>
    Promise.all(
      list
        .filter((r) => live(rowOf(engine, r.record.id)))
        .map(async (r) => {
          await engine.containers.stop(r.record.id, timeout);
          notify({ object: 'Container', name: r.record.name, action: 'Stopped' });
        }),
    );
  const known = (r: ContainerRow) => serviceOf(r) in services && r.record.config.labels['com.docker.compose.oneoff'] !== 'True';
  await stopAll(rows.filter((r) => !known(r)));
  const done = new Map<string, Promise<unknown>>();
  const stopService = (name: string): Promise<unknown> => {
    let p = done.get(name);
    if (p) return p;
    const dependents = Object.keys(services).filter((d) => name in (services[d].depends_on ?? {}));
    p = Promise.all(dependents.map(stopService)).then(() => stopAll(rows.filter((r) => known(r) && serviceOf(r) === name)));
    done.set(name, p);
    return p;
  };
  await Promise.all(Object.keys(services).map(stopService));
};

// A container's run: when it started and its restart count then (the engine counts a restart
// before it starts the container again).
export interface ContainerRun {
  startedAt?: string;
  restarts: number;
}

export const currentRun = (engine: Engine, id: string): ContainerRun => {
  const state = engine.containers.state(id);
  return { startedAt: state.startedAt, restarts: state.restartCount };
};

// After `run` of a container ended: the next run its restart policy started (once it has started),
// or undefined when the policy leaves it down, or once `stop()` says the project is stopping.
export const restartsAgain = async (engine: Engine, id: string, run: ContainerRun, stop: () => boolean): Promise<ContainerRun | undefined> => {
  for (;;) {
    if (stop() || !engine.containers.exists(id)) return undefined;
    const record = engine.containers.find(id);
    const state = engine.containers.state(id);
    if (state.startedAt !== run.startedAt) return { startedAt: state.startedAt, restarts: state.restartCount };
    // (A count past the run's own: the restart is decided, its start to come.)
    if (state.status === 'exited' && state.restartCount === run.restarts) {
      const ending = {
        exitCode: state.exitCode,
        stoppedByUser: Boolean(state.stoppedByUser),
        startFailed: Boolean(state.error),
        restartCount: state.restartCount,
      };
      if (!shouldRestart(record.config.restartPolicy, ending)) return undefined;
    }
    await sleep(50);
  }
};

// A second Ctrl-C: every live container of these killed at once (a stop under way holds the
// container's lock until its timeout, so the signal goes to the process as the engine's own stop does).
export const killContainers = (engine: Engine, rows: ContainerRow[]): void => {
  for (const r of rows) {
    const state = engine.containers.state(r.record.id);
    if (state.pid && !r.record.config.sharedNamespaces?.pid && isAlive(state.pid, state.pidStartTime)) signalQuietly(state.pid, 'SIGKILL');
  }
};

export interface DownOptions {
  volumes?: boolean;
  timeout?: number;
  removeOrphans?: boolean;
  /** --rmi local: images built for services without image:; all: every service's image. */
  rmi?: 'local' | 'all';
}

// `compose down`: the project's containers (dependents first), its networks, with -v its volumes,
// with --rmi its images. Orphans stay (with a warning) unless --remove-orphans.
export const down = async (engine: Engine, project: Project, options: DownOptions, notify: (e: DownEvent) => void): Promise<void> => {
  await engine.enterUserNamespace();
  const all = projectContainers(engine, project.name);
  const orphans = orphansOf(project, all);
  if (orphans.length && !options.removeOrphans) notify({ warning: orphanWarning(project, orphans) });
  const rows = options.removeOrphans ? all : all.filter((r) => !orphans.includes(r));
  await stopContainers(engine, project, rows, options.timeout, notify);
  await Promise.all(
    rows.map(async (r) => {
      await engine.containers.remove(r.record.id, { force: true, volumes: options.volumes });
      notify({ object: 'Container', name: r.record.name, action: 'Removed' });
    }),
  );
  for (const n of engine.networks.list().filter((n) => n.labels[PROJECT_LABEL] === project.name)) {
    try {
      await engine.networks.remove(n.name);
      notify({ object: 'Network', name: n.name, action: 'Removed' });
    } catch (e) {
      notify({ warning: `network ${n.name} kept: ${messageOf(e)}` });
    }
  }
  if (options.volumes)
    for (const v of engine.volumes.list().filter((v) => v.Labels[PROJECT_LABEL] === project.name)) {
      await engine.volumes.remove(v.Name);
      notify({ object: 'Volume', name: v.Name, action: 'Removed' });
    }
  if (options.rmi) {
    const all = { ...(project.disabled ?? {}), ...project.services };
    const images = new Set(
      Object.keys(all)
        .filter((s) => options.rmi === 'all' || !all[s].image)
        .map((s) => (all[s].image ? all[s].image! : imageOf(project, s))),
    );
    for (const image of images) {
      if (!engine.images.exists(image)) continue;
      try {
        await engine.images.remove([image]);
        notify({ object: 'Image', name: image, action: 'Removed' });
      } catch (e) {
        notify({ warning: `image ${image} kept: ${messageOf(e)}` });
      }
    }
  }
};
