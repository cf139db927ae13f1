// skiff stats [-a] [--no-stream] [--no-reset] [--format json|TEMPLATE] [--interval N] [CONTAINER...]
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';
import { printError } from '../../errors.js';
import { parseFormat, printJson, printTable, printTemplate } from '../../output/print.js';
import { writeOut } from '../../output/stdout.js';

interface StatsFlags {
  all?: boolean;
  stream: boolean;
  reset: boolean;
  format?: string;
  interval: string;
  latest?: boolean;
  trunc: boolean;
}

const HEADERS = ['ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET IO', 'BLOCK IO', 'PIDS', 'CPU TIME', 'AVG CPU %'];

export const build = (name = 'stats'): Command =>
  new Command(name)
    .description("Show running containers' resource use (CPU, memory, network and block I/O, PIDs) from their cgroups")
    .argument('[container...]')
    .option('-a, --all', 'every running container (the default without names)')
    .option('--no-stream', 'print one sample and exit')
    .option('--no-reset', 'do not clear the terminal between samples')
    .option('--format <format>', 'json or a Go template such as {{.Name}} {{.MemUsage}}')
    .option('-i, --interval <seconds>', 'seconds between samples', '5')
    .option('-l, --latest', 'the newest container')
    .option('--no-trunc', 'do not truncate ids')
    .action(async (names: string[], flags: StatsFlags, cmd: Command) => {
      const interval = Number(flags.interval);
      if (!(interval > 0)) throw new CliError('EUSAGE', `invalid --interval "${flags.interval}": use a number of seconds above 0`);
      // Cgroup and /proc files are read as they are: no user namespace to join (as `ps`).
      const engine = await openEngineFor(cmd);
      if (flags.latest && flags.all) throw new CliError('EUSAGE', '--all and --latest cannot be used together');
      const inputs = flags.latest ? [engine.reports.one(names.length ? names.join(' ') : undefined, true)] : names;
      const format = parseFormat(flags.format);
      const previous = new Map();
      for (;;) {
        const round = engine.stats(inputs, previous);
        const rows = flags.trunc ? round.rows : round.rows.map((r) => ({ ...r, ID: r.ContainerID }));
        const errors = round.errors;
        if (!rows.length && errors.length) throw errors[errors.length - 1];
        for (const error of errors) printError(error);
        if (flags.stream && flags.reset && process.stdout.isTTY) writeOut('\x1b[2J\x1b[H');
        if (format.kind === 'json')
          printJson(
            rows.map((r) => ({
              id: r.ID,
              name: r.Name,
              cpu_time: r.CPU,
              cpu_percent: r.CPUPerc,
              avg_cpu: r.AvgCPU,
              mem_usage: r.MemUsage,
              mem_percent: r.MemPerc,
              net_io: r.NetIO,
              block_io: r.BlockIO,
              pids: r.PIDs,
              raw: r.raw,
            })),
          );
        else if (format.kind === 'template') printTemplate(format.template, rows);
        else
          printTable(
            HEADERS,
            rows.map((r) => [r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs, r.CPU, r.AvgCPU]),
          );
        if (!flags.stream) return;
        await new Promise((resolve) => setTimeout(resolve, interval * 1000));
      }
    });
