// Containers as Podman reports them: ps entries (its JSON), --filter; and the engine's calls that
// make them (ps, inspect (container-inspect.ts), the containers a command acts on).
import { namespaceOf } from '../util/proc.js';
import { CliError } from '../errors.js';
import type { ContainerRecord, ContainerState } from '../state/containers.js';
import { du } from '../util/du.js';
import { humanDuration, timeAgo } from '../util/units.js';
import type { ContainersEngine } from './containers.js';
import type { HealthState } from './container-health.js';
import { containerInspectJson } from './container-inspect.js';
import type { EngineContext } from './context.js';
import { pruneMatcher } from './prune-filter.js';
import { cloneName } from './container-clone.js';
import { specOf } from './container-spec.js';

export interface ContainerRow {
  record: ContainerRecord;
  state: ContainerState;
  /** With a healthcheck, while it runs (container-health.ts). */
  health?: HealthState;
}

export const command = (r: ContainerRecord): string[] => [...r.config.entrypoint, ...r.config.cmd];

// "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp", as ps shows published ports.
export const portsText = (r: ContainerRecord): string =>
  (r.config.ports ?? []).map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');

// Docker's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}.
export const portBindings = (r: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[]> => {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of r.config.ports ?? []) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return out;
};

export const statusText = ({ state, health }: ContainerRow, now = Date.now()): string => {
  if (state.status === 'running' || state.status === 'stopping')
    return `Up ${humanDuration(state.startedAt ?? new Date(now).toISOString(), now)}${state.paused ? ' (Paused)' : health ? ` (${health.Status})` : ''}`;
  if (state.status === 'exited') return `Exited (${state.exitCode ?? -1}) ${timeAgo(state.finishedAt ?? new Date(now).toISOString(), now)}`;
  return state.status === 'initialized' ? 'Initialized' : 'Created';
};

// Podman's state names: created, running, paused, exited (stopping shows as running).
export const stateName = (state: ContainerState): string => (state.paused ? 'paused' : state.status === 'stopping' ? 'running' : state.status);

// Seconds since the epoch; Go's zero time (-62135596800) for a time that never was, as Podman's.
const unix = (iso: string | undefined): number => (iso ? Math.floor(Date.parse(iso) / 1000) : GO_ZERO_UNIX);
const GO_ZERO_UNIX = -62135596800;

// `ps --format json`'s entry, Podman's keys in Podman's order (Created last); `sizes` with --size.
export const psJson = (row: ContainerRow & { size?: number; rootFsSize?: number; namespaces?: object }) => {
  const { record: r, state: s } = row;
  return {
    AutoRemove: r.config.autoRemove,
    Command: command(r),
    CreatedAt: timeAgo(r.created),
    Exited: s.status === 'exited',
    ExitedAt: unix(s.finishedAt),
    ExitCode: s.exitCode ?? 0,
    Id: r.id,
    Image: r.image,
    ImageID: r.imageId.replace(/^sha256:/, ''),
    IsInfra: false,
    Labels: Object.keys(r.config.labels).length ? r.config.labels : null,
    Mounts: (r.config.mounts ?? []).map((m) => m.destination),
    Names: [r.name],
    Namespaces: row.namespaces ?? {},
    Networks: [],
    Pid: s.pid ?? 0,
    Pod: '',
    PodName: '',
    Ports: r.config.ports?.length
      ? r.config.ports.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol }))
      : null,
    Restarts: s.restartCount,
    Size: row.size === undefined ? null : { rootFsSize: row.rootFsSize ?? 0, rwSize: row.size },
    StartedAt: unix(s.startedAt),
    State: stateName(s),
    Status: statusText(row),
    Created: unix(r.created),
  };
};

// --filter KEY=VALUE, all of which must hold (the same key given twice: either value).
export const containerFilter = (filters: string[]): ((row: ContainerRow) => boolean) => {
  const byKey = new Map<string, string[]>();
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    if (eq < 1) throw new CliError('EUSAGE', `invalid filter "${filter}": use KEY=VALUE`);
    const key = filter.slice(0, eq);
    byKey.set(key, [...(byKey.get(key) ?? []), filter.slice(eq + 1)]);
  }
  const tests = [...byKey].map(([key, values]) => {
    const one = (row: ContainerRow, value: string): boolean => {
      const { record: r, state: s } = row;
      switch (key) {
        case 'status': {
          const known = ['created', 'initialized', 'running', 'exited', 'stopped', 'paused', 'restarting', 'removing', 'unknown'];
          if (!known.includes(value)) throw new CliError('EUSAGE', `invalid status filter "${value}": use ${known.join(', ')}`);
          return stateName(s) === (value === 'stopped' ? 'exited' : value);
        }
        case 'name':
          return new RegExp(value).test(r.name);
        case 'id':
          return r.id.startsWith(value);
        case 'label': {
          const eq = value.indexOf('=');
          return eq < 0 ? value in r.config.labels : r.config.labels[value.slice(0, eq)] === value.slice(eq + 1);
        }
        case 'ancestor':
          return (
            r.image === value ||
            r.imageName === value ||
            r.imageName.startsWith(`${value}:`) ||
            r.imageName.endsWith(`/${value}`) ||
            r.imageName.includes(`/${value}:`) ||
            r.imageId.replace(/^sha256:/, '').startsWith(value.replace(/^sha256:/, ''))
          );
        case 'exited':
          return s.status === 'exited' && s.exitCode === Number(value);
        case 'restart-policy':
          return r.config.restartPolicy.name === value;
        case 'stopped-by-user':
          if (value !== 'true' && value !== 'false') throw new CliError('EUSAGE', `invalid stopped-by-user filter "${value}": use true or false`);
          return Boolean(s.stoppedByUser) === (value === 'true');
        case 'health': {
          const known = ['starting', 'healthy', 'unhealthy', 'none'];
          if (!known.includes(value)) throw new CliError('EUSAGE', `invalid health filter "${value}": use ${known.join(', ')}`);
          return (row.health?.Status ?? (r.config.healthcheck ? undefined : 'none')) === value;
        }
        default:
          throw new CliError(
            'EUSAGE',
            `invalid filter "${key}": supported filters are status, name, id, label, ancestor, exited, restart-policy, health, stopped-by-user`,
          );
      }
    };
    return (row: ContainerRow) => values.some((v) => one(row, v));
  });
  return (row) => tests.every((t) => t(row));
};

// container prune --filter: until=TIME (made before it), label=KEY[=VALUE], label!=KEY[=VALUE]; all must hold.
export const pruneFilter = (filters: string[], now = Date.now()): ((row: ContainerRow) => boolean) => {
  const match = pruneMatcher(filters, 'container prune', now);
  return (row) => match({ created: row.record.created, labels: row.record.config.labels });
};

export interface PsOptions {
  /** Every container, not only running ones (also implied by filters, latest and last). */
  all?: boolean;
  filters?: string[];
  latest?: boolean;
  last?: number;
  /** Measure each container's writable layer (bytes). */
  size?: boolean;
  /** Podman's --sort key (see PS_SORT_KEYS); absent: created. */
  sort?: string;
  /** Read the namespaces of running containers (--ns). */
  namespaces?: boolean;
}

// A running container's namespaces, as Podman's ps --ns shows them: the inode numbers of /proc/PID/ns/*.
export interface PsNamespaces {
  Cgroup: string;
  IPC: string;
  MNT: string;
  NET: string;
  PIDNS: string;
  User: string;
  UTS: string;
}

export interface PsEntry extends ContainerRow {
  /** Bytes in the writable layer, with `size`. */
  size?: number;
  /** Bytes in the root filesystem: the writable layer and the image's (Podman's rootFsSize), with `size`. */
  rootFsSize?: number;
  /** With `namespaces`: empty strings for a container that does not run. */
  namespaces?: PsNamespaces;
}

// Podman's ps --sort keys, and how each orders two rows (created and runningfor: oldest first).
const PS_SORTS: Record<string, (a: PsEntry, b: PsEntry) => number> = {
  command: (a, b) => compare(command(a.record).join(' '), command(b.record).join(' ')),
  created: (a, b) => compare(a.record.created, b.record.created),
  id: (a, b) => compare(a.record.id, b.record.id),
  image: (a, b) => compare(a.record.image, b.record.image),
  names: (a, b) => compare(a.record.name, b.record.name),
  runningfor: (a, b) => compare(a.state.startedAt ?? '', b.state.startedAt ?? ''),
  size: (a, b) => (a.size ?? 0) - (b.size ?? 0),
  status: (a, b) => compare(stateName(a.state), stateName(b.state)),
};
export const PS_SORT_KEYS = Object.keys(PS_SORTS);

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// The inode in a /proc/PID/ns link ("net:[4026531992]"), or '' when it cannot be read.
const nsInode = (pid: number, ns: string): string => /\[(\d+)\]/.exec(namespaceOf(pid, ns) ?? '')?.[1] ?? '';

// The namespaces of a running container's init process (ps --ns); empty ones when it does not run.
const namespacesOf = ({ state }: ContainerRow): PsNamespaces => {
  const pid = (state.status === 'running' || state.status === 'stopping') && state.pid ? state.pid : 0;
  const read = (ns: string) => (pid ? nsInode(pid, ns) : '');
  return { Cgroup: read('cgroup'), IPC: read('ipc'), MNT: read('mnt'), NET: read('net'), PIDNS: read('pid'), User: read('user'), UTS: read('uts') };
};

export interface SelectOptions {
  all?: boolean;
  latest?: boolean;
  filter?: string[];
}

export class ContainerReports {
  constructor(
    private readonly ctx: EngineContext,
    private readonly containers: ContainersEngine,
  ) {}

  // `ps`: oldest first (or by --sort), filtered (--latest and --last: the newest ones); sizes and
  // namespaces when asked. Sizes read the container's files: the caller is in the user namespace.
  ps(options: PsOptions): PsEntry[] {
    const sort = PS_SORTS[options.sort ?? 'created'];
    if (!sort) throw new CliError('EUSAGE', `invalid --sort "${options.sort}": use one of ${PS_SORT_KEYS.join(', ')}`);
    const match = containerFilter(options.filters ?? []);
    const showAll = options.all || options.latest || options.last !== undefined || Boolean(options.filters?.length);
    let rows: PsEntry[] = this.containers
      .list()
      .filter((row) => (showAll || row.state.status === 'running' || row.state.status === 'stopping') && match(row))
      .sort((a, b) => compare(b.record.created, a.record.created) || compare(b.record.id, a.record.id));
    if (options.latest) rows = rows.slice(0, 1);
    if (options.last !== undefined) rows = rows.slice(0, options.last);
    if (options.size || options.sort === 'size')
      rows = rows.map((row) => {
        const size = this.rwSize(row.record.id);
        return { ...row, size, rootFsSize: size + this.lowersSize(row.record) };
      });
    if (options.namespaces) rows = rows.map((row) => ({ ...row, namespaces: namespacesOf(row) }));
    // (Stable: rows equal under the key stay oldest first.)
    return rows.reverse().sort(sort);
  }

  // Bytes in a container's image layers (the files in them).
  private lowersSize(record: ContainerRecord): number {
    return this.containers.lowers(record).reduce((sum, dir) => sum + du(dir), 0);
  }

  // Bytes in a container's writable layer.
  rwSize(id: string): number {
    return du(`${this.ctx.containers.containerDir(id)}/upper`);
  }

  // `inspect` of one container, as Podman's; with `size`, Podman's SizeRw (its writable layer) and
  // SizeRootFs (that and its image's layers), in bytes.
  inspect(input: string, size = false): ReturnType<typeof containerInspectJson> {
    const record = this.containers.find(input);
    const lowers = this.containers.lowers(record);
    const rw = size ? this.rwSize(record.id) : 0;
    const sizes = size ? { rw, rootFs: rw + lowers.reduce((sum, dir) => sum + du(dir), 0) } : undefined;
    return containerInspectJson(this.containers.row(record), { ctx: this.ctx, lowers, size: sizes });
  }

  // `generate spec`: the container as Podman's SpecGenerator JSON (container-spec.ts); `rename`:
  // named as its clone would be (Podman's default), for a new container made from it.
  spec(input: string, rename = true): Record<string, unknown> {
    const record = this.containers.find(input);
    const name = rename ? cloneName(record.name, (n) => this.ctx.containers.nameTarget(n) !== undefined) : record.name;
    return specOf(record, name);
  }

  // The newest container's id (--latest), if any.
  latest(): string | undefined {
    return this.ps({ latest: true })[0]?.record.id;
  }

  // The one container a command acts on: the named one, or with --latest the newest (Podman's -l).
  one(input: string | undefined, latest: boolean | undefined): string {
    if (latest) {
      if (input !== undefined) throw new CliError('EUSAGE', '--latest takes no container name: give one or the other');
      const id = this.latest();
      if (!id) throw new CliError('ENOCONTAINER', 'no containers to act on: --latest found none');
      return id;
    }
    if (input === undefined) throw new CliError('EUSAGE', 'name a container, or use --latest');
    return input;
  }

  // Which containers a command acts on: the named ones, or --all (narrowed by --filter), or --latest.
  select(inputs: string[], flags: SelectOptions): string[] {
    if (flags.all || flags.latest || flags.filter?.length) {
      if (inputs.length) throw new CliError('EUSAGE', '--all, --latest and --filter take no container names');
      return this.ps({ all: true, filters: flags.filter, latest: flags.latest }).map((r) => r.record.id);
    }
    if (!inputs.length) throw new CliError('EUSAGE', 'name at least one container, or use --all');
    return inputs;
  }
}
