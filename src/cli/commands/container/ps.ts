// skiff ps / skiff container ls: reads the store and the monitors' exit files; takes no lock.
import { Command } from 'commander';
import { collect, openEngineFor } from '../../engine.js';
import { psJson } from '../../../engine/container-reports.js';
import { psRow, psTemplateFields, PS_HEADERS } from '../../output/container.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';
import { humanSize } from '../../../util/units.js';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  filter?: string[];
  format?: string;
  trunc?: boolean;
  latest?: boolean;
  size?: boolean;
  noheading?: boolean;
  last?: string;
}

export const build = (name = 'ps'): Command =>
  new Command(name)
    .description('List containers (running ones unless --all)')
    .option('-a, --all', 'show all containers, not only running ones')
    .option('-q, --quiet', 'print only container ids')
    .option('-f, --filter <filter>', 'status=, name=, id=, label=, ancestor=, exited=, restart-policy=', collect)
    .option('--format <format>', 'json, or a Go template such as {{.Names}} {{.Status}}')
    .option('--no-trunc', 'do not truncate ids and commands')
    .option('-l, --latest', 'show only the newest container')
    .option('-n, --last <n>', 'show the n newest containers')
    .option('-s, --size', "show the size of each container's writable layer")
    .option('--noheading', 'do not print the header row')
    .action(async (flags: PsFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const rows = engine.reports.ps({
        all: flags.all,
        filters: flags.filter,
        latest: flags.latest,
        last: flags.last === undefined ? undefined : Number(flags.last),
        size: flags.size,
      });
      const noTrunc = flags.trunc === false;
      if (flags.quiet) {
        for (const row of rows) printLine(noTrunc ? row.record.id : row.record.id.slice(0, 12));
        return;
      }
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson(rows.map((row) => ({ ...psJson(row), ...(flags.size ? { Size: { rwSize: row.size } } : {}) })));
      if (format.kind === 'template')
        return printTemplate(
          format.template,
          rows.map((row) => ({ ...psTemplateFields(row, noTrunc), Size: flags.size ? humanSize(row.size ?? 0) : '' })),
        );
      const table = rows.map((row) => [...psRow(row, noTrunc), ...(flags.size ? [humanSize(row.size ?? 0)] : [])]);
      const headers = [...PS_HEADERS, ...(flags.size ? ['SIZE'] : [])];
      if (flags.noheading) table.forEach((r) => printLine(r.join('  ')));
      else printTable(headers, table);
    });
