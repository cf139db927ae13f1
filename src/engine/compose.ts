// Runs a resolved project on the engine: its network, volumes and one container per service, all
// labelled as Docker Compose labels them, so a later `up` changes only what changed and `down`
// removes exactly what the project made.
import { createHash } from 'node:crypto';
import { CliError } from '../errors.js';
import { containerName, createOptions, HASH_LABEL, labelsOf, PROJECT_LABEL, SERVICE_LABEL } from './compose-create.js';
import type { ContainerRow } from './container-reports.js';
import type { Engine } from './index.js';
import { secondsOf, type Project } from '../compose/model.js';
export { containerName, HASH_LABEL, NUMBER_LABEL, PROJECT_LABEL, SERVICE_LABEL } from './compose-create.js';

export type UpEvent = {
  object: 'Network' | 'Volume' | 'Container';
  name: string;
  action: 'Created' | 'Started' | 'Running' | 'Recreated' | 'Healthy' | 'Exited';
};
export type DownEvent = { object: 'Network' | 'Volume' | 'Container'; name: string; action: 'Stopped' | 'Removed' };

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
