// How ps prints containers: its table columns and the fields --format templates see, as in Podman.
import { command, portsText, psJson, stateName, type ContainerRow } from '../../engine/container-reports.js';
import { humanDuration, timeAgo } from '../../util/units.js';

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
