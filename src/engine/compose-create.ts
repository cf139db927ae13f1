// A compose service as the engine's create options: each key of the Compose model mapped to the
// flag `skiff run` would take for it, and the labels Docker Compose puts on its containers.
import type { CreateOptions } from './container-config.js';
import { secondsOf, type Project, type ServiceConfig } from '../compose/model.js';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NUMBER_LABEL = 'com.docker.compose.container-number';
export const HASH_LABEL = 'com.docker.compose.config-hash';

export const containerName = (project: string, service: string, n = 1): string => `${project}-${service}-${n}`;

export const labelsOf = (o: Record<string, string> | undefined): string[] => Object.entries(o ?? {}).map(([k, v]) => `${k}=${v}`);

// The create options of a service's container (the engine's own `run` model).
export const createOptions = (project: Project, service: string, hash: string, n = 1): CreateOptions => {
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
    name: containerName(project.name, service, n),
    env: Object.entries(s.environment ?? {})
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${v}`),
    labels: [
      ...labelsOf(s.labels),
      `${PROJECT_LABEL}=${project.name}`,
      `${SERVICE_LABEL}=${service}`,
      `${NUMBER_LABEL}=${n}`,
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
