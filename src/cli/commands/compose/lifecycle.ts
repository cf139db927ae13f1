// skiff compose up|down|ps: the project's containers through the engine (src/engine/compose.ts).
import { Command, Option } from 'commander';
import { CliError } from '../../../errors.js';
import { command, portsText, stateName, statusText } from '../../../engine/container-reports.js';
import { timeAgo } from '../../../util/units.js';
import { openEngineFor } from '../../engine.js';
import { printLine, printTable } from '../../output/print.js';
import { loadFor } from './compose.js';

// docker compose's progress lines, on standard error: " ✔ Container web-1  Started".
const progress = (e: { object: string; name: string; action: string }): void => {
  process.stderr.write(` ✔ ${e.object} ${e.name}  ${e.action}\n`);
};

const refuse = (flag: string, why: string) => {
  throw new CliError('EUSAGE', `${flag}: ${why}`);
};

export const buildUp = (): Command =>
  new Command('up')
    .description('Create and start the services (only -d yet)')
    .option('-d, --detach', 'run in the background (required for now)')
    .option('--no-build', "don't build images (skiff compose has no build yet)")
    .option('--no-recreate', 'refused: not supported yet (up recreates what changed)')
    .option('--force-recreate', 'refused: not supported yet')
    .option('--remove-orphans', 'refused: not supported yet')
    .action(async (flags: { detach?: boolean; recreate?: boolean; forceRecreate?: boolean; removeOrphans?: boolean }, cmd: Command) => {
      if (!flags.detach) refuse('up without -d', 'running in the foreground is not supported yet: use up -d and compose ps');
      if (flags.recreate === false) refuse('--no-recreate', 'not supported yet');
      if (flags.forceRecreate) refuse('--force-recreate', 'not supported yet: run compose down first');
      if (flags.removeOrphans) refuse('--remove-orphans', 'not supported yet');
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { up } = await import('../../../engine/compose.js');
      await up(engine, project, progress);
    });

export const buildDown = (): Command =>
  new Command('down')
    .description("Stop and remove the project's containers and networks")
    .option('-v, --volumes', 'remove its named volumes too')
    .option('-t, --timeout <seconds>', 'seconds to wait for each container to stop before killing it')
    .addOption(new Option('--rmi <which>', 'refused: not supported yet').choices(['local', 'all']))
    .option('--remove-orphans', 'accepted: down removes every container labelled with the project, orphans included')
    .action(async (flags: { volumes?: boolean; timeout?: string; rmi?: string }, cmd: Command) => {
      if (flags.rmi) refuse('--rmi', 'not supported yet: remove images with skiff rmi');
      const timeout = flags.timeout === undefined ? undefined : Number(flags.timeout);
      if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 0)) refuse(`--timeout ${flags.timeout}`, 'give a whole number of seconds');
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { down } = await import('../../../engine/compose.js');
      await down(engine, project.name, { volumes: flags.volumes, timeout }, progress);
    });

export const buildPs = (): Command =>
  new Command('ps')
    .description("List the project's containers")
    .option('-a, --all', 'stopped ones too')
    .option('-q, --quiet', 'only ids')
    .option('--services', 'only service names')
    .option('--format <format>', 'table (the default) or json')
    .action(async (flags: { all?: boolean; quiet?: boolean; services?: boolean; format?: string }, cmd: Command) => {
      if (flags.format && flags.format !== 'table' && flags.format !== 'json') refuse(`--format ${flags.format}`, 'use table or json');
      const { project } = await loadFor(cmd);
      const engine = await openEngineFor(cmd);
      const { projectContainers, SERVICE_LABEL, NUMBER_LABEL } = await import('../../../engine/compose.js');
      const rows = projectContainers(engine, project.name)
        .filter((r) => flags.all || r.state.status === 'running' || r.state.status === 'stopping')
        .sort((a, b) => a.record.name.localeCompare(b.record.name));
      if (flags.quiet) return rows.forEach((r) => printLine(r.record.id));
      if (flags.services) return [...new Set(rows.map((r) => r.record.config.labels[SERVICE_LABEL]))].forEach((s) => printLine(s));
      if (flags.format === 'json') {
        for (const r of rows)
          printLine(
            JSON.stringify({
              Command: JSON.stringify(command(r.record).join(' ')),
              CreatedAt: r.record.created,
              ExitCode: r.state.exitCode ?? 0,
              Health: r.health?.Status ?? '',
              ID: r.record.id,
              Image: r.record.image,
              Labels: Object.entries(r.record.config.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(','),
              Name: r.record.name,
              Names: r.record.name,
              Ports: portsText(r.record),
              Project: project.name,
              Publishers: (r.record.config.ports ?? []).map((p) => ({
                URL: p.hostIp,
                TargetPort: p.containerPort,
                PublishedPort: p.hostPort,
                Protocol: p.protocol,
              })),
              RunningFor: timeAgo(r.record.created),
              Service: r.record.config.labels[SERVICE_LABEL],
              State: stateName(r.state),
              Status: statusText(r),
              Number: Number(r.record.config.labels[NUMBER_LABEL] ?? 1),
            }),
          );
        return;
      }
      printTable(
        ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'],
        rows.map((r) => {
          const c = command(r.record).join(' ');
          return [
            r.record.name,
            r.record.image,
            JSON.stringify(c.length > 20 ? `${c.slice(0, 19)}…` : c),
            r.record.config.labels[SERVICE_LABEL],
            timeAgo(r.record.created),
            statusText(r),
            portsText(r.record),
          ];
        }),
      );
    });
