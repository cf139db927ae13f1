// Containers as Podman shows them: ps rows, ps JSON, --filter, and Docker-compatible inspect JSON.
import type { ContainerRecord, ContainerState } from '../../state/containers.js';
import { CliError } from '../../errors.js';
import { userspaceAddresses } from '../../network/backend.js';
import { humanDuration, timeAgo } from './units.js';

export interface ContainerRow {
  record: ContainerRecord;
  state: ContainerState;
}

const command = (r: ContainerRecord): string[] => [...r.config.entrypoint, ...r.config.cmd];

// "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp", as ps shows published ports.
export const portsText = (r: ContainerRecord): string => (r.config.ports ?? []).map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ');

// Docker's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}.
export const portBindings = (r: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[]> => {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of r.config.ports ?? []) (out[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return out;
};

export const statusText = ({ state }: ContainerRow, now = Date.now()): string => {
  if (state.status === 'running' || state.status === 'stopping') return `Up ${humanDuration(state.startedAt ?? new Date(now).toISOString(), now)}`;
  if (state.status === 'exited') return `Exited (${state.exitCode ?? -1}) ${timeAgo(state.finishedAt ?? new Date(now).toISOString(), now)}`;
  return 'Created';
};

// Podman's state names: created, running, exited (stopping shows as running).
export const stateName = (state: ContainerState): string => (state.status === 'stopping' ? 'running' : state.status);

const unix = (iso: string | undefined): number => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);

export const psJson = (row: ContainerRow) => {
  const { record: r, state: s } = row;
  return {
    AutoRemove: r.config.autoRemove,
    Command: command(r),
    Created: unix(r.created),
    CreatedAt: timeAgo(r.created),
    Exited: s.status === 'exited',
    ExitedAt: unix(s.finishedAt),
    ExitCode: s.exitCode ?? 0,
    Id: r.id,
    Image: r.image,
    ImageID: r.imageId.replace(/^sha256:/, ''),
    IsInfra: false,
    Labels: Object.keys(r.config.labels).length ? r.config.labels : null,
    Mounts: [],
    Names: [r.name],
    Networks: [],
    Pid: s.pid ?? 0,
    Ports: r.config.ports?.length ? r.config.ports.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol })) : null,
    Restarts: s.restartCount,
    StartedAt: unix(s.startedAt),
    State: stateName(s),
    Status: statusText(row),
  };
};

// The fields --format templates see ({{.ID}}, {{.Names}}, {{.Status}}, ...), as in Podman.
export const psTemplateFields = (row: ContainerRow, noTrunc: boolean) => {
  const { record: r, state: s } = row;
  const cmd = command(r).join(' ');
  return {
    ...psJson(row),
    ID: noTrunc ? r.id : r.id.slice(0, 12),
    Command: noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 17)}...`,
    CreatedAt: r.created,
    CreatedHuman: timeAgo(r.created),
    RunningFor: humanDuration(r.created),
    Names: r.name,
    Ports: portsText(r),
    State: stateName(s),
    Labels: r.config.labels,
  };
};

export const psRow = (row: ContainerRow, noTrunc: boolean): string[] => {
  const f = psTemplateFields(row, noTrunc);
  return [f.ID, row.record.image, f.Command, f.CreatedHuman, f.Status, f.Ports, row.record.name];
};

export const PS_HEADERS = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];

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
          const known = ['created', 'running', 'exited', 'stopped', 'paused', 'restarting', 'removing', 'unknown'];
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
          return r.image === value || r.imageName === value || r.imageName.startsWith(`${value}:`) || r.imageName.endsWith(`/${value}`) || r.imageName.includes(`/${value}:`) || r.imageId.replace(/^sha256:/, '').startsWith(value.replace(/^sha256:/, ''));
        case 'exited':
          return s.status === 'exited' && s.exitCode === Number(value);
        case 'restart-policy':
          return r.config.restartPolicy.name === value;
        default:
          throw new CliError('EUSAGE', `invalid filter "${key}": supported filters are status, name, id, label, ancestor, exited, restart-policy`);
      }
    };
    return (row: ContainerRow) => values.some((v) => one(row, v));
  });
  return (row) => tests.every((t) => t(row));
};

// `inspect` of a container, in Docker's shape (the fields tools read: State, Config, HostConfig, ...).
export const containerInspectJson = (row: ContainerRow) => {
  const { record: r, state: s } = row;
  const c = r.config;
  const userspace = userspaceAddresses(c.network);
  const status = stateName(s);
  return {
    Id: r.id,
    Created: r.created,
    Path: command(r)[0] ?? '',
    Args: command(r).slice(1),
    State: {
      Status: status,
      Running: status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: s.oomKilled ?? false,
      Dead: false,
      Pid: status === 'running' ? (s.pid ?? 0) : 0,
      ConmonPid: status === 'running' ? (s.monitorPid ?? 0) : 0,
      ExitCode: s.exitCode ?? 0,
      Error: s.error ?? '',
      StartedAt: s.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: s.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: r.imageId.replace(/^sha256:/, ''),
    ImageName: r.image,
    Rootfs: '',
    Name: r.name,
    RestartCount: s.restartCount,
    Driver: r.rootfsDriver,
    OCIRuntime: r.runtime.split('/').pop(),
    Mounts: [],
    Config: {
      Hostname: c.hostname,
      User: c.user,
      Env: c.env,
      Cmd: c.cmd,
      Entrypoint: c.entrypoint,
      Image: r.image,
      WorkingDir: c.workdir,
      Labels: c.labels,
      Tty: c.tty,
      OpenStdin: c.interactive,
      StopSignal: c.stopSignal,
      StopTimeout: c.stopTimeout,
    },
    HostConfig: {
      AutoRemove: c.autoRemove,
      RestartPolicy: { Name: c.restartPolicy.name, MaximumRetryCount: c.restartPolicy.maxRetries },
      CapAdd: c.capAdd,
      CapDrop: c.capDrop,
      Privileged: c.privileged,
      ReadonlyRootfs: c.readOnly,
      SecurityOpt: [...(c.noNewPrivileges ? ['no-new-privileges'] : []), ...(c.seccomp === 'unconfined' ? ['seccomp=unconfined'] : [])],
      Tmpfs: Object.fromEntries(c.tmpfs.map((t) => [t.split(':')[0], t.split(':')[1] ?? ''])),
      Init: c.init,
      NetworkMode: c.network,
      PortBindings: portBindings(r),
      Dns: c.dns ?? [],
      DnsSearch: c.dnsSearch ?? [],
      ExtraHosts: c.addHosts ?? [],
      Runtime: r.runtime.split('/').pop(),
    },
    NetworkSettings: {
      Ports: portBindings(r),
      IPAddress: userspace.ip ?? '',
      Gateway: userspace.gateway ?? '',
      Networks: {},
    },
  };
};
