// skiff system df
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { parseFormat, printJson, printTable } from '../../output/print.js';
import { humanSize } from '../../../util/units.js';

export const build = (): Command =>
  new Command('df')
    .description('Show disk usage by images, containers and volumes')
    .option('--format <format>', 'json')
    .action(async (flags: { format?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const rows = engine.system.df();
      if (parseFormat(flags.format).kind === 'json') {
        return printJson(
          rows.map((r) => ({
            Type: r.type,
            Total: r.total,
            Active: r.active,
            RawSize: r.size,
            RawReclaimable: r.reclaimable,
            Size: humanSize(r.size),
            Reclaimable: humanSize(r.reclaimable),
          })),
        );
      }
      printTable(
        ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
        rows.map((r) => [
          r.type,
          String(r.total),
          String(r.active),
          humanSize(r.size),
          `${humanSize(r.reclaimable)} (${r.size ? Math.round((100 * r.reclaimable) / r.size) : 0}%)`,
        ]),
      );
    });
