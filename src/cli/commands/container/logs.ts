// skiff logs [-f] [--tail N] [--since T] [--until T] [-t] [-n] [--color] CONTAINER...
import { Command } from 'commander';
import type { LogEntry } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { parseTime } from '../../../util/time.js';
import { openEngineFor } from '../../engine.js';

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps?: boolean;
  latest?: boolean;
  names?: boolean;
  color?: boolean;
}

// One colour per container (--color), in turn: cyan, yellow, green, magenta, blue, red.
const COLORS = [36, 33, 32, 35, 34, 31];

// A printer for one container's entries: with several containers each line starts with its short
// id (its name with --names), as Podman's; coloured per container with --color on a terminal.
const printerFor = (prefix: string, color: number | undefined) => {
  let atLineStart = true;
  return (entry: LogEntry, timestamps: boolean | undefined) => {
    const out = entry.stream === 'stderr' ? process.stderr : process.stdout;
    const head = atLineStart ? `${prefix}${timestamps ? `${entry.time} ` : ''}` : '';
    const text = `${head}${entry.text}`;
    out.write(color !== undefined && out.isTTY ? `\x1b[${color}m${text}\x1b[0m` : text);
    atLineStart = entry.text.endsWith('\n');
  };
};

export const build = (name = 'logs'): Command =>
  new Command(name)
    .description("Show containers' output")
    .argument('[container...]')
    .option('-f, --follow', 'keep printing new output until the containers stop')
    .option('-n, --names', 'with several containers: prefix lines with the container names instead of the ids')
    .option('--color', 'with several containers: a colour for each (on a terminal only)')
    .option('-l, --latest', 'the newest container')
    .option('--tail <lines>', 'only the last N lines (-1: all)')
    .option('--since <time>', 'only output since this time (timestamp, unix time or duration such as 10m)')
    .option('--until <time>', 'only output until this time')
    .option('-t, --timestamps', 'prefix each line with its time')
    .action(async (inputs: string[], flags: LogsFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const tail = flags.tail === undefined ? undefined : Number(flags.tail);
      if (tail !== undefined && !Number.isInteger(tail)) throw new CliError('EUSAGE', `invalid --tail "${flags.tail}": use a number of lines`);
      const since = flags.since ? parseTime(flags.since, '--since') : undefined;
      const until = flags.until ? parseTime(flags.until, '--until') : undefined;
      const targets = flags.latest || !inputs.length ? [engine.reports.one(inputs[0], flags.latest)] : inputs;
      if (flags.latest && inputs.length) throw new CliError('EUSAGE', '--latest takes no container name: give one or the other');
      // Every container is looked up first: one missing fails the command before any output.
      const records = targets.map((input) => engine.containers.find(input));
      const several = records.length > 1;
      const read = async (input: string, index: number) => {
        const r = records[index];
        const print = printerFor(several ? `${flags.names ? r.name : r.id.slice(0, 12)} ` : '', flags.color ? COLORS[index % COLORS.length] : undefined);
        for await (const entry of engine.logs.read(input, { tail, since, until, follow: flags.follow })) print(entry, flags.timestamps);
      };
      // Followed logs are read side by side (each until its container stops); else one after another.
      if (flags.follow) await Promise.all(records.map((r, i) => read(r.id, i)));
      else for (const [i, r] of records.entries()) await read(r.id, i);
    });
