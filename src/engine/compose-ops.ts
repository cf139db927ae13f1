// The compose commands past up/down/ps (docker compose v2's names and semantics): exec, run,
// start, stop, restart, kill, rm, pause, unpause, top, port, images, ls, pull, push, create, wait,
// each over the project's containers found by their labels. Typed reports; the CLI prints.
import { randomBytes } from 'node:crypto';
import { CliError } from '../errors.js';
import { configHash, projectContainers, startOrder, up, waitFor, type UpEvent } from './compose.js';
import { createOptions, HASH_LABEL, NUMBER_LABEL, PROJECT_LABEL, SERVICE_LABEL } from './compose-create.js';
import type { CreateOptions } from './container-config.js';
import type { ExecOptions } from './container-exec.js';
import type { ContainerRow } from './container-reports.js';
import type { Engine } from './index.js';
import { secondsOf, type Project } from '../compose/model.js';
import type { ContainerRecord } from '../state/containers.js';

export const ONEOFF_LABEL = 'com.docker.compose.oneoff';
export const SLUG_LABEL = 'com.docker.compose.slug';
export const CONFIG_FILES_LABEL = 'com.docker.compose.project.config_files';

export type OpsEvent = { object: 'Container' | 'Network' | 'Volume'; name: string; action: string } | { object: 'Service'; name: string; action: string };

// docker compose's own errors exit 1 (skiff's engine errors keep theirs).
export const composeError = (message: string): CliError => new CliError('ESTATE', message, { exitCode: 1 });

const isOneOff = (r: ContainerRow) => r.record.config.labels[ONEOFF_LABEL] === 'True';
const isRunning = (r: ContainerRow) => r.state.status === 'running' || r.state.status === 'stopping';
const serviceOf = (r: ContainerRow) => r.record.config.labels[SERVICE_LABEL];
const numberOf = (r: ContainerRow) => Number(r.record.config.labels[NUMBER_LABEL] ?? 0);
const byName = (a: ContainerRow, b: ContainerRow) => a.record.name.localeCompare(b.record.name);

// The services named (all of the project's when none), each checked to exist.
export const selectServices = (project: Project, services: string[]): string[] => {
  for (const s of services) if (!Object.hasOwn(project.services, s)) throw composeError(`no such service: ${s}`);
  return services.length ? services : Object.keys(project.services);
};

// The project's containers of `services`, by name; one-off (`run`) containers as asked.
export const serviceContainers = (engine: Engine, project: string, services: string[], oneOff: 'include' | 'exclude' | 'only' = 'exclude'): ContainerRow[] =>
  projectContainers(engine, project)
    .filter((r) => services.includes(serviceOf(r)))
    .filter((r) => (oneOff === 'include' ? true : oneOff === 'only' ? isOneOff(r) : !isOneOff(r)))
    .sort(byName);

// The running container of a service that exec and port act on: replica `index` (1-based), or the
// lowest numbered one, one-off containers last.
export const targetContainer = (engine: Engine, project: Project, service: string, index = 0): ContainerRow => {
  selectServices(project, [service]);
  const rows = serviceContainers(engine, project.name, [service], 'include')
    .filter(isRunning)
    .filter((r) => index <= 0 || (numberOf(r) === index && !isOneOff(r)))
    .sort((a, b) => Number(isOneOff(a)) - Number(isOneOff(b)) || numberOf(a) - numberOf(b));
  if (!rows.length) throw composeError(index > 0 ? `service "${service}" is not running container #${index}` : `service "${service}" is not running`);
  return rows[0];
};

// `compose exec`: the command in the service's container; its exit code.
export const exec = async (engine: Engine, project: Project, service: string, index: number, options: ExecOptions): Promise<number> => {
  await engine.enterUserNamespace();
  const row = targetContainer(engine, project, service, index);
  return engine.containers.exec(row.record.id, options);
};

// `compose start`: each service's stopped containers, dependencies first.
export const start = async (engine: Engine, project: Project, services: string[], notify: (e: OpsEvent) => void): Promise<void> => {
  const selected = selectServices(project, services);
  await engine.enterUserNamespace();
  for (const service of startOrder(project).filter((s) => selected.includes(s))) {
    const rows = serviceContainers(engine, project.name, [service]);
    if (!rows.length) {
      if (project.services[service].deploy?.replicas === 0 || project.services[service].scale === 0) continue;
      throw composeError(`service "${service}" has no container to start`);
    }
    // (As docker compose's start: each dependency's condition is met first.)
    for (const [dep, d] of Object.entries(project.services[service].depends_on ?? {}))
      if (selected.includes(dep) || serviceContainers(engine, project.name, [dep]).length)
        await waitFor(
          engine,
          project,
          dep,
          serviceContainers(engine, project.name, [dep]).map((r) => r.record.id),
          d.condition,
          (e) => {
            if ('object' in e && e.object === 'Container') notify({ object: 'Container', name: e.name, action: e.action });
          },
        );
    for (const r of rows.filter((r) => !isRunning(r))) {
      await engine.containers.start(r.record.id);
      notify({ object: 'Container', name: r.record.name, action: 'Started' });
    }
  }
};

// `compose stop`: each service's containers, dependants first.
export const stop = async (engine: Engine, project: Project, services: string[], timeout: number | undefined, notify: (e: OpsEvent) => void): Promise<void> => {
  const selected = selectServices(project, services);
  await engine.enterUserNamespace();
  for (const service of startOrder(project)
    .reverse()
    .filter((s) => selected.includes(s)))
    for (const r of serviceContainers(engine, project.name, [service])) {
      if (isRunning(r)) await engine.containers.stop(r.record.id, timeout);
      notify({ object: 'Container', name: r.record.name, action: 'Stopped' });
    }
};

// `compose restart`: the services named (all without names) and, unless --no-deps, the services
// whose depends_on asks to be restarted with them (`restart: true`), dependencies first.
export const restart = async (
  engine: Engine,
  project: Project,
  services: string[],
  options: { timeout?: number; noDeps?: boolean },
  notify: (e: OpsEvent) => void,
): Promise<void> => {
  const selected = new Set(selectServices(project, services));
  const order = startOrder(project);
  if (services.length && !options.noDeps)
    for (const s of order) if (Object.entries(project.services[s].depends_on ?? {}).some(([d, c]) => c.restart && selected.has(d))) selected.add(s);
  await engine.enterUserNamespace();
  for (const service of order.filter((s) => selected.has(s)))
    for (const r of serviceContainers(engine, project.name, [service])) {
      await engine.containers.restart(r.record.id, options.timeout);
      notify({ object: 'Container', name: r.record.name, action: 'Started' });
    }
};

// `compose kill`: a signal to each running container of the services (with --remove-orphans also
// to containers of services the files no longer define). None: false (compose says so, exit 0).
export const kill = async (
  engine: Engine,
  project: Project,
  services: string[],
  options: { signal: string; removeOrphans?: boolean },
  notify: (e: OpsEvent) => void,
): Promise<boolean> => {
  const selected = selectServices(project, services);
  await engine.enterUserNamespace();
  const rows = projectContainers(engine, project.name)
    .filter(isRunning)
    .filter((r) => selected.includes(serviceOf(r)) || (options.removeOrphans && !services.length && !Object.hasOwn(project.services, serviceOf(r))))
    .sort(byName);
  for (const r of rows) {
    await engine.containers.kill(r.record.id, options.signal);
    notify({ object: 'Container', name: r.record.name, action: 'Killed' });
  }
  return rows.length > 0;
};

// `compose pause` / `unpause`: the services' running containers frozen or thawed.
export const pause = async (engine: Engine, project: Project, services: string[], freeze: boolean, notify: (e: OpsEvent) => void): Promise<void> => {
  const selected = selectServices(project, services);
  await engine.enterUserNamespace();
  for (const r of serviceContainers(engine, project.name, selected).filter(isRunning)) {
    if (Boolean(r.state.paused) === freeze) continue;
    await engine.containers.pause(r.record.id, freeze);
    notify({ object: 'Container', name: r.record.name, action: freeze ? 'Paused' : 'Unpaused' });
  }
};

// `compose rm`: what it would remove (the services' stopped containers, one-off ones aside), then
// the removal once the caller has confirmed.
export const removable = (engine: Engine, project: Project, services: string[]): ContainerRow[] =>
  serviceContainers(engine, project.name, selectServices(project, services)).filter((r) => !isRunning(r));

export const remove = async (engine: Engine, rows: ContainerRow[], options: { volumes?: boolean }, notify: (e: OpsEvent) => void): Promise<void> => {
  await engine.enterUserNamespace();
  for (const r of rows) {
    await engine.containers.remove(r.record.id, { force: true, volumes: options.volumes });
    notify({ object: 'Container', name: r.record.name, action: 'Removed' });
  }
};

// `compose top`: each running container's processes, as docker's ps -ef columns.
export interface TopReport {
  name: string;
  titles: string[];
  processes: string[][];
}

const clock = (seconds: number): string =>
  [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), Math.floor(seconds % 60)].map((n) => String(n).padStart(2, '0')).join(':');

export const top = async (engine: Engine, project: Project, services: string[]): Promise<TopReport[]> => {
  const selected = selectServices(project, services);
  await engine.enterUserNamespace();
  return serviceContainers(engine, project.name, selected, 'include')
    .filter(isRunning)
    .map((r) => ({
      name: r.record.name,
      titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      // From Podman's descriptors to docker's columns: STIME as HH:MM, TIME as a clock.
      processes: engine.files
        .top(r.record.id, ['user', 'pid', 'ppid', 'pcpu', 'stime', 'tty', 'time', 'args'])
        .rows.map(([user, pid, ppid, cpu, stime, tty, time, cmd]) => {
          const started = new Date(stime.replace(/ ([+-]\d{2})(\d{2}) \S+$/, '$1:$2').replace(' ', 'T'));
          const hhmm = Number.isNaN(started.getTime())
            ? stime
            : `${String(started.getHours()).padStart(2, '0')}:${String(started.getMinutes()).padStart(2, '0')}`;
          return [user, pid, ppid, String(Math.floor(Number(cpu))), hhmm, tty, clock(secondsOf(time)), cmd];
        }),
    }));
};

// `compose port`: the host address a container port is published on.
export const port = (engine: Engine, project: Project, service: string, privatePort: number, options: { protocol: string; index?: number }): string => {
  const row = targetContainer(engine, project, service, options.index);
  const ports = row.record.config.ports ?? [];
  const found = ports.find((p) => p.containerPort === privatePort && p.protocol === options.protocol);
  if (!found)
    throw composeError(
      `no port ${privatePort}/${options.protocol} for container ${row.record.name}: ${ports.map((p) => `${p.containerPort}/${p.protocol}`).join(', ')}`,
    );
  return `${found.hostIp || '0.0.0.0'}:${found.hostPort}`;
};

// `compose images`: the image of each of the project's containers.
export interface ImageRow {
  container: string;
  repository: string;
  tag: string;
  id: string;
  size: number;
  created?: string;
}

export const images = (engine: Engine, project: Project, services: string[]): ImageRow[] => {
  const selected = selectServices(project, services);
  const byId = new Map(engine.images.list({ all: true }).map((i) => [i.id, i]));
  return serviceContainers(engine, project.name, selected, 'include').map((r) => {
    const image = byId.get(r.record.imageId) ?? byId.get(`sha256:${r.record.imageId.replace(/^sha256:/, '')}`);
    const name = r.record.imageName || r.record.image;
    const at = name.lastIndexOf(':');
    const [repository, tag] = at > name.lastIndexOf('/') ? [name.slice(0, at), name.slice(at + 1)] : [name, 'latest'];
    return { container: r.record.name, repository, tag, id: r.record.imageId, size: image?.size ?? 0, created: image?.created };
  });
};

// `compose ls`: the projects that containers are labelled with, their states counted
// ("running(2), exited(1)") and their compose files.
export interface ProjectSummary {
  Name: string;
  Status: string;
  ConfigFiles: string;
}

const dockerState = (r: ContainerRow): string => (r.state.paused ? 'paused' : isRunning(r) ? 'running' : r.state.status === 'exited' ? 'exited' : 'created');

export const list = (engine: Engine, options: { all?: boolean }): ProjectSummary[] => {
  const byProject = new Map<string, ContainerRow[]>();
  for (const r of engine.containers.list()) {
    const name = r.record.config.labels[PROJECT_LABEL];
    if (name === undefined || r.record.config.labels[HASH_LABEL] === undefined) continue;
    if (!options.all && !isRunning(r)) continue;
    byProject.set(name, [...(byProject.get(name) ?? []), r]);
  }
  return [...byProject.keys()].sort().map((name) => {
    const rows = byProject.get(name)!;
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(dockerState(r), (counts.get(dockerState(r)) ?? 0) + 1);
    const files = rows.map((r) => r.record.config.labels[CONFIG_FILES_LABEL]);
    return {
      Name: name,
      Status: [...counts.keys()]
        .sort()
        .map((s) => `${s}(${counts.get(s)})`)
        .join(', '),
      // (Containers made before their config files were labelled: compose's own "N/A".)
      ConfigFiles: files.some((f) => f === undefined) ? 'N/A' : [...new Set(files.flatMap((f) => f!.split(',')))].join(','),
    };
  });
};

// The services with their dependencies (transitively), in start order.
const withDependencies = (project: Project, services: string[]): string[] => {
  const wanted = new Set<string>();
  const visit = (s: string) => {
    if (wanted.has(s)) return;
    wanted.add(s);
    for (const d of Object.keys(project.services[s].depends_on ?? {})) visit(d);
  };
  services.forEach(visit);
  return startOrder(project).filter((s) => wanted.has(s));
};

// `compose pull`: each service's image from its registry. A failure stops it unless ignored (then
// it is reported as the service's Error and the rest go on).
export const pull = async (
  engine: Engine,
  project: Project,
  services: string[],
  options: { ignoreFailures?: boolean; includeDeps?: boolean },
  notify: (e: OpsEvent) => void,
): Promise<void> => {
  let selected = selectServices(project, services);
  if (options.includeDeps) selected = withDependencies(project, selected);
  await engine.enterUserNamespace();
  for (const service of selected) {
    const image = project.services[service].image;
    if (!image || project.services[service].pull_policy === 'never' || project.services[service].pull_policy === 'build') {
      notify({ object: 'Service', name: service, action: 'Skipped' });
      continue;
    }
    try {
      await engine.images.pull(image, {});
      notify({ object: 'Service', name: service, action: 'Pulled' });
    } catch (error) {
      if (!options.ignoreFailures) throw error;
      notify({ object: 'Service', name: service, action: `Error ${error instanceof Error ? error.message : String(error)}` });
    }
  }
};

// `compose push`: the images the project builds (services with both build and image); the others
// are Skipped, as compose does.
export const push = async (
  engine: Engine,
  project: Project,
  services: string[],
  options: { ignoreFailures?: boolean },
  notify: (e: OpsEvent) => void,
): Promise<void> => {
  const selected = selectServices(project, services);
  await engine.enterUserNamespace();
  for (const service of selected) {
    const s = project.services[service];
    if (!s.build || !s.image) {
      notify({ object: 'Service', name: service, action: 'Skipped' });
      continue;
    }
    try {
      await engine.images.push(s.image, undefined, {});
      notify({ object: 'Service', name: s.image, action: 'Pushed' });
    } catch (error) {
      if (!options.ignoreFailures) throw error;
      notify({ object: 'Service', name: s.image, action: `Error ${error instanceof Error ? error.message : String(error)}` });
    }
  }
};

// `compose create`: the project's network and volumes, and a container for each service that has
// none (not started).
export const create = async (engine: Engine, project: Project, services: string[], notify: (e: OpsEvent) => void): Promise<void> => {
  const selected = withDependencies(project, selectServices(project, services));
  await up(engine, { ...project, services: {} }, notify);
  for (const service of selected) {
    if (serviceContainers(engine, project.name, [service]).length) continue;
    const record = await engine.containers.create(createOptions(project, service, configHash(project, service)));
    notify({ object: 'Container', name: record.name, action: 'Created' });
  }
};

// `compose wait`: until the services' running containers have all stopped, each exit told as it
// comes; the last one's exit code.
export const wait = async (engine: Engine, project: Project, services: string[], onExit: (id: string, code: number) => void): Promise<number> => {
  const selected = selectServices(project, services);
  const rows = serviceContainers(engine, project.name, selected, 'include').filter(isRunning);
  if (!rows.length) throw composeError(`no containers for project "${project.name}"`);
  let last = 0;
  await Promise.all(
    rows.map(async (r) => {
      last = await engine.containers.wait(r.record.id);
      onExit(r.record.id, last);
    }),
  );
  return last;
};

// `compose run`'s options (docker compose run's flags).
export interface RunOptions {
  service: string;
  command?: string[];
  entrypoint?: string[];
  env?: string[];
  labels?: string[];
  user?: string;
  workdir?: string;
  volumes?: string[];
  publish?: string[];
  servicePorts?: boolean;
  useAliases?: boolean;
  noDeps?: boolean;
  name?: string;
  rm?: boolean;
  tty?: boolean;
  interactive?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  pull?: 'always' | 'missing' | 'never';
}

// The create options of a one-off container of `service`: the service's own, named
// PROJECT-SERVICE-run-<12 hex> and labelled oneoff=True, with no restart policy and (unless
// --service-ports) none of the service's ports published.
export const runCreateOptions = (project: Project, options: RunOptions): CreateOptions => {
  const base = createOptions(project, options.service, configHash(project, options.service));
  const slug = randomBytes(32).toString('hex');
  const labels = new Map(base.labels?.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  labels.set(ONEOFF_LABEL, 'True');
  labels.set(SLUG_LABEL, slug);
  for (const l of options.labels ?? []) {
    if (!l.includes('=')) throw new CliError('EUSAGE', `label must be set as KEY=VALUE: ${l}`, { exitCode: 1 });
    labels.set(l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1));
  }
  const { restart: _restart, ...rest } = base;
  return {
    ...rest,
    name: options.name ?? `${project.name}-${options.service}-run-${slug.slice(0, 12)}`,
    labels: [...labels].map(([k, v]) => `${k}=${v}`),
    ...(options.command?.length ? { command: options.command } : {}),
    ...(options.entrypoint ? { entrypoint: JSON.stringify(options.entrypoint) } : {}),
    env: [...(base.env ?? []), ...(options.env ?? [])],
    ...(options.user !== undefined ? { user: options.user } : {}),
    ...(options.workdir !== undefined ? { workdir: options.workdir } : {}),
    volume: [...(base.volume ?? []), ...(options.volumes ?? [])],
    publish: options.servicePorts ? base.publish : (options.publish ?? []),
    networkAliases: options.useAliases ? base.networkAliases : [],
    capAdd: [...(base.capAdd ?? []), ...(options.capAdd ?? [])],
    capDrop: [...(base.capDrop ?? []), ...(options.capDrop ?? [])],
    rm: Boolean(options.rm),
    tty: Boolean(options.tty),
    interactive: Boolean(options.interactive),
    pull: options.pull ?? 'missing',
  };
};

// `compose run`: the project's network and volumes, the service's dependencies started as `up`
// starts them (unless --no-deps), then the one-off container created; the caller starts it
// (attached or not).
export const prepareRun = async (engine: Engine, project: Project, options: RunOptions, notify: (e: UpEvent) => void): Promise<ContainerRecord> => {
  selectServices(project, [options.service]);
  if (options.publish?.length && options.servicePorts) throw composeError('--service-ports and --publish are incompatible');
  const deps = options.noDeps ? [] : withDependencies(project, [options.service]).filter((s) => s !== options.service);
  await up(engine, { ...project, services: Object.fromEntries(deps.map((s) => [s, project.services[s]])) }, notify);
  return engine.containers.create(runCreateOptions(project, options));
};
