// skiff system df [--verbose] [--format json|TEMPLATE]
import { Command } from 'commander';
import type { Engine } from '../../../engine/index.js';
import { openEngineFor } from '../../engine.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';
import { humanDuration, humanSize } from '../../../util/units.js';

// Podman's three tables: images, containers, local volumes.
const printVerbose = (engine: Engine): void => {
  const usage = engine.system.dfVerbose();
  printLine('Images space usage:\n');
  printTable(
    ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
    usage.images.map((i) => [
      i.repository,
      i.tag,
      i.id.slice(0, 12),
      humanDuration(i.created),
      humanSize(i.size),
      humanSize(i.sharedSize),
      humanSize(i.uniqueSize),
      String(i.containers),
    ]),
  );
  printLine('\nContainers space usage:\n');
  printTable(
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'],
    usage.containers.map((c) => [
      c.id.slice(0, 12),
      c.imageId.slice(0, 12),
      c.command.join(' '),
      String(c.localVolumes),
      humanSize(c.rwSize),
      humanDuration(c.created),
      c.status,
      c.name,
    ]),
  );
  printLine('\nLocal Volumes space usage:\n');
  printTable(
    ['VOLUME NAME', 'LINKS', 'SIZE'],
    usage.volumes.map((v) => [v.name, String(v.links), humanSize(v.size)]),
  );
};

export const build = (): Command =>
  new Command('df')
    .description('Show disk usage by images, containers and volumes')
    .option('--format <format>', 'json, or a Go template such as {{.Type}} {{.Size}}')
    .option('-v, --verbose', 'show the usage of each image, container and volume')
    .action(async (flags: { format?: string; verbose?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      if (flags.verbose) return printVerbose(engine);
      const rows = engine.system.df().map((r) => ({
        Type: r.type,
        Total: r.total,
        Active: r.active,
        RawSize: r.size,
        RawReclaimable: r.reclaimable,
        Size: humanSize(r.size),
        Reclaimable: `${humanSize(r.reclaimable)} (${r.size ? Math.round((100 * r.reclaimable) / r.size) : 0}%)`,
      }));
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson(rows.map((r) => ({ ...r, Reclaimable: humanSize(r.RawReclaimable) })));
      if (format.kind === 'template') return printTemplate(format.template, rows);
      printTable(
        ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
        rows.map((r) => [r.Type, String(r.Total), String(r.Active), r.Size, r.Reclaimable]),
      );
    });
