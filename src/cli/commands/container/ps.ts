// skiff ps / skiff container ls: reads the store and the monitors' exit files; takes no lock.
import { Command } from 'commander';
import { collect, openEngineFor } from '../../engine.js';
import { PS_SORT_KEYS, psJson, type PsEntry } from '../../../engine/container-reports.js';
import { CliError } from '../../../errors.js';
import { psRow, psSize, psTemplateFields, PS_HEADERS, PS_NS_HEADERS, psNsRow } from '../../output/container.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';

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
  sort: string;
  ns?: boolean;
  pod?: boolean;
  watch?: string;
}

// Prints one listing in the form the flags ask for.
const printRows = (rows: PsEntry[], flags: PsFlags): unknown => {
  const noTrunc = flags.trunc === false;
  if (flags.quiet) {
    for (const row of rows) printLine(noTrunc ? row.record.id : row.record.id.slice(0, 12));
    return;
  }
  const format = parseFormat(flags.format);
  // (Podman's ps JSON is indented by 2.)
  if (format.kind === 'json') return printJson(rows.map(psJson), 2);
  if (format.kind === 'template')
    return printTemplate(
      format.template,
      rows.map((row) => psTemplateFields(row, noTrunc)),
    );
  // As Podman's: --ns shows the namespaces instead of the usual columns; --pod adds two empty ones (skiff has no pods).
  const table = rows.map((row) =>
    flags.ns ? psNsRow(row, noTrunc) : [...psRow(row, noTrunc), ...(flags.size ? [psSize(row)] : []), ...(flags.pod ? ['', ''] : [])],
  );
  const headers = flags.ns ? PS_NS_HEADERS : [...PS_HEADERS, ...(flags.size ? ['SIZE'] : []), ...(flags.pod ? ['POD ID', 'PODNAME'] : [])];
  printTable(headers, table, { noHeading: flags.noheading });
};

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
    .option('--sort <key>', `order by ${PS_SORT_KEYS.join(', ')}`, 'created')
    .option('--ns', "show the running containers' namespaces (CGROUPNS IPC MNT NET PIDNS USERNS UTS) instead of the usual columns")
    .option('--sync', 'accepted: skiff always reads the state fresh')
    .option('--external', 'accepted: skiff has no external containers (made by other tools in its storage) to show')
    .option('-p, --pod', 'accepted for scripts: skiff has no pods, the POD ID and PODNAME columns are empty')
    .option('-w, --watch <seconds>', 'print the list again every N seconds, until interrupted')
    .action(async (flags: PsFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      // Sizes read the writable layers, which the container's own ids own.
      if (flags.size || flags.sort === 'size') await engine.enterUserNamespace();
      const watch = flags.watch === undefined ? undefined : Number(flags.watch);
      if (watch !== undefined && !(Number.isInteger(watch) && watch > 0))
        throw new CliError('EUSAGE', `invalid --watch "${flags.watch}": use a whole number of seconds`);
      if (watch !== undefined && flags.latest) throw new CliError('EUSAGE', '--watch and --latest cannot be used together');
      const list = () =>
        engine.reports.ps({
          all: flags.all,
          filters: flags.filter,
          latest: flags.latest,
          last: flags.last === undefined ? undefined : Number(flags.last),
          size: flags.size,
          sort: flags.sort,
          namespaces: flags.ns,
        });
      if (watch === undefined) {
        printRows(list(), flags);
        return;
      }
      for (;;) {
        // As Podman's: the screen cleared and the cursor home before each round.
        process.stdout.write('\x1b[2J\x1b[1;1H');
        printRows(list(), flags);
        await new Promise((resolve) => setTimeout(resolve, watch * 1000));
      }
    });
