// How ps prints containers: its table columns and the fields --format templates see, as in Podman.
import { command, portsText, psJson, stateName, type PsEntry } from '../../engine/container-reports.js';
import { goTime, humanDuration, humanSize, timeAgo } from '../../util/units.js';

// The fields --format templates see ({{.ID}}, {{.Names}}, {{.Status}}, ...), as in Podman.
export const psTemplateFields = (row: PsEntry, noTrunc: boolean) => {
  const { record: r, state: s } = row;
  const cmd = command(r).join(' ');
  return {
    ...psJson(row),
    ID: noTrunc ? r.id : r.id.slice(0, 12),
    Command: noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 17)}...`,
    // Go's time.Time, as Podman's templates print both.
    Created: goTime(r.created),
    CreatedAt: goTime(r.created),
    CreatedHuman: timeAgo(r.created),
    RunningFor: humanDuration(r.created),
    Names: r.name,
    Ports: portsText(r),
    State: stateName(s),
    Labels: r.config.labels,
    Size: psSize(row),
  };
};

// ps's SIZE: "16B (virtual 1.98MB)", the writable layer and the image's files (Podman's, no spaces).
export const psSize = (row: PsEntry): string =>
  row.size === undefined ? '' : `${humanSize(row.size).replace(' ', '')} (virtual ${humanSize(row.rootFsSize ?? 0).replace(' ', '')})`;

export const psRow = (row: PsEntry, noTrunc: boolean): string[] => {
  const f = psTemplateFields(row, noTrunc);
  return [f.ID, row.record.image, f.Command, f.CreatedHuman, f.Status, f.Ports, row.record.name];
};

export const PS_HEADERS = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];

export const PS_NS_HEADERS = ['CONTAINER ID', 'NAMES', 'PID', 'CGROUPNS', 'IPC', 'MNT', 'NET', 'PIDNS', 'USERNS', 'UTS'];

// A ps --ns row: the container, its pid (0 when it does not run) and its namespaces' inode numbers.
export const psNsRow = (row: PsEntry, noTrunc: boolean): string[] => {
  const n = row.namespaces;
  const running = row.state.status === 'running' || row.state.status === 'stopping';
  return [
    noTrunc ? row.record.id : row.record.id.slice(0, 12),
    row.record.name,
    String(running ? (row.state.pid ?? 0) : 0),
    ...(n ? [n.Cgroup, n.IPC, n.MNT, n.NET, n.PIDNS, n.User, n.UTS] : ['', '', '', '', '', '', '']),
  ];
};
