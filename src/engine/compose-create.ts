// A compose service as the engine's create options: each key of the Compose model mapped to the
// flag `skiff run` would take for it, and the labels Docker Compose puts on its containers.
import { posix } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { readProjectFile } from '../compose/read.js';
import { SECRET_DATA_MAX } from '../util/limits.js';
import type { CreateOptions, FileSecret } from './container-config.js';
import { mountField } from './container-mounts.js';
import { secondsOf, type Project, type ServiceConfig, type ServiceFileReference } from '../compose/model.js';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const NUMBER_LABEL = 'com.docker.compose.container-number';
export const HASH_LABEL = 'com.docker.compose.config-hash';

export const containerName = (project: string, service: string, n = 1): string => `${project}-${service}-${n}`;

// The name of a service's container n: its container_name, or PROJECT-SERVICE-N.
export const nameOf = (project: Project, service: string, n = 1): string =>
  project.services[service]?.container_name ?? containerName(project.name, service, n);

// The image of a service: its image, or PROJECT-SERVICE for one that is only built (docker compose v2's name).
export const imageName = (project: Project, service: string): string => project.services[service]?.image ?? `${project.name}-${service}`;

export const labelsOf = (o: Record<string, string> | undefined): string[] => Object.entries(o ?? {}).map(([k, v]) => `${k}=${v}`);

// The create options of a service's container (the engine's own `run` model).
export const createOptions = (project: Project, service: string, hash: string, n = 1): CreateOptions => {
  const s: ServiceConfig = project.services[service];
  const nets = Object.entries(s.networks ?? { default: null });
  const aliases = [service, ...nets.flatMap(([, n]) => n?.aliases ?? [])];
  const mounts = (s.volumes ?? []).map((v) => {
    const source = v.type === 'volume' && v.source ? project.volumes[v.source].name : v.source;
    const parts = [`type=${v.type}`, ...(source ? [mountField(`source=${source}`)] : []), mountField(`target=${v.target}`)];
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
  if (s.container_name && n > 1)
    throw new CliError('ECONFIG', `services.${service}: container_name "${s.container_name}" names one container: it cannot have ${n} replicas`);
  const limits = s.deploy?.resources?.limits;
  const reservations = s.deploy?.resources?.reservations;
  const firstNetwork = s.networks?.[nets[0][0]];
  return {
    image: imageName(project, service),
    command: s.command ?? [],
    ...(s.entrypoint ? { entrypoint: JSON.stringify(s.entrypoint) } : {}),
    name: nameOf(project, service, n),
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
      ...(project.configFiles ? [`com.docker.compose.project.config_files=${project.configFiles.join(',')}`] : []),
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
    ...(s.restart !== undefined ? { restart: s.restart } : restartPolicy(s) ? { restart: restartPolicy(s) } : {}),
    ...(limits?.memory !== undefined ? { memory: limits.memory } : {}),
    ...(limits?.cpus !== undefined ? { cpus: String(limits.cpus) } : {}),
    ...(limits?.pids !== undefined ? { pidsLimit: String(limits.pids) } : {}),
    ...(reservations?.memory !== undefined ? { memoryReservation: reservations.memory } : {}),
    ...(s.extra_hosts?.length ? { addHosts: s.extra_hosts.map((h) => h.replace('=', ':')) } : {}),
    ...(s.dns?.length ? { dns: s.dns } : {}),
    ...(s.security_opt?.length ? { securityOpt: s.security_opt } : {}),
    ...(firstNetwork?.ipv4_address ? { ip: firstNetwork.ipv4_address } : {}),
    ...fileMountsOnce(project, service),
    ...(s.init ? { init: true } : {}),
    ...(s.read_only ? { readOnly: true } : {}),
    capAdd: s.cap_add,
    capDrop: s.cap_drop,
    ...(s.stop_signal ? { stopSignal: s.stop_signal } : {}),
    ...(s.stop_grace_period ? { stopTimeout: Math.round(secondsOf(s.stop_grace_period)) } : {}),
    ...health,
    pull: pullPolicy(s),
  };
};

// A top-level network's create options: internal, its labels and the project's, ipam's subnet,
// gateway and ip_range (skiff's networks have one IPv4 subnet: validate.ts refuses more pools).
export const networkOptions = (
  project: Project,
  key: string,
): { internal?: boolean; labels: string[]; subnet?: string; gateway?: string; ipRange?: string } => {
  const n = project.networks[key];
  const pool = n.ipam?.config?.[0];
  return {
    ...(n.internal ? { internal: true } : {}),
    labels: [...labelsOf(n.labels), `${PROJECT_LABEL}=${project.name}`, `com.docker.compose.network=${key}`],
    ...(pool?.subnet ? { subnet: pool.subnet } : {}),
    ...(pool?.gateway ? { gateway: pool.gateway } : {}),
    ...(pool?.ip_range ? { ipRange: pool.ip_range } : {}),
  };
};

// deploy.restart_policy, when restart is not given: none → no, on-failure[:max_attempts], any → always.
const restartPolicy = (s: ServiceConfig): string | undefined => {
  const r = s.deploy?.restart_policy;
  if (!r) return undefined;
  if (r.condition === 'none') return 'no';
  if (r.condition === 'on-failure') return r.max_attempts ? `on-failure:${r.max_attempts}` : 'on-failure';
  return 'always';
};

// pull_policy: always and never as they are; missing, if_not_present, daily, weekly, every_… pull a
// missing image; build (and an image that is only built) never pulls: the image is built first.
const pullPolicy = (s: ServiceConfig): CreateOptions['pull'] => {
  if (s.pull_policy === 'always' || s.pull_policy === 'never') return s.pull_policy;
  if (s.pull_policy === 'build' || (s.build && !s.image)) return 'never';
  return 'missing';
};

// Secrets and configs: files copied into the container when it is made, as `--secret` copies a
// secret of skiff's store (container-secrets.ts): the copy lives in the container's private
// directory (0700, the host user's alone), owned uid:gid inside with its mode (0444 unless given:
// the Compose Specification's default), bind-mounted read-only. An external one is a secret of
// skiff's store (`skiff secret create`), passed as --secret.
const fileMounts = (project: Project, service: string): Pick<CreateOptions, 'fileSecrets' | 'secret'> => {
  const s = project.services[service];
  const fileSecrets: FileSecret[] = [];
  const secret: string[] = [];
  const add = (kind: 'secrets' | 'configs', r: ServiceFileReference) => {
    const top = project[kind]?.[r.source];
    const where = `services.${service}.${kind}.${r.source}`;
    if (!top) throw new CliError('ECONFIG', `${where}: no ${kind.slice(0, -1)} "${r.source}" in the top-level ${kind}`);
    const target = kind === 'secrets' ? posix.resolve('/run/secrets', r.target ?? r.source) : posix.resolve('/', r.target ?? r.source);
    if (target.includes('\0')) throw new CliError('ECONFIG', `${where}: the target ${JSON.stringify(target)} holds a NUL byte: name a path`);
    const owner = { uid: Number(r.uid ?? 0), gid: Number(r.gid ?? 0), mode: r.mode ?? 0o444 };
    if (top.external) {
      secret.push(`${top.name ?? r.source},type=mount,target=${target},uid=${owner.uid},gid=${owner.gid},mode=${owner.mode.toString(8)}`);
      return;
    }
    let data: Buffer;
    if (top.file !== undefined) {
      try {
        data = readProjectFile(top.file, `${kind} ${r.source} (${top.file})`, SECRET_DATA_MAX);
      } catch (e) {
        throw new CliError('ECONFIG', `${where}: ${messageOf(e).replace(`${kind} ${r.source} (${top.file})`, top.file)}`);
      }
    } else if (top.content !== undefined) data = Buffer.from(top.content);
    else throw new CliError('ECONFIG', `${where}: the variable ${top.environment} it comes from is not set`);
    fileSecrets.push({ name: top.name ?? r.source, target, ...owner, data });
  };
  for (const r of s.secrets ?? []) add('secrets', r);
  for (const r of s.configs ?? []) add('configs', r);
  return { ...(fileSecrets.length ? { fileSecrets } : {}), ...(secret.length ? { secret } : {}) };
};

// The files are read once per project and service: `up` makes every service's options to check
// them before it creates anything, then again for each replica it creates.
const filesRead = new WeakMap<Project, Map<string, ReturnType<typeof fileMounts>>>();
const fileMountsOnce = (project: Project, service: string): ReturnType<typeof fileMounts> => {
  let read = filesRead.get(project);
  if (!read) filesRead.set(project, (read = new Map()));
  let mounts = read.get(service);
  if (!mounts) read.set(service, (mounts = fileMounts(project, service)));
  return { ...(mounts.fileSecrets ? { fileSecrets: [...mounts.fileSecrets] } : {}), ...(mounts.secret ? { secret: [...mounts.secret] } : {}) };
};

// What a project asks for that skiff cannot do: one warning per key, naming it (never ignored silently).
export const unappliedKeys = (project: Project): string[] => {
  const out: string[] = [];
  for (const [name, s] of Object.entries(project.services)) {
    const at = `services.${name}`;
    const r = s.deploy?.resources?.reservations;
    if (r?.cpus !== undefined) out.push(`${at}.deploy.resources.reservations.cpus: skiff reserves no CPU time (limits.cpus caps it): ignored`);
    if (r?.pids !== undefined) out.push(`${at}.deploy.resources.reservations.pids: a reservation of processes means nothing: ignored`);
    const p = s.deploy?.restart_policy;
    if (p && s.restart !== undefined) out.push(`${at}.deploy.restart_policy: restart is given and wins: ignored`);
    for (const k of ['delay', 'window'] as const)
      if (p?.[k] !== undefined) out.push(`${at}.deploy.restart_policy.${k}: skiff restarts at once, without a ${k}: ignored`);
    if (p?.max_attempts !== undefined && p.condition !== 'on-failure')
      out.push(`${at}.deploy.restart_policy.max_attempts: applies to condition on-failure only: ignored`);
    if (s.deploy?.labels) out.push(`${at}.deploy.labels: labels of a swarm service; skiff has no swarm: ignored (use labels)`);
    const nets = Object.entries(s.networks ?? {});
    for (const [n, c] of nets.slice(1))
      if (c?.ipv4_address) out.push(`${at}.networks.${n}.ipv4_address: skiff gives a fixed address on the first network only: ignored`);
    if (s.pull_policy && /^(daily|weekly|every_)/.test(s.pull_policy))
      out.push(`${at}.pull_policy: ${s.pull_policy}: skiff does not record when an image was pulled: pulls it when missing`);
  }
  return out;
};
