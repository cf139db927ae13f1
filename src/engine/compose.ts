// Runs a resolved project on the engine: its network, volumes and one container per service, all
// labelled as Docker Compose labels them, so a later `up` changes only what changed and `down`
// removes exactly what the project made.
import { createHash } from 'node:crypto';
import { CliError } from '../errors.js';
import type { CreateOptions } from './container-config.js';
import type { ContainerRow } from './container-reports.js';
import type { Engine } from './index.js';
import { secondsOf, type Project, type ServiceConfig } from '../compose/model.js';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NUMBER_LABEL = 'com.docker.compose.container-number';
export const HASH_LABEL = 'com.docker.compose.config-hash';

export type UpEvent = {
  object: 'Network' | 'Volume' | 'Container';
  name: string;
  action: 'Created' | 'Started' | 'Running' | 'Recreated' | 'Healthy' | 'Exited';
};
export type DownEvent = { object: 'Network' | 'Volume' | 'Container'; name: string; action: 'Stopped' | 'Removed' };

export const containerName = (project: string, service: string, n = 1): string => `${project}-${service}-${n}`;

// A hash of the service's resolved configuration (and the names it refers to): a change recreates it.
export const configHash = (project: Project, service: string): string => {
  const s = project.services[service];
  const networks = Object.keys(s.networks ?? {}).map((n) => project.networks[n]?.name);
  return createHash('sha256').update(JSON.stringify({ s, networks })).digest('hex');
};

// Services in an order that starts each after the ones it depends on; cycles are refused.
export const startOrder = (project: Project): string[] => {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new CliError('ECONFIG', `depends_on has a cycle: ${[...chain, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const d of Object.keys(project.services[name].depends_on ?? {})) visit(d, [...chain, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(project.services)) visit(name, []);
  return order;
};

const labelsOf = (o: Record<string, string> | undefined): string[] => Object.entries(o ?? {}).map(([k, v]) => `${k}=${v}`);

// The create options of a service's container (the engine's own `run` model).
export const createOptions = (project: Project, service: string, hash: string): CreateOptions => {
  const s: ServiceConfig = project.services[service];
  const nets = Object.entries(s.networks ?? { default: null });
  const aliases = [service, ...nets.flatMap(([, n]) => n?.aliases ?? [])];
  const mounts = (s.volumes ?? []).map((v) => {
    const source = v.type === 'volume' && v.source ? project.volumes[v.source].name : v.source;
    const parts = [`type=${v.type}`, ...(source ? [`source=${source}`] : []), `target=${v.target}`];
    if (v.read_only) parts.push('readonly=true');
    if (v.bind?.propagation) parts.push(`bind-propagation=${v.bind.propagation}`);
    if (v.tmpfs?.size !== undefined) parts.push(`tmpfs-size=${v.tmpfs.size}`);
    if (v.tmpfs?.mode !== undefined) parts.push(`tmpfs-mode=${v.tmpfs.mode}`);
    return parts.join(',');
  });
  const h = s.healthcheck;
  const health: Partial<CreateOptions> = {};
  if (h?.disable || h?.test?.[0] === 'NONE') health.healthcheck = false;
  else if (h) {
    if (h.test) health.healthCmd = JSON.stringify(h.test);
    if (h.interval) health.healthInterval = h.interval;
    if (h.timeout) health.healthTimeout = h.timeout;
    if (h.start_period) health.healthStartPeriod = h.start_period;
    if (h.retries !== undefined) health.healthRetries = String(h.retries);
  }
  return {
    image: s.image as string,
    command: s.command ?? [],
    ...(s.entrypoint ? { entrypoint: JSON.stringify(s.entrypoint) } : {}),
    name: containerName(project.name, service),
    env: Object.entries(s.environment ?? {})
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${v}`),
    labels: [
      ...labelsOf(s.labels),
      `${PROJECT_LABEL}=${project.name}`,
      `${SERVICE_LABEL}=${service}`,
      `${NUMBER_LABEL}=1`,
      `${HASH_LABEL}=${hash}`,
      `com.docker.compose.project.working_dir=${project.workingDir}`,
      'com.docker.compose.oneoff=False',
    ],
    network: project.networks[nets[0][0]].name,
    moreNetworks: nets.slice(1).map(([n]) => project.networks[n].name as string),
    networkAliases: aliases,
    publish: (s.ports ?? []).map(
      (p) => `${p.host_ip ? `${p.host_ip}:` : ''}${p.published ?? ''}${p.published || p.host_ip ? ':' : ''}${p.target}/${p.protocol}`,
    ),
    expose: s.expose,
    mount: mounts,
    tmpfs: s.tmpfs,
    ...(s.user !== undefined ? { user: s.user } : {}),
    ...(s.working_dir !== undefined ? { workdir: s.working_dir } : {}),
    ...(s.hostname !== undefined ? { hostname: s.hostname } : {}),
    ...(s.restart !== undefined ? { restart: s.restart } : {}),
    ...(s.init ? { init: true } : {}),
    ...(s.read_only ? { readOnly: true } : {}),
    capAdd: s.cap_add,
    capDrop: s.cap_drop,
    ...(s.stop_signal ? { stopSignal: s.stop_signal } : {}),
    ...(s.stop_grace_period ? { stopTimeout: Math.round(secondsOf(s.stop_grace_period)) } : {}),
    ...health,
    pull: 'missing',
  };
};

// The project's containers, by label.
export const projectContainers = (engine: Engine, project: string): ContainerRow[] =>
  engine.containers.list().filter((r) => r.record.config.labels[PROJECT_LABEL] === project);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Waits for what a dependent's depends_on condition asks of `service`'s container.
const waitFor = async (engine: Engine, project: Project, service: string, condition: string, notify: (e: UpEvent) => void): Promise<void> => {
  const name = containerName(project.name, service);
  if (condition === 'service_completed_successfully') {
    const code = await engine.containers.wait(name);
    if (code !== 0) throw new CliError('ESTATE', `service "${service}" didn't complete successfully: exit ${code}`);
    return notify({ object: 'Container', name, action: 'Exited' });
  }
  if (condition !== 'service_healthy') return;
  const check = project.services[service].healthcheck;
  const limit = Date.now() + Math.max(60, secondsOf(check?.start_period ?? '0s') + secondsOf(check?.interval ?? '30s') * ((check?.retries ?? 3) + 1)) * 1000;
  for (;;) {
    const row = engine.containers.row(engine.containers.find(name));
    if (!row.health && row.record.config.healthcheck === undefined)
      throw new CliError('ECONFIG', `service "${service}" has no healthcheck: service_healthy cannot be met (add one, or use service_started)`);
    if (row.state.status !== 'running') throw new CliError('ESTATE', `service "${service}" exited (${row.state.exitCode ?? '?'}) before it was healthy`);
    if (row.health?.Status === 'healthy') return notify({ object: 'Container', name, action: 'Healthy' });
    if (row.health?.Status === 'unhealthy') throw new CliError('ESTATE', `dependency failed to start: container ${name} is unhealthy`);
    if (Date.now() > limit) throw new CliError('ESTATE', `container ${name} was not healthy in time`);
    await sleep(200);
  }
};

// `compose up -d`: network, volumes, then each service in dependency order; a container whose
// config hash is unchanged is left alone (started if it is not running).
export const up = async (engine: Engine, project: Project, notify: (e: UpEvent) => void): Promise<void> => {
  await engine.enterUserNamespace();
  const order = startOrder(project);
  for (const [key, n] of Object.entries(project.networks)) {
    const name = n.name as string;
    if (engine.networks.exists(name)) continue;
    if (n.external) throw new CliError('ENONETWORK', `network ${name} declared as external, but could not be found: create it with skiff network create`);
    await engine.networks.create(name, {
      internal: n.internal,
      labels: [...labelsOf(n.labels), `${PROJECT_LABEL}=${project.name}`, `com.docker.compose.network=${key}`],
    });
    notify({ object: 'Network', name, action: 'Created' });
  }
  for (const [key, v] of Object.entries(project.volumes)) {
    const name = v.name as string;
    if (engine.volumes.exists(name)) continue;
    if (v.external) throw new CliError('ENOVOLUME', `external volume "${name}" not found: create it with skiff volume create`);
    await engine.volumes.create(name, { labels: [...labelsOf(v.labels), `${PROJECT_LABEL}=${project.name}`, `com.docker.compose.volume=${key}`] });
    notify({ object: 'Volume', name, action: 'Created' });
  }
  const existing = new Map(projectContainers(engine, project.name).map((r) => [r.record.config.labels[SERVICE_LABEL], r]));
  for (const service of order) {
    for (const [dep, d] of Object.entries(project.services[service].depends_on ?? {})) await waitFor(engine, project, dep, d.condition, notify);
    const name = containerName(project.name, service);
    const hash = configHash(project, service);
    const row = existing.get(service);
    if (row && row.record.config.labels[HASH_LABEL] === hash) {
      if (row.state.status === 'running') notify({ object: 'Container', name, action: 'Running' });
      else {
        await engine.containers.start(row.record.id);
        notify({ object: 'Container', name, action: 'Started' });
      }
      continue;
    }
    if (row) {
      await engine.containers.stop(row.record.id);
      await engine.containers.remove(row.record.id, { force: true });
    }
    const record = await engine.containers.create(createOptions(project, service, hash));
    notify({ object: 'Container', name, action: row ? 'Recreated' : 'Created' });
    await engine.containers.start(record.id);
    notify({ object: 'Container', name, action: 'Started' });
  }
};

// `compose down [-v]`: the project's containers (dependents first), its networks, with -v its volumes.
export const down = async (
  engine: Engine,
  project: string,
  options: { volumes?: boolean; timeout?: number },
  notify: (e: DownEvent) => void,
): Promise<void> => {
  await engine.enterUserNamespace();
  const rows = projectContainers(engine, project);
  for (const r of rows.reverse()) {
    if (r.state.status === 'running' || r.state.status === 'stopping') {
      await engine.containers.stop(r.record.id, options.timeout);
      notify({ object: 'Container', name: r.record.name, action: 'Stopped' });
    }
    await engine.containers.remove(r.record.id, { force: true });
    notify({ object: 'Container', name: r.record.name, action: 'Removed' });
  }
  for (const n of engine.networks.list().filter((n) => n.labels[PROJECT_LABEL] === project)) {
    await engine.networks.remove(n.name);
    notify({ object: 'Network', name: n.name, action: 'Removed' });
  }
  if (options.volumes)
    for (const v of engine.volumes.list().filter((v) => v.Labels[PROJECT_LABEL] === project)) {
      await engine.volumes.remove(v.Name);
      notify({ object: 'Volume', name: v.Name, action: 'Removed' });
    }
};
